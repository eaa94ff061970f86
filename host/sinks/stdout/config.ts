/** Settings of the stdout sink (none but its type). */
import { INVALID, rejectUnknownKeys } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';

/** A sink writing one JSON record per line on standard output. */
export interface StdoutSinkConfig {
  type: 'stdout';
}

/** Checks a `{type: stdout}` entry. */
export function checkStdoutSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): StdoutSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, ['type'], path, problems);
  return problems.length === before ? { type: 'stdout' } : INVALID;
}

/** Settings of the stdout sink (none but its type). */
import { INVALID, rejectUnknownKeys } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';
import { field, sinkNameChecker } from '../common/config.js';

/** A sink writing one JSON record per line on standard output. */
export interface StdoutSinkConfig {
  type: 'stdout';
  /** The sink's name in `routes:` (default stdout-INDEX). */
  name?: string;
}

/** Checks a `{type: stdout}` entry. */
export function checkStdoutSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): StdoutSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, ['type', 'name'], path, problems);
  const name = field(v, 'name', path, problems, sinkNameChecker, undefined);
  if (problems.length !== before || name === INVALID) return INVALID;
  return name === undefined ? { type: 'stdout' } : { type: 'stdout', name };
}

/** Settings of the file sink and their validation. */
import { int, INVALID, rejectUnknownKeys, text } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';
import { field, required, sinkNameChecker } from '../common/config.js';

/** A file sink writing one JSON record per line (flows.log). */
export interface FileSinkConfig {
  type: 'file';
  /** Path of the log file; rotated files are PATH.1 … PATH.N. */
  path: string;
  /** Rotate when the file would exceed this many MB (default 100). */
  maxFileSizeMB: number;
  /** Rotated files kept (default 5). */
  maxFiles: number;
  /** The sink's name in `routes:` (default file-INDEX). */
  name?: string;
}

/** Defaults of a file sink's rotation settings. */
export const FILE_SINK_DEFAULTS = { maxFileSizeMB: 100, maxFiles: 5 } as const;

const FILE_KEYS = ['type', 'name', 'path', 'maxFileSizeMB', 'maxFiles'];

/** Checks a `{type: file}` entry. */
export function checkFileSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): FileSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, FILE_KEYS, path, problems);
  const hasPath = required(v, 'path', path, problems, 'a file sink needs the path of its log file');
  const out = {
    type: 'file' as const,
    path: hasPath ? text(v.path, [...path, 'path'], problems) : INVALID,
    maxFileSizeMB: field(v, 'maxFileSizeMB', path, problems, int(1, 1_000_000), FILE_SINK_DEFAULTS.maxFileSizeMB),
    maxFiles: field(v, 'maxFiles', path, problems, int(1, 1000), FILE_SINK_DEFAULTS.maxFiles),
  };
  const name = field(v, 'name', path, problems, sinkNameChecker, undefined);
  if (name !== undefined && name !== INVALID) (out as FileSinkConfig).name = name;
  return problems.length === before ? (out as FileSinkConfig) : INVALID;
}

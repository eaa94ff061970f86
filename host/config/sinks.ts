/**
 * The `sinks` setting: a non-empty list of `{type: file, path, maxFileSizeMB?, maxFiles?}`
 * and `{type: stdout}` entries; omitted rotation settings get their defaults.
 */
import { INVALID, int, isMapping, rejectUnknownKeys, text, type Checker } from './fields.js';
import { describe } from './problems.js';
import type { SinkConfig } from './settings.js';

/** Defaults of a file sink's rotation settings. */
export const FILE_SINK_DEFAULTS = { maxFileSizeMB: 100, maxFiles: 5 } as const;

const FILE_KEYS = ['type', 'path', 'maxFileSizeMB', 'maxFiles'];
const STDOUT_KEYS = ['type'];
const maxFileSizeMB = int(1, 1_000_000);
const maxFiles = int(1, 1000);

/** Checks one sink entry. */
const sink: Checker<SinkConfig> = (v, path, problems) => {
  if (!isMapping(v)) {
    problems.push({ path, message: `found ${describe(v)}; expected a mapping such as {type: file, path: /var/log/procflow/flows.log} or {type: stdout}` });
    return INVALID;
  }
  const before = problems.length;
  if (v.type === 'stdout') {
    rejectUnknownKeys(v, STDOUT_KEYS, path, problems);
    return problems.length === before ? { type: 'stdout' } : INVALID;
  }
  if (v.type !== 'file') {
    problems.push({ path: [...path, 'type'], message: `found ${describe(v.type)}; expected file or stdout` });
    return INVALID;
  }
  rejectUnknownKeys(v, FILE_KEYS, path, problems);
  if (v.path === undefined) problems.push({ path: [...path, 'path'], message: 'missing; a file sink needs the path of its log file' });
  const out = {
    type: 'file' as const,
    path: v.path === undefined ? INVALID : text(v.path, [...path, 'path'], problems),
    maxFileSizeMB: v.maxFileSizeMB === undefined ? FILE_SINK_DEFAULTS.maxFileSizeMB : maxFileSizeMB(v.maxFileSizeMB, [...path, 'maxFileSizeMB'], problems),
    maxFiles: v.maxFiles === undefined ? FILE_SINK_DEFAULTS.maxFiles : maxFiles(v.maxFiles, [...path, 'maxFiles'], problems),
  };
  return problems.length === before ? (out as SinkConfig) : INVALID;
};

/** Checks the list of sinks. */
export const sinks: Checker<SinkConfig[]> = (v, path, problems) => {
  if (!Array.isArray(v) || v.length === 0) {
    problems.push({ path, message: `found ${Array.isArray(v) ? 'an empty list' : describe(v)}; expected a list of at least one sink ({type: file, path: …} or {type: stdout})` });
    return INVALID;
  }
  const out = v.map((entry, i) => sink(entry, [...path, i], problems));
  return out.some((s) => s === INVALID) ? INVALID : (out as SinkConfig[]);
};

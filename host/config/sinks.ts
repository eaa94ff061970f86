/**
 * The `sinks` setting: a non-empty list of sink entries, each checked by its
 * sink type's own checker (host/sinks/<type>/config.ts); omitted settings get
 * their defaults.
 */
import { checkElasticsearchSink } from '../sinks/elasticsearch/config.js';
import { checkFileSink } from '../sinks/file/config.js';
import { checkFluentForwardSink } from '../sinks/fluent-forward/config.js';
import { checkHttpSink } from '../sinks/http/config.js';
import { checkStdoutSink } from '../sinks/stdout/config.js';
import { checkSyslogSink } from '../sinks/syslog/config.js';
import { INVALID, isMapping, type Checker } from './fields.js';
import { describe, type ConfigProblem, type FieldPath } from './problems.js';
import type { SinkConfig } from './settings.js';

export { FILE_SINK_DEFAULTS } from '../sinks/file/config.js';

type EntryChecker = (v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]) => SinkConfig | typeof INVALID;

/** Every sink type and its checker. */
const TYPES: Record<string, EntryChecker> = {
  file: checkFileSink,
  stdout: checkStdoutSink,
  elasticsearch: checkElasticsearchSink,
  'fluent-forward': checkFluentForwardSink,
  http: checkHttpSink,
  syslog: checkSyslogSink,
};

/** The sink types, in documentation order. */
export const SINK_TYPES = Object.keys(TYPES);

/** Checks one sink entry. */
const sink: Checker<SinkConfig> = (v, path, problems) => {
  if (!isMapping(v)) {
    problems.push({ path, message: `found ${describe(v)}; expected a mapping such as {type: file, path: /var/log/procflow/flows.log} or {type: stdout}` });
    return INVALID;
  }
  const check = typeof v.type === 'string' && Object.hasOwn(TYPES, v.type) ? TYPES[v.type]! : undefined;
  if (!check) {
    problems.push({ path: [...path, 'type'], message: `found ${describe(v.type)}; expected one of ${SINK_TYPES.join(', ')}` });
    return INVALID;
  }
  return check(v, path, problems);
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

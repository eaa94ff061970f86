/** Settings of the http sink and their validation. */
import { bool, int, INVALID, isMapping, oneOf, rejectUnknownKeys, text, type Checker } from '../../config/fields.js';
import { describe, type ConfigProblem, type FieldPath } from '../../config/problems.js';
import { checkCommon, checkTls, COMMON_KEYS, field, required, url, type NetworkSinkCommon, type TlsConfig } from '../common/config.js';

/** POSTs batches of records to an HTTP endpoint. */
export interface HttpSinkConfig extends NetworkSinkCommon {
  type: 'http';
  /** Endpoint, e.g. https://collector.example/ingest. */
  url: string;
  /** `ndjson` (default): one JSON record per line; `msgpack`: one msgpack array of maps. */
  format: 'ndjson' | 'msgpack';
  /** Compress request bodies with gzip (Content-Encoding: gzip; default false). */
  gzip: boolean;
  /** Extra request headers. */
  headers: Record<string, string>;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken: string | undefined;
  /** Keep-alive connections (default 2). */
  connections: number;
  tls: TlsConfig | undefined;
}

const KEYS = [...COMMON_KEYS, 'url', 'format', 'gzip', 'headers', 'bearerToken', 'connections', 'tls'];

const headers: Checker<Record<string, string>> = (v, path, problems) => {
  if (isMapping(v) && Object.entries(v).every(([k, x]) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && typeof x === 'string')) return v as Record<string, string>;
  problems.push({ path, message: `found ${describe(v)}; expected a mapping of header names to string values, e.g. {X-Tenant: ops}` });
  return INVALID;
};

/** Checks a `{type: http}` entry. */
export function checkHttpSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): HttpSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, KEYS, path, problems);
  const common = checkCommon(v, path, problems);
  const hasUrl = required(v, 'url', path, problems, 'an http sink needs the endpoint URL, e.g. url: https://collector.example/ingest');
  const out = {
    type: 'http' as const,
    ...(common === INVALID ? {} : common),
    url: hasUrl ? url(['http', 'https'])(v.url, [...path, 'url'], problems) : INVALID,
    format: field(v, 'format', path, problems, oneOf(['ndjson', 'msgpack'] as const), 'ndjson'),
    gzip: field(v, 'gzip', path, problems, bool, false),
    headers: field(v, 'headers', path, problems, headers, {}),
    bearerToken: field(v, 'bearerToken', path, problems, text, undefined),
    connections: field(v, 'connections', path, problems, int(1, 256), 2),
    tls: checkTls(v.tls, [...path, 'tls'], problems),
  };
  return problems.length === before ? (out as HttpSinkConfig) : INVALID;
}

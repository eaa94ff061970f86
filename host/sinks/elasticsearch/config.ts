/** Settings of the elasticsearch sink and their validation. */
import { int, INVALID, rejectUnknownKeys, text } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';
import { checkCommon, checkTls, COMMON_KEYS, field, required, url, type NetworkSinkCommon, type TlsConfig } from '../common/config.js';

/** Ships records to Elasticsearch with the _bulk API. */
export interface ElasticsearchSinkConfig extends NetworkSinkCommon {
  type: 'elasticsearch';
  /** Base URL of the cluster (or of a proxy in front of it), e.g. https://es.example:9200. */
  url: string;
  /** Index name; %Y, %m, %d are replaced by the record's end_time date (UTC). Default `procflow-flows-%Y.%m.%d`. */
  index: string;
  /** API key (the base64 `encoded` value Elasticsearch returns), sent as `Authorization: ApiKey …`. */
  apiKey: string | undefined;
  /** Basic authentication (when no apiKey). */
  username: string | undefined;
  password: string | undefined;
  /** Keep-alive connections to the cluster (default 4). */
  connections: number;
  /** TLS (https URLs): custom CA, client certificate. */
  tls: TlsConfig | undefined;
}

/** The default index name pattern (matches the shipped index template's `procflow-flows-*`). */
export const DEFAULT_INDEX = 'procflow-flows-%Y.%m.%d';

const KEYS = [...COMMON_KEYS, 'url', 'index', 'apiKey', 'username', 'password', 'connections', 'tls'];

/** Checks a `{type: elasticsearch}` entry. */
export function checkElasticsearchSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): ElasticsearchSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, KEYS, path, problems);
  const common = checkCommon(v, path, problems);
  const hasUrl = required(v, 'url', path, problems, 'an elasticsearch sink needs the cluster URL, e.g. url: https://es.example:9200');
  const out = {
    type: 'elasticsearch' as const,
    ...(common === INVALID ? {} : common),
    url: hasUrl ? url(['http', 'https'])(v.url, [...path, 'url'], problems) : INVALID,
    index: field(v, 'index', path, problems, text, DEFAULT_INDEX),
    apiKey: field(v, 'apiKey', path, problems, text, undefined),
    username: field(v, 'username', path, problems, text, undefined),
    password: field(v, 'password', path, problems, text, undefined),
    connections: field(v, 'connections', path, problems, int(1, 256), 4),
    tls: checkTls(v.tls, [...path, 'tls'], problems),
  };
  if ((out.username === undefined) !== (out.password === undefined)) problems.push({ path, message: 'username and password go together (basic authentication): give both or neither' });
  if (out.apiKey !== undefined && out.username !== undefined) problems.push({ path, message: 'give apiKey or username/password, not both' });
  return problems.length === before ? (out as ElasticsearchSinkConfig) : INVALID;
}

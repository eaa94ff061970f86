/** Settings of the syslog sink and their validation. */
import { hostname } from 'node:os';
import { int, INVALID, oneOf, rejectUnknownKeys, text } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';
import { checkCommon, checkTls, COMMON_KEYS, field, required, type NetworkSinkCommon, type TlsConfig } from '../common/config.js';

/** Syslog facilities by name (RFC 5424 table 1). */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

/** Syslog severities by name. */
export const SEVERITIES = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

/** Sends each record as one RFC 5424 message to a syslog server or SIEM. */
export interface SyslogSinkConfig extends NetworkSinkCommon {
  type: 'syslog';
  /** Server address. */
  host: string;
  /** Server port (default 514; 6514 with tls). */
  port: number;
  /** `udp` (no acknowledgement: a lost datagram is not seen), `tcp` (octet-counted framing, RFC 6587) or `tls` (RFC 5425). Default tcp. */
  transport: 'udp' | 'tcp' | 'tls';
  /** Message body: `json` (the flows.log document plus its id) or `cef` (ArcSight Common Event Format). Default json. */
  format: 'json' | 'cef';
  facility: keyof typeof FACILITIES;
  severity: keyof typeof SEVERITIES;
  /** APP-NAME (default procflow). */
  appName: string;
  /** HOSTNAME of the messages (default: the machine's hostname). */
  hostname: string;
  tls: TlsConfig | undefined;
}

const KEYS = [...COMMON_KEYS, 'host', 'port', 'transport', 'format', 'facility', 'severity', 'appName', 'hostname', 'tls'];

/** Checks a `{type: syslog}` entry. */
export function checkSyslogSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): SyslogSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, KEYS, path, problems);
  const common = checkCommon(v, path, problems);
  const hasHost = required(v, 'host', path, problems, 'a syslog sink needs the server address, e.g. host: siem.example');
  const transport = field(v, 'transport', path, problems, oneOf(['udp', 'tcp', 'tls'] as const), 'tcp');
  const out = {
    type: 'syslog' as const,
    ...(common === INVALID ? {} : common),
    host: hasHost ? text(v.host, [...path, 'host'], problems) : INVALID,
    transport,
    port: field(v, 'port', path, problems, int(1, 65535), transport === 'tls' ? 6514 : 514),
    format: field(v, 'format', path, problems, oneOf(['json', 'cef'] as const), 'json'),
    facility: field(v, 'facility', path, problems, oneOf(Object.keys(FACILITIES) as (keyof typeof FACILITIES)[]), 'local0'),
    severity: field(v, 'severity', path, problems, oneOf(Object.keys(SEVERITIES) as (keyof typeof SEVERITIES)[]), 'info'),
    appName: field(v, 'appName', path, problems, text, 'procflow'),
    hostname: field(v, 'hostname', path, problems, text, hostname()),
    tls: checkTls(v.tls, [...path, 'tls'], problems),
  };
  return problems.length === before ? (out as SyslogSinkConfig) : INVALID;
}

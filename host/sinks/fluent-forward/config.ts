/** Settings of the fluent-forward sink and their validation. */
import { hostname } from 'node:os';
import { bool, duration, int, INVALID, oneOf, rejectUnknownKeys, text } from '../../config/fields.js';
import type { ConfigProblem, FieldPath } from '../../config/problems.js';
import { checkCommon, checkTls, COMMON_KEYS, field, required, type NetworkSinkCommon, type TlsConfig } from '../common/config.js';

/** Ships records to fluentd / fluent-bit with the Forward protocol v1. */
export interface FluentForwardSinkConfig extends NetworkSinkCommon {
  type: 'fluent-forward';
  /** Server address (in_forward). */
  host: string;
  /** Server port (default 24224). */
  port: number;
  /** Fluent tag of the events (default `procflow.flows`). */
  tag: string;
  /** `gzip` sends CompressedPackedForward; `none` (default) PackedForward. */
  compress: 'none' | 'gzip';
  /** Shared key of the server's `<security>` section: enables the HELO/PING/PONG handshake. */
  sharedKey: string | undefined;
  /** Name this client gives in the handshake (default: the machine's hostname). */
  selfHostname: string;
  /** User authentication of the handshake (`<user>` in the server's security section). */
  username: string | undefined;
  password: string | undefined;
  /** How long to wait for a chunk's ack before resending it (ms; default 30s). */
  ackTimeout: number;
  /** Connect with TLS (fluentd `<transport tls>`). */
  tls: TlsConfig | undefined;
  /** Set true to use TLS with the system CAs and no other tls setting. */
  tlsEnabled: boolean;
}

const KEYS = [...COMMON_KEYS, 'host', 'port', 'tag', 'compress', 'sharedKey', 'selfHostname', 'username', 'password', 'ackTimeout', 'tls', 'tlsEnabled'];

/** Checks a `{type: fluent-forward}` entry. */
export function checkFluentForwardSink(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): FluentForwardSinkConfig | typeof INVALID {
  const before = problems.length;
  rejectUnknownKeys(v, KEYS, path, problems);
  const common = checkCommon(v, path, problems);
  const hasHost = required(v, 'host', path, problems, 'a fluent-forward sink needs the address of fluentd\'s in_forward, e.g. host: fluentd.example');
  const out = {
    type: 'fluent-forward' as const,
    ...(common === INVALID ? {} : common),
    host: hasHost ? text(v.host, [...path, 'host'], problems) : INVALID,
    port: field(v, 'port', path, problems, int(1, 65535), 24224),
    tag: field(v, 'tag', path, problems, text, 'procflow.flows'),
    compress: field(v, 'compress', path, problems, oneOf(['none', 'gzip'] as const), 'none'),
    sharedKey: field(v, 'sharedKey', path, problems, text, undefined),
    selfHostname: field(v, 'selfHostname', path, problems, text, hostname()),
    username: field(v, 'username', path, problems, text, undefined),
    password: field(v, 'password', path, problems, text, undefined),
    ackTimeout: field(v, 'ackTimeout', path, problems, duration(100, 3_600_000), 30_000),
    tls: checkTls(v.tls, [...path, 'tls'], problems),
    tlsEnabled: field(v, 'tlsEnabled', path, problems, bool, false),
  };
  if ((out.username === undefined) !== (out.password === undefined)) problems.push({ path, message: 'username and password go together: give both or neither' });
  return problems.length === before ? (out as FluentForwardSinkConfig) : INVALID;
}

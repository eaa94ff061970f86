/**
 * Settings every network sink shares (batching, retry, flush timeout, spool,
 * TLS) and the checkers that validate them in the config file, with the same
 * operator-grade messages as the rest of the config (host/config/fields.ts).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { bool, duration, int, INVALID, isMapping, oneOf, rejectUnknownKeys, text, type Checker } from '../../config/fields.js';
import { describe, type ConfigProblem, type FieldPath } from '../../config/problems.js';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { SpoolFullPolicy } from '../../spool/spool.js';

/** The disk spool of a network sink. */
export interface SpoolConfig {
  /** Bound on the spool's size on disk, MB (default 512). */
  maxSizeMB: number;
  /** `block` holds the pipeline while the spool is full (default); `drop-oldest` drops the oldest records and counts them. */
  whenFull: SpoolFullPolicy;
  /** Directory of the spool (default: DATADIR/spool/NAME). */
  dir: string | undefined;
  /** fdatasync after each write (default true): records survive a power loss too, not only a crash of the agent. */
  fsync: boolean;
}

/** TLS settings of a network sink (PEM files). */
export interface TlsConfig {
  /** CA bundle that signs the server's certificate (default: the system CAs). */
  ca: string | undefined;
  /** Client certificate and key, for servers that require one. */
  cert: string | undefined;
  key: string | undefined;
  /** Name checked against the server's certificate (default: the host connected to). */
  serverName: string | undefined;
  /** Skip verification of the server's certificate (testing only; default false). */
  insecureSkipVerify: boolean;
}

/** Keys every network sink has. */
export interface NetworkSinkCommon {
  /** Names the sink's spool directory and dead-letter file (default TYPE-INDEX, e.g. elasticsearch-0); keep it stable across restarts. */
  name: string | undefined;
  /** Records per request at most (default 1000). */
  batchMaxRecords: number;
  /** Bytes per request at most, in KB (default 5120). */
  batchMaxKB: number;
  /** First retry delay (ms; default 500ms), doubled per failure with jitter up to retryMax (default 30s). */
  retryInitial: number;
  retryMax: number;
  /** Time given at shutdown to deliver what is queued (ms; default 10s); the rest stays in the spool. */
  flushTimeout: number;
  /** Per-request timeout (ms; default 30s). */
  timeout: number;
  spool: SpoolConfig;
}

export const COMMON_KEYS = ['type', 'name', 'batchMaxRecords', 'batchMaxKB', 'retryInitial', 'retryMax', 'flushTimeout', 'timeout', 'spool'] as const;
const SPOOL_KEYS = ['maxSizeMB', 'whenFull', 'dir', 'fsync'];
const TLS_KEYS = ['ca', 'cert', 'key', 'serverName', 'insecureSkipVerify'];

/** Defaults of the shared keys. */
export const COMMON_DEFAULTS = {
  batchMaxRecords: 1000, batchMaxKB: 5120, retryInitial: 500, retryMax: 30_000, flushTimeout: 10_000, timeout: 30_000,
  spool: { maxSizeMB: 512, whenFull: 'block' as SpoolFullPolicy, fsync: true },
};

/** Checks `v[key]` with `check`, or returns `fallback` when the key is absent. */
export function field<T>(v: Record<string, unknown>, key: string, path: FieldPath, problems: ConfigProblem[], check: Checker<T>, fallback: T): T | typeof INVALID {
  return v[key] === undefined || v[key] === null ? fallback : check(v[key], [...path, key], problems);
}

/** Reports a missing required key. */
export function required(v: Record<string, unknown>, key: string, path: FieldPath, problems: ConfigProblem[], what: string): boolean {
  if (v[key] !== undefined && v[key] !== null) return true;
  problems.push({ path: [...path, key], message: `missing; ${what}` });
  return false;
}

/** Checks the shared keys of a network sink entry. */
export function checkCommon(v: Record<string, unknown>, path: FieldPath, problems: ConfigProblem[]): NetworkSinkCommon | typeof INVALID {
  const before = problems.length;
  const spool = checkSpool(v.spool, [...path, 'spool'], problems);
  const out = {
    name: field(v, 'name', path, problems, sinkNameChecker, undefined),
    batchMaxRecords: field(v, 'batchMaxRecords', path, problems, int(1, 100_000), COMMON_DEFAULTS.batchMaxRecords),
    batchMaxKB: field(v, 'batchMaxKB', path, problems, int(1, 1_000_000), COMMON_DEFAULTS.batchMaxKB),
    retryInitial: field(v, 'retryInitial', path, problems, duration(1, 3_600_000), COMMON_DEFAULTS.retryInitial),
    retryMax: field(v, 'retryMax', path, problems, duration(1, 3_600_000), COMMON_DEFAULTS.retryMax),
    flushTimeout: field(v, 'flushTimeout', path, problems, duration(0, 3_600_000), COMMON_DEFAULTS.flushTimeout),
    timeout: field(v, 'timeout', path, problems, duration(100, 3_600_000), COMMON_DEFAULTS.timeout),
    spool,
  };
  return problems.length === before ? (out as NetworkSinkCommon) : INVALID;
}

/** A sink `name`: names its spool directory and is how `routes:` refers to the sink. */
export const sinkNameChecker: Checker<string> = (v, path, problems) => {
  if (typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v)) return v;
  problems.push({ path, message: `found ${describe(v)}; expected a name of 1 to 64 letters, digits, '.', '_' or '-' (it names the spool directory)` });
  return INVALID;
};

function checkSpool(v: unknown, path: FieldPath, problems: ConfigProblem[]): SpoolConfig | typeof INVALID {
  if (v === undefined || v === null) return { ...COMMON_DEFAULTS.spool, dir: undefined };
  if (!isMapping(v)) {
    problems.push({ path, message: `found ${describe(v)}; expected a mapping such as {maxSizeMB: 512, whenFull: block}` });
    return INVALID;
  }
  rejectUnknownKeys(v, SPOOL_KEYS, path, problems);
  return {
    maxSizeMB: field(v, 'maxSizeMB', path, problems, int(1, 10_000_000), COMMON_DEFAULTS.spool.maxSizeMB),
    whenFull: field(v, 'whenFull', path, problems, oneOf(['block', 'drop-oldest'] as const), COMMON_DEFAULTS.spool.whenFull),
    dir: field(v, 'dir', path, problems, text, undefined),
    fsync: field(v, 'fsync', path, problems, bool, COMMON_DEFAULTS.spool.fsync),
  } as SpoolConfig;
}

/** Checks an optional `tls:` mapping; undefined when absent. */
export function checkTls(v: unknown, path: FieldPath, problems: ConfigProblem[]): TlsConfig | undefined | typeof INVALID {
  if (v === undefined || v === null) return undefined;
  if (!isMapping(v)) {
    problems.push({ path, message: `found ${describe(v)}; expected a mapping such as {ca: /etc/procflow/ca.pem}` });
    return INVALID;
  }
  const before = problems.length;
  rejectUnknownKeys(v, TLS_KEYS, path, problems);
  const out = {
    ca: field(v, 'ca', path, problems, text, undefined),
    cert: field(v, 'cert', path, problems, text, undefined),
    key: field(v, 'key', path, problems, text, undefined),
    serverName: field(v, 'serverName', path, problems, text, undefined),
    insecureSkipVerify: field(v, 'insecureSkipVerify', path, problems, bool, false),
  };
  if ((out.cert === undefined) !== (out.key === undefined)) problems.push({ path, message: 'cert and key go together: give both (a client certificate) or neither' });
  return problems.length === before ? (out as TlsConfig) : INVALID;
}

/** A `host:port`-free checker for a URL with one of the given schemes. */
export function url(schemes: readonly string[]): Checker<string> {
  return (v, path, problems) => {
    if (typeof v === 'string') {
      try {
        const u = new URL(v);
        if (schemes.includes(u.protocol.slice(0, -1))) return v;
      } catch {
        /* reported below */
      }
    }
    problems.push({ path, message: `found ${describe(v)}; expected a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}` });
    return INVALID;
  };
}

/** Node TLS options from the settings; reads the PEM files (PROCFLOW_E_SINK_TLS when one cannot be read). */
export function tlsOptions(sink: string, tls: TlsConfig | undefined): ConnectionOptions {
  if (!tls) return {};
  const read = (field: 'ca' | 'cert' | 'key') => {
    const p = tls[field];
    if (p === undefined) return undefined;
    try {
      return readFileSync(p);
    } catch (err) {
      throw new ProcflowError(ERRORS.SINK_TLS, { sink, path: p, field, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
    }
  };
  const out: ConnectionOptions = { rejectUnauthorized: !tls.insecureSkipVerify };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  if (tls.serverName) out.servername = tls.serverName;
  return out;
}

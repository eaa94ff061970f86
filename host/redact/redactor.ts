/**
 * The argument redaction of the host: the same rules as the built-in
 * redact-args plugin (both compile host/redact/core/rules.ts), used by
 * `procflow trace --redact`, the process lookups handed to plugins, and the
 * plain-TypeScript side of the benchmark. docs/redaction.md describes the rules.
 */
import { createHmac } from 'node:crypto';
import type { FlowRecord } from '../flows/record.js';
import { Hasher, MODE_DROP_ARGS, MODE_HASH, MODE_MASK, Policy, Redactor, RULE_COUNT, RULE_NAMES } from './core/rules.js';

export { Redactor, SUMMARY_PREFIX, RULE_NAMES } from './core/rules.js';

/** The default replacement of a secret. */
export const REDACTED = '[REDACTED]';

/** Replacement modes (the plugin's `mode` config value). */
export type RedactMode = 'mask' | 'hash' | 'drop-args';

/** How a redactor masks. */
export interface RedactOptions {
  /** mask (default): the secret becomes `replacement`; hash: `[HMAC:<16 hex>]`; drop-args: a list with a secret becomes `[replacement]`. */
  mode?: RedactMode;
  /** Written in place of a secret (default `[REDACTED]`). */
  replacement?: string;
  /** HMAC-SHA256 key for hash mode. */
  hmacKey?: Uint8Array;
  /** The masking policy as JSON (what the host passes the plugin as its `policy` config value). */
  policy?: string;
}

class NodeHasher extends Hasher {
  constructor(private readonly key: Uint8Array) {
    super();
  }
  override hex16(secret: string): string {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest('hex').slice(0, 16);
  }
}

/** A redactor with these options (counters start at zero). */
export function createRedactor(opts: RedactOptions = {}): Redactor {
  const mode = opts.mode === 'hash' ? MODE_HASH : opts.mode === 'drop-args' ? MODE_DROP_ARGS : MODE_MASK;
  if (mode === MODE_HASH && (!opts.hmacKey || opts.hmacKey.length < 16)) throw new Error('hash mode needs an HMAC key of at least 16 bytes');
  const policy = Policy.parse(opts.policy ?? '');
  if (!policy.ok) throw new Error('policy: not valid JSON');
  return new Redactor(mode, opts.replacement ?? REDACTED, new NodeHasher(opts.hmacKey ?? new Uint8Array(0)), policy);
}

/** A redactor from the plugin's config map (mode, replacement, hmacKey as hex, policy), as the plugin reads it. */
export function redactorFromConfig(config: Record<string, string>): Redactor {
  return createRedactor({
    mode: (config.mode ?? 'mask') as RedactMode,
    replacement: config.replacement,
    hmacKey: config.hmacKey ? Buffer.from(config.hmacKey, 'hex') : undefined,
    policy: config.policy,
  });
}

/** The counters of a redactor by rule name (non-zero only); does not reset them. */
export function redactionCounts(r: Redactor): Record<string, number> {
  const names = RULE_NAMES.split(',');
  const out: Record<string, number> = {};
  for (let i = 0; i < RULE_COUNT; i++) if (r.counts[i] > 0) out[names[i]] = r.counts[i];
  return out;
}

/** Redacts the argument lists of flows as the redact-args plugin does; returns new records where something changed. */
export function redactFlows(flows: readonly FlowRecord[], r: Redactor): FlowRecord[] {
  return flows.map((f) => {
    let changed = false;
    const lists = f.process_args.map((a) => {
      const m = r.redactList(f.process_name, a);
      if (m !== a) changed = true;
      return m;
    });
    return changed ? { ...f, process_args: lists } : f;
  });
}

let defaultRedactor: Redactor | undefined;

/** Redacts an argv (argv[0] included, it names the tool) with the default rules; returns a new array and how many values were masked. */
export function redactArgv(argv: readonly string[], r?: Redactor): { argv: string[]; masked: number } {
  const red = r ?? (defaultRedactor ??= createRedactor());
  if (argv.length === 0) return { argv: [], masked: 0 };
  const before = red.total();
  const rest = red.redactList(argv[0], argv.slice(1));
  const masked = red.total() - before;
  if (!r) red.counts.fill(0); // the shared default redactor keeps no counts
  return { argv: [argv[0], ...rest], masked };
}

/**
 * Getting the built-in redactor ready for a plugin chain: on by default (the
 * only off switch is `plugins.defaultRedaction: false`), its policy handed over
 * as JSON, and for `mode: hash` the per-installation HMAC key read from its
 * 0600 file (created on first use). The key goes only into the plugin's config;
 * nothing here logs it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import type { PluginEntry, PluginsConfig } from '../plugins/config.js';
import { policyJson } from './policy.js';

/** The path of the built-in redactor. */
export const REDACT_ARGS_PATH = 'builtin:redact-args';
/** Default HMAC key file, under dataDir. */
export const HMAC_KEY_FILE = 'redact-hmac.key';

/** Whether an entry is the built-in redactor. */
export function isRedactArgs(e: PluginEntry): boolean {
  return e.path === REDACT_ARGS_PATH;
}

/**
 * The chain with `builtin:redact-args` first when it has no redact-args entry
 * and the operator did not set `defaultRedaction: false`.
 */
export function withDefaultRedaction(plugins: PluginsConfig | undefined): PluginsConfig {
  const cfg: PluginsConfig = plugins ?? { chain: [] };
  if (cfg.defaultRedaction === false || cfg.chain.some(isRedactArgs)) return cfg;
  let name = 'redact-args';
  for (let i = 2; cfg.chain.some((e) => e.name === name); i++) name = `redact-args-${i}`;
  return { ...cfg, chain: [{ name, stage: 'redactor', path: REDACT_ARGS_PATH }, ...cfg.chain] };
}

/**
 * Reads the HMAC key file, creating it (32 random bytes, mode 0600) when absent.
 * Refuses a key shorter than 16 bytes or a file others can read.
 */
export function loadHmacKey(path: string): Buffer {
  const err = (reason: string, fix: string) => new ProcflowError(ERRORS.REDACT_KEY, { path, reason, fix });
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw err(code ?? String(e), 'Create its directory (dataDir) or point config.hmacKeyFile at a writable place.');
  }
  let key: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      if ((fstatSync(fd).mode & 0o077) !== 0) throw err('readable by group or others', `Run chmod 600 ${path}.`);
      key = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof ProcflowError) throw e;
    throw err((e as NodeJS.ErrnoException).code ?? String(e), 'Check that the agent can read the file.');
  }
  if (key.length < 16) throw err(`${key.length} bytes, fewer than 16`, `Remove it to have a new 32-byte key created, or write one: head -c 32 /dev/urandom > ${path}; chmod 600 ${path}.`);
  return key;
}

/**
 * The chain as the plugin host loads it: each redact-args entry gets its policy
 * (as the `policy` config value) and, in hash mode, the key (`hmacKey`, hex).
 * Keeps the input untouched.
 */
export function prepareRedaction(plugins: PluginsConfig, dataDir: string): PluginsConfig {
  const keys = new Map<string, string>();
  const prepare = (c: Record<string, string>, e: PluginEntry): Record<string, string> => {
    const out = { ...c };
    if (e.policy) out.policy = policyJson(e.policy);
    if (out.mode === 'hash') {
      const path = out.hmacKeyFile ?? join(dataDir, HMAC_KEY_FILE);
      if (!keys.has(path)) keys.set(path, loadHmacKey(path).toString('hex'));
      out.hmacKey = keys.get(path)!;
    }
    return out;
  };
  return {
    ...plugins,
    chain: plugins.chain.map((e) => {
      if (!isRedactArgs(e)) return e;
      const base = e.config ?? {};
      const tenants = e.tenants && Object.fromEntries(Object.entries(e.tenants).map(([t, over]) => [t, prepare({ ...base, ...over }, e)]));
      const config = prepare(base, e);
      return { ...e, ...(e.config || Object.keys(config).length > 0 ? { config } : {}), ...(tenants ? { tenants } : {}) };
    }),
  };
}

/** One line for the agent's log: which redactor runs, in which mode, with or without a policy (never the key). */
export function describeRedaction(plugins: PluginsConfig | undefined): string {
  const entries = (plugins?.chain ?? []).filter((e) => e.stage === 'redactor');
  if (entries.length === 0) return plugins?.defaultRedaction === false ? 'argument redaction is OFF (plugins.defaultRedaction: false): process_args are shipped as captured' : 'no redactor in the plugin chain';
  return `argument redaction: ${entries.map((e) => isRedactArgs(e) ? `${e.name} (${REDACT_ARGS_PATH}, mode ${e.config?.mode ?? 'mask'}${e.policy ? ', with a masking policy' : ''})` : `${e.name} (${e.path})`).join(', then ')}`;
}

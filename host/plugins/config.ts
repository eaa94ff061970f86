/**
 * The `plugins:` section of procflow's YAML (mounted by the config loader).
 * Example:
 *
 *   plugins:
 *     workers: 1
 *     chain:
 *       - name: mask-args
 *         stage: redactor
 *         path: /etc/procflow/plugins/mask-args.wasm
 *         sha256: 3f1c…            # required for every plugin that is not built in
 *         config: { mode: strict }
 *         tenants:                 # optional: per-tenant config overrides
 *           team-a: { mode: lenient }
 *       - name: ndjson
 *         stage: formatter
 *         path: builtin:calico-json
 */
import { ERRORS, ProcflowError } from '../errors.js';
import { GRANTS, type Grant, type Stage } from './wit-check.js';
import { validateRedactArgsConfig, validateRedactPolicy, type RedactPolicy } from '../redact/policy.js';

/** What a failing redactor does: replace the batch's arguments by a marker, or drop its flows. */
export type RedactorFailure = 'mask' | 'drop';

/** One plugin of the chain. */
export interface PluginEntry {
  /** Name in logs and counters; unique in the chain. */
  name: string;
  /** The world the component implements: enricher, redactor or formatter. */
  stage: Stage;
  /** Path of the component (`.wasm`), or `builtin:NAME` for a plugin shipped with procflow. */
  path: string;
  /** sha256 (hex) the file must have; required unless `path` is `builtin:`. */
  sha256?: string;
  /** The plugin's own settings, returned by the host world's `config()`. */
  config?: Record<string, string>;
  /** Per-tenant overrides of `config`; tenants whose effective config is equal share one instance. */
  tenants?: Record<string, Record<string, string>>;
  /** Deadline of one call, ms (default 250). On timeout the worker is terminated and respawned. */
  timeoutMs?: number;
  /** Cap on the instance's linear memory, MiB (default 64). */
  memoryMiB?: number;
  /**
   * Keep one spare instance of this component per worker, built in idle time, so the
   * next instantiation (after a trap, or another tenant's config) binds it at once
   * instead of taking 10–30 ms (componentize-js). Costs one more instance's memory per
   * worker. Default true.
   */
  spare?: boolean;
  /** Redactors only: `mask` (default) replaces a failed batch's arguments by `maskMarker`; `drop` drops its flows. */
  onFailure?: RedactorFailure;
  /** WASI capabilities granted to this plugin (`clocks`, `random`); none by default. */
  grants?: Grant[];
  /** Send the host's process lookups (get-process, process-chain, flow-process) with each batch. Default: true for enrichers. */
  lookups?: boolean;
  /**
   * Redactors only: the plugin's result for a flow depends on the flow's process alone
   * (process_name and process_args; process_id too when `lookups` is on). The host then
   * sends the plugin one flow per process it does not know (id and process fields only),
   * and applies the result to that process's other flows and, from its second sight on,
   * to later batches (host/plugins/process-memo.ts: at most 8192 processes and 8 Mi chars
   * per instance; a reload starts afresh): redaction costs per process, not per connection.
   * Default true for `builtin:redact-args` (its rules read nothing else), false for others.
   */
  perProcess?: boolean;
  /** `builtin:redact-args` only: its masking policy (docs/redaction.md), handed to the plugin as JSON. */
  policy?: RedactPolicy;
}

/** The `plugins:` section. */
export interface PluginsConfig {
  /** Worker threads running plugins (default 1). */
  workers?: number;
  /** Where transpiled components are cached by sha256 (default `.cache/plugins/transpiled` in the package). */
  cacheDir?: string;
  /** Written in place of every argument list of a batch whose redactor failed (default `[REDACTED: redactor failed]`). */
  maskMarker?: string;
  /** Flows per plugin call (default 1000): batches are split into calls of at most this many. */
  batchSize?: number;
  /**
   * Text per plugin call, bytes (default 131072): a batch is also split so that the
   * argument lists and process names of one call's flows (plus 512 per flow for the
   * other fields) stay under this. Argument text is what plugins spend memory and
   * time on; without this bound, 1000 flows of 4 KiB arguments exceed the default
   * 250 ms deadline and 64 MiB cap of the built-in redactor, and the batch fails closed.
   */
  batchBytes?: number;
  /** The plugins, in the order they run. At most one formatter, and it runs last. */
  chain: PluginEntry[];
  /**
   * `builtin:redact-args` runs first in every chain that has no redact-args entry of its own
   * (default true). `false` is the only way to run without argument redaction.
   */
  defaultRedaction?: boolean;
}

/** Defaults of the per-plugin limits. */
export const PLUGIN_DEFAULTS = { timeoutMs: 250, memoryMiB: 64, workers: 1, batchSize: 1000, batchBytes: 131_072, maskMarker: '[REDACTED: redactor failed]' } as const;

/** Whether a redactor entry runs once per process (`perProcess`, default true for builtin:redact-args only). */
export function perProcessOf(entry: PluginEntry): boolean {
  return entry.stage === 'redactor' && (entry.perProcess ?? entry.path === 'builtin:redact-args');
}

function fail(field: string, reason: string, fix: string): never {
  throw new ProcflowError(ERRORS.PLUGIN_CONFIG, { field, reason, fix });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, field: string): Record<string, string> {
  if (!isObject(v)) fail(field, `expected a map of strings, got ${JSON.stringify(v)}`, `Write it as key: value pairs, e.g. ${field}: { mode: strict }.`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
    else if (typeof x === 'string') out[k] = x;
    else fail(`${field}.${k}`, `expected a string, number or boolean, got ${JSON.stringify(x)}`, 'Plugin config values are scalars; encode structures as a string (e.g. JSON).');
  }
  return out;
}

function positiveInt(v: unknown, field: string, max: number, example: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) fail(field, `expected an integer between 1 and ${max}, got ${JSON.stringify(v)}`, `For example ${field.split('.').pop()}: ${example}.`);
  return v;
}

const ENTRY_KEYS = new Set(['name', 'stage', 'path', 'sha256', 'config', 'tenants', 'timeoutMs', 'memoryMiB', 'spare', 'onFailure', 'grants', 'lookups', 'policy', 'perProcess']);
const TOP_KEYS = new Set(['workers', 'cacheDir', 'maskMarker', 'batchSize', 'batchBytes', 'chain', 'defaultRedaction']);

/** Validates a raw `plugins:` value (parsed YAML); throws PROCFLOW_E_PLUGIN_CONFIG naming the field path and the fix. */
export function validatePluginsConfig(raw: unknown, at = 'plugins'): PluginsConfig {
  if (raw === undefined || raw === null) return { chain: [] };
  if (!isObject(raw)) fail(at, `expected a map, got ${JSON.stringify(raw)}`, 'See docs/plugins.md for the plugins: section.');
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) fail(`${at}.${k}`, 'unknown setting', `Known settings: ${[...TOP_KEYS].join(', ')}.`);
  const out: PluginsConfig = { chain: [] };
  if (raw.workers !== undefined) out.workers = positiveInt(raw.workers, `${at}.workers`, 64, '2');
  if (raw.batchSize !== undefined) out.batchSize = positiveInt(raw.batchSize, `${at}.batchSize`, 100_000, '1000');
  if (raw.batchBytes !== undefined) out.batchBytes = positiveInt(raw.batchBytes, `${at}.batchBytes`, 64 * 1048576, '131072');
  if (raw.cacheDir !== undefined) {
    if (typeof raw.cacheDir !== 'string' || raw.cacheDir === '') fail(`${at}.cacheDir`, 'expected a directory path', 'For example cacheDir: /var/cache/procflow/plugins.');
    out.cacheDir = raw.cacheDir;
  }
  if (raw.defaultRedaction !== undefined) {
    if (typeof raw.defaultRedaction !== 'boolean') fail(`${at}.defaultRedaction`, `expected true or false, got ${JSON.stringify(raw.defaultRedaction)}`, 'defaultRedaction: false runs without argument redaction; leave it out to keep it on.');
    out.defaultRedaction = raw.defaultRedaction;
  }
  if (raw.maskMarker !== undefined) {
    if (typeof raw.maskMarker !== 'string') fail(`${at}.maskMarker`, 'expected a string', 'For example maskMarker: "[REDACTED]".');
    out.maskMarker = raw.maskMarker;
  }
  const chain = raw.chain ?? [];
  if (!Array.isArray(chain)) fail(`${at}.chain`, 'expected a list of plugins', 'Write each plugin as a list item (- name: …).');
  const names = new Set<string>();
  chain.forEach((e: unknown, i: number) => {
    const f = `${at}.chain[${i}]`;
    if (!isObject(e)) fail(f, 'expected a map', 'Each plugin needs at least name, stage and path.');
    for (const k of Object.keys(e)) if (!ENTRY_KEYS.has(k)) fail(`${f}.${k}`, 'unknown setting', `Known settings: ${[...ENTRY_KEYS].join(', ')}.`);
    if (typeof e.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(e.name)) fail(`${f}.name`, `expected a name of letters, digits, ".", "_" or "-", got ${JSON.stringify(e.name)}`, 'For example name: mask-args.');
    if (names.has(e.name)) fail(`${f}.name`, `"${e.name}" is used twice`, 'Give each plugin a unique name.');
    names.add(e.name);
    if (e.stage !== 'enricher' && e.stage !== 'redactor' && e.stage !== 'formatter') fail(`${f}.stage`, `expected enricher, redactor or formatter, got ${JSON.stringify(e.stage)}`, 'Use the world the plugin was built for.');
    if (typeof e.path !== 'string' || e.path === '') fail(`${f}.path`, 'expected the path of a .wasm component or builtin:NAME', 'Build one with `procflow plugin build DIR` and give its path.');
    const entry: PluginEntry = { name: e.name, stage: e.stage, path: e.path };
    if (e.sha256 !== undefined) {
      if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(e.sha256)) fail(`${f}.sha256`, 'expected 64 hex digits', 'Compute it with `sha256sum FILE.wasm`.');
      entry.sha256 = e.sha256.toLowerCase();
    } else if (!e.path.startsWith('builtin:')) {
      fail(`${f}.sha256`, 'missing: every plugin that is not built in must be pinned', 'Add sha256: <output of `sha256sum FILE.wasm`>.');
    }
    if (e.config !== undefined) entry.config = stringMap(e.config, `${f}.config`);
    if (e.tenants !== undefined) {
      if (!isObject(e.tenants)) fail(`${f}.tenants`, 'expected a map of tenant → config overrides', 'For example tenants: { team-a: { mode: lenient } }.');
      entry.tenants = Object.fromEntries(Object.entries(e.tenants).map(([t, c]) => [t, stringMap(c, `${f}.tenants.${t}`)]));
    }
    if (e.timeoutMs !== undefined) entry.timeoutMs = positiveInt(e.timeoutMs, `${f}.timeoutMs`, 60_000, '250');
    if (e.memoryMiB !== undefined) entry.memoryMiB = positiveInt(e.memoryMiB, `${f}.memoryMiB`, 4096, '64');
    if (e.onFailure !== undefined) {
      if (e.stage !== 'redactor') fail(`${f}.onFailure`, `only redactors have a choice (a failing ${e.stage} ${e.stage === 'enricher' ? 'passes the batch through' : 'falls back to the built-in JSON format'})`, 'Remove onFailure from this entry.');
      if (e.onFailure !== 'mask' && e.onFailure !== 'drop') fail(`${f}.onFailure`, `expected mask or drop, got ${JSON.stringify(e.onFailure)}`, 'mask replaces the arguments by a marker; drop drops the flows (both counted).');
      entry.onFailure = e.onFailure;
    }
    if (e.grants !== undefined) {
      if (!Array.isArray(e.grants) || e.grants.some((g) => typeof g !== 'string' || !(g in GRANTS))) fail(`${f}.grants`, `expected a list of ${Object.keys(GRANTS).join(', ')}`, 'Grant only what the plugin needs; filesystem and network cannot be granted.');
      entry.grants = e.grants as Grant[];
    }
    if (e.path === 'builtin:redact-args') {
      if (entry.config) validateRedactArgsConfig(entry.config, `${f}.config`);
      for (const [t, c] of Object.entries(entry.tenants ?? {})) validateRedactArgsConfig(c, `${f}.tenants.${t}`);
    }
    if (e.policy !== undefined) {
      if (e.path !== 'builtin:redact-args') fail(`${f}.policy`, 'only builtin:redact-args reads a masking policy', 'Move the policy to a builtin:redact-args entry, or give your plugin its settings in config:.');
      entry.policy = validateRedactPolicy(e.policy, `${f}.policy`);
    }
    if (e.spare !== undefined) {
      if (typeof e.spare !== 'boolean') fail(`${f}.spare`, 'expected true or false', 'spare: false saves one instance\'s memory per worker; re-instantiation then takes the full time.');
      entry.spare = e.spare;
    }
    if (e.lookups !== undefined) {
      if (typeof e.lookups !== 'boolean') fail(`${f}.lookups`, 'expected true or false', 'lookups: true sends process lookups with each batch.');
      entry.lookups = e.lookups;
    }
    if (e.perProcess !== undefined) {
      if (e.stage !== 'redactor') fail(`${f}.perProcess`, `only redactors are run once per process (a ${e.stage} sees every flow)`, 'Remove perProcess from this entry.');
      if (typeof e.perProcess !== 'boolean') fail(`${f}.perProcess`, `expected true or false, got ${JSON.stringify(e.perProcess)}`, 'perProcess: true when the redactor reads nothing but the process fields; false sends it every flow.');
      entry.perProcess = e.perProcess;
    }
    out.chain.push(entry);
  });
  const formatters = out.chain.map((e, i) => [e, i] as const).filter(([e]) => e.stage === 'formatter');
  if (formatters.length > 1) fail(`${at}.chain[${formatters[1][1]}]`, 'a second formatter', 'Keep one formatter per chain.');
  if (formatters.length === 1 && formatters[0][1] !== out.chain.length - 1) fail(`${at}.chain[${formatters[0][1]}]`, 'the formatter is not last', 'Move the formatter to the end of the chain: it turns flows into output items.');
  return out;
}

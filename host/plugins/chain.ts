/**
 * The plugin chain stage of the pipeline: flows from the flow table pass
 * through the configured enrichers and redactors in order, then the formatter
 * (or the built-in JSON format) turns each into one output item. Every flow
 * that goes in comes out, unless a redactor's `drop` policy drops it — and
 * that is counted.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ERRORS, ProcflowError, type ErrorSpec } from '../errors.js';
import type { FlowRecord } from '../flows/record.js';
import { BatchEncoder, builtinJsonItem, decodeBatch } from './codec.js';
import { perProcessOf, PLUGIN_DEFAULTS, type PluginEntry, type PluginsConfig } from './config.js';
import { loadPlugin, type BuiltinResolver, type LoadedPlugin } from './loader.js';
import { applyEnrichment, applyRedaction, MalformedOutput, maskArgs, splitItems } from './policy.js';
import { PluginPool, type CallResult, type InstanceInfo } from './pool.js';
import { fillPlan, knownFlow, ProcessMemo, processOnly, type MemoPlan } from './process-memo.js';
import { SUMMARY_PREFIX } from '../redact/core/rules.js';
import type { FailureKind, LookupContext, StageFn } from './protocol.js';

/** A process as the host's process cache knows it (for the host world's lookups). */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
  args: string[];
  /** cgroup v2 path relative to the cgroup2 root; '' (or absent) when unknown. */
  cgroup?: string;
  /** Real uid; 0 when absent. */
  uid?: number;
}

/** Read-only access to the host's process cache. */
export interface ProcessLookup {
  get(pid: number): ProcessInfo | undefined;
}

/** Counters of one plugin (kept across reloads). */
export interface StageCounters {
  calls: number;
  flowsIn: number;
  flowsOut: number;
  failures: Record<FailureKind, number>;
  /** Enricher failures: flows passed through unchanged. */
  flowsPassedThrough: number;
  /** Redactor failures with `mask`: flows whose arguments were replaced by the marker. */
  flowsMasked: number;
  /** Redactor failures with `drop`: flows dropped. */
  flowsDropped: number;
  /** Formatter failures: flows written in the built-in JSON format instead. */
  flowsFallbackFormatted: number;
  /** Instantiation time of the last instance, ms. */
  lastInstantiateMs: number;
  /**
   * Redactors: values masked per rule, from the plugin's `redact-summary` log lines (counts only, never values).
   * A `perProcess` redactor counts what it masked in the calls it got: a process's secrets once per call holding it, not per flow.
   */
  redactions: Record<string, number>;
  /** `perProcess` redactors: flows redacted from a remembered result (or as a repeat of a process in the same call), not sent to the plugin. */
  flowsFromCache: number;
}

/** What the chain hands to the router: flows and their items, index for index. */
export interface ChainResult {
  flows: FlowRecord[];
  /**
   * One encoded item per flow (items[i] is flows[i]'s, keyed by flows[i].id in
   * the spool) when the chain ends in a formatter; empty when it has none (the
   * sinks encode the records themselves).
   */
  items: Uint8Array[];
  /** True when `items` are a formatter's (or the built-in JSON after it failed). */
  formatted: boolean;
  /** MIME type of the items ('' without a formatter). */
  contentType: string;
  /**
   * Only when the items are not all of `contentType` (the formatter failed on
   * some part of the batch, whose items are the built-in JSON): consecutive
   * runs of items as [content type, count].
   */
  runs?: [string, number][];
  /** Flows dropped by a redactor's `drop` policy in this batch. */
  dropped: number;
}

/** Chain settings beyond the YAML. */
export interface ChainOptions {
  log: Logger;
  lookup?: ProcessLookup;
  resolveBuiltin?: BuiltinResolver;
  /**
   * Run consecutive redactors and a formatter in one worker call (default
   * true); false calls each stage on its own (the benchmark's and tests'
   * comparison: the results are the same).
   */
  fuse?: boolean;
}

interface Instance {
  key: string;
  info: InstanceInfo;
  /** A `perProcess` redactor's remembered results (this instance's config only; a reload starts afresh). */
  memo?: ProcessMemo;
}

/** A batch on its way through the stages (becomes the ChainResult once it has items). */
interface Settled {
  flows: FlowRecord[];
  dropped: number;
  items?: Uint8Array[];
  contentType?: string;
  /** Stage failures so far in this batch. */
  failed?: number;
}

interface StageRuntime {
  entry: PluginEntry;
  loaded: LoadedPlugin;
  /** Instances by effective-config hash; tenants with equal config share one. */
  instances: Map<string, Instance>;
  /** Tenant → config hash. */
  tenantConfig: Map<string, string>;
  defaultConfig: string;
}

interface Generation {
  stages: StageRuntime[];
  inflight: number;
  retired: boolean;
}

const STAGE_FN: Record<PluginEntry['stage'], StageFn> = { enricher: 'enrich', redactor: 'redact', formatter: 'format' };
const FAILURE_ERROR: Record<FailureKind, ErrorSpec> = {
  timeout: ERRORS.PLUGIN_TIMEOUT,
  trap: ERRORS.PLUGIN_TRAP,
  crash: ERRORS.PLUGIN_TRAP,
  memory: ERRORS.PLUGIN_MEMORY,
  error: ERRORS.PLUGIN_FAILED,
  malformed: ERRORS.PLUGIN_MALFORMED,
};

function newCounters(): StageCounters {
  return {
    calls: 0, flowsIn: 0, flowsOut: 0,
    failures: { timeout: 0, trap: 0, memory: 0, error: 0, malformed: 0, crash: 0 },
    flowsPassedThrough: 0, flowsMasked: 0, flowsDropped: 0, flowsFallbackFormatted: 0, lastInstantiateMs: 0, redactions: {}, flowsFromCache: 0,
  };
}

function configHash(c: Record<string, string>): string {
  const sorted = Object.keys(c).sort().map((k) => [k, c[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

let generationSeq = 0;

function finished(b: Settled): ChainResult {
  return { flows: b.flows, items: b.items!, formatted: true, contentType: b.contentType!, dropped: b.dropped };
}

/** What a flow weighs for `batchBytes`: its argument text and process name, plus 512 for the rest. */
function flowWeight(f: FlowRecord): number {
  let n = 512 + f.process_name.length;
  for (const argv of f.process_args) for (const a of argv) n += a.length + 1;
  return n;
}

/** Splits flows into consecutive parts of at most `size` flows and `bytes` of weight (a heavier flow goes alone). */
export function splitBatch(flows: FlowRecord[], size: number, bytes: number): FlowRecord[][] {
  const parts: FlowRecord[][] = [];
  let start = 0;
  let weight = 0;
  for (let i = 0; i < flows.length; i++) {
    const w = flowWeight(flows[i]);
    if (i > start && (i - start >= size || weight + w > bytes)) {
      parts.push(flows.slice(start, i));
      start = i;
      weight = 0;
    }
    weight += w;
  }
  if (start < flows.length) parts.push(start === 0 ? flows : flows.slice(start));
  return parts;
}

/** The plugin chain: loads plugins into a worker pool, runs batches through them, reloads between batches. */
export class PluginChain {
  private gen: Generation;
  private readonly counters = new Map<string, StageCounters>();
  private readonly keyNames = new Map<string, string>();
  /** Idle batch encoders (one per batch in flight: batches of different tenants may interleave). */
  private readonly encoders: BatchEncoder[] = [];
  /** Instance keys of redactors (whose `redact-summary` lines are counters). */
  private readonly redactorKeys = new Set<string>();

  private constructor(
    private readonly pool: PluginPool,
    private cfg: PluginsConfig,
    private readonly opts: ChainOptions,
  ) {
    this.gen = { stages: [], inflight: 0, retired: false };
  }

  /** Starts the worker pool and loads every plugin of `cfg`; throws the first plugin's error. */
  static async create(cfg: PluginsConfig, opts: ChainOptions): Promise<PluginChain> {
    let chain: PluginChain | undefined = undefined;
    const pool = new PluginPool({
      size: cfg.workers ?? PLUGIN_DEFAULTS.workers,
      onLog: (key, level, message) => chain?.pluginLog(key, level, message),
    });
    chain = new PluginChain(pool, cfg, opts);
    try {
      chain.gen = await chain.loadGeneration(cfg);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return chain;
  }

  private pluginLog(key: string, level: string, message: string): void {
    const plugin = this.keyNames.get(key) ?? key;
    if (this.redactorKeys.has(key) && message.startsWith(SUMMARY_PREFIX)) return this.addRedactions(plugin, message.slice(SUMMARY_PREFIX.length));
    const log = this.opts.log;
    if (level === 'error') log.error({ plugin }, message);
    else if (level === 'warn') log.warn({ plugin }, message);
    else if (level === 'debug') log.debug({ plugin }, message);
    else log.info({ plugin }, message);
  }

  /** A redactor's counted summary (`redact-summary {"rule":n,…}`): added to its counters, not logged. */
  private addRedactions(plugin: string, json: string): void {
    let counts: unknown;
    try {
      counts = JSON.parse(json);
    } catch {
      return;
    }
    if (typeof counts !== 'object' || counts === null) return;
    const into = this.counter(plugin).redactions;
    for (const [rule, n] of Object.entries(counts)) if (Number.isInteger(n) && n > 0) into[rule] = (into[rule] ?? 0) + (n as number);
  }

  private async loadGeneration(cfg: PluginsConfig): Promise<Generation> {
    const seq = ++generationSeq;
    const stages: StageRuntime[] = [];
    const defined: string[] = [];
    try {
      for (const entry of cfg.chain) {
        const loaded = await loadPlugin(entry, { cacheDir: cfg.cacheDir, resolveBuiltin: this.opts.resolveBuiltin });
        const base = entry.config ?? {};
        const configs = new Map<string, Record<string, string>>([[configHash(base), base]]);
        const tenantConfig = new Map<string, string>();
        for (const [tenant, over] of Object.entries(entry.tenants ?? {})) {
          const eff = { ...base, ...over };
          const h = configHash(eff);
          configs.set(h, eff);
          tenantConfig.set(tenant, h);
        }
        const instances = new Map<string, Instance>();
        for (const [h, config] of configs) {
          const key = `${entry.name}@${loaded.sha256.slice(0, 12)}#${h}/g${seq}`;
          this.keyNames.set(key, entry.name);
          if (entry.stage === 'redactor') this.redactorKeys.add(key);
          defined.push(key);
          let info: InstanceInfo;
          try {
            info = await this.pool.define({
              key, name: entry.name, glue: loaded.glue, modules: loaded.modules,
              config: Object.entries(config), grants: entry.grants ?? [], imports: loaded.imports,
              memoryCapBytes: loaded.memoryCapBytes, spare: entry.spare,
            });
          } catch (err) {
            throw new ProcflowError(ERRORS.PLUGIN_INSTANTIATE, { name: entry.name, reason: err instanceof Error ? err.message : String(err), memoryMiB: entry.memoryMiB ?? PLUGIN_DEFAULTS.memoryMiB });
          }
          instances.set(h, { key, info, memo: entry.stage === 'redactor' && perProcessOf(entry) ? new ProcessMemo(entry.lookups ?? false) : undefined });
          this.counter(entry.name).lastInstantiateMs = info.ms;
        }
        stages.push({ entry, loaded, instances, tenantConfig, defaultConfig: configHash(base) });
      }
    } catch (err) {
      for (const key of defined) this.pool.undefine(key);
      throw err;
    }
    return { stages, inflight: 0, retired: false };
  }

  private counter(name: string): StageCounters {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = newCounters()));
    return c;
  }

  /** Counters of every plugin that ran, by name. */
  stats(): Record<string, StageCounters> {
    return Object.fromEntries(this.counters);
  }

  /** The pool's counters (workers spawned/terminated, instantiations). */
  poolStats() {
    return { ...this.pool.stats };
  }

  /** Runs a batch through the chain (for `tenant`, default config when unnamed), in calls of at most `batchSize` flows and `batchBytes` of text. */
  async process(flows: FlowRecord[], tenant?: string): Promise<ChainResult> {
    const gen = this.gen; // a reload swaps this.gen; this batch finishes on the generation it started on
    gen.inflight++;
    try {
      const formatted = gen.stages.some((st) => st.entry.stage === 'formatter');
      const result: ChainResult = { flows: [], items: [], formatted, contentType: formatted ? 'application/json' : '', dropped: 0 };
      const runs: [string, number][] = [];
      const parts = splitBatch(flows, this.cfg.batchSize ?? PLUGIN_DEFAULTS.batchSize, this.cfg.batchBytes ?? PLUGIN_DEFAULTS.batchBytes);
      // Parts in flight at once: one per worker plus one, so the host encodes the next part and
      // applies the last one's results while the workers run (bounded: a huge batch is not encoded at once).
      const outs: ChainResult[] = new Array(parts.length);
      let next = 0;
      const lane = async () => {
        while (next < parts.length) {
          const i = next++;
          outs[i] = await this.runBatch(gen, parts[i], tenant);
        }
      };
      await Promise.all(Array.from({ length: Math.min(parts.length, (this.cfg.workers ?? PLUGIN_DEFAULTS.workers) + 1) }, lane));
      for (const out of outs) {
        for (const f of out.flows) result.flows.push(f);
        for (const it of out.items) result.items.push(it);
        if (out.items.length > 0) {
          const last = runs[runs.length - 1];
          if (last && last[0] === out.contentType) last[1] += out.items.length;
          else runs.push([out.contentType, out.items.length]);
          result.contentType = runs[0][0];
        }
        result.dropped += out.dropped;
      }
      if (runs.length > 1) result.runs = runs;
      return result;
    } finally {
      gen.inflight--;
      if (gen.retired && gen.inflight === 0) this.release(gen);
    }
  }

  private async runBatch(gen: Generation, flows: FlowRecord[], tenant: string | undefined): Promise<ChainResult> {
    const encoder = this.encoders.pop() ?? new BatchEncoder(this.pool.buffers);
    try {
      return await this.runStages(gen, encoder, flows, tenant);
    } finally {
      encoder.reset();
      this.encoders.push(encoder);
    }
  }

  private instanceOf(st: StageRuntime, tenant: string | undefined): Instance {
    return st.instances.get((tenant !== undefined ? st.tenantConfig.get(tenant) : undefined) ?? st.defaultConfig)!;
  }

  /**
   * How many stages from `s` can run in one worker call: redactors, then at
   * most one formatter, all MessagePack, lookups for the first only (a later
   * stage's lookups would depend on what the redactor changed).
   */
  private fusable(stages: StageRuntime[], s: number, tenant: string | undefined): number {
    if (this.opts.fuse === false) return 1;
    let n = 0;
    for (let i = s; i < stages.length; i++) {
      const st = stages[i];
      if (st.entry.stage === 'enricher' || this.instanceOf(st, tenant).info.encoding !== 'msgpack') break;
      if (i > s && (st.entry.lookups ?? false)) break;
      if (i > s && this.instanceOf(st, tenant).memo) break; // it consults its memory first
      n++;
      if (st.entry.stage === 'formatter') break;
    }
    return Math.max(1, n);
  }

  private async runStages(gen: Generation, encoder: BatchEncoder, flows: FlowRecord[], tenant: string | undefined): Promise<ChainResult> {
    const stages = gen.stages;
    const batch: Settled = { flows, dropped: 0 };
    for (let s = 0; s < stages.length; ) {
      const current = batch.flows;
      const st = stages[s];
      if (current.length === 0) {
        const c = this.counter(st.entry.name);
        c.calls++;
        s++;
        continue;
      }
      const memo = this.instanceOf(st, tenant).memo;
      const plan = memo?.plan(current);
      if (plan?.worthIt) {
        // Mostly known processes or repeats: the redactor sees one flow per unknown process, alone.
        await this.redactPerProcess(st, this.instanceOf(st, tenant), plan, encoder, batch);
        s++;
        continue;
      }
      // Otherwise every flow goes (fused with the next stages), and the results teach the memo.
      const learn = plan && (() => memo!.learn(plan, plan.repIndex.map((i) => current[i]), plan.repIndex.map((i) => batch.flows[i])));
      const ctx = (st.entry.lookups ?? st.entry.stage === 'enricher') && this.opts.lookup ? this.lookupContext(current) : undefined;
      const n = this.fusable(stages, s, tenant);
      if (n === 1) {
        const inst = this.instanceOf(st, tenant);
        const res = await this.pool.call(inst.key, STAGE_FN[st.entry.stage], encoder.encode(current, inst.info.encoding), this.timeoutOf(st), ctx);
        const failuresBefore = batch.failed;
        if (this.settle(st, inst, res, batch)) return finished(batch);
        if (learn && batch.failed === failuresBefore) learn();
        s++;
        continue;
      }
      // Several stages in one worker call; the host applies each finished step's output as if called one by one.
      const run = stages.slice(s, s + n);
      const insts = run.map((x) => this.instanceOf(x, tenant));
      const input = encoder.encode(current, 'msgpack');
      const res = await this.pool.run(run.map((x, i) => ({ key: insts[i].key, fn: STAGE_FN[x.entry.stage], timeoutMs: this.timeoutOf(x) })), input, ctx, encoder.lastStarts());
      let i = 0;
      let diverged = false;
      for (; i < res.done.length; i++) {
        const failuresBefore = batch.failed;
        if (this.settle(run[i], insts[i], { ok: true, output: res.done[i] }, batch)) return finished(batch); // (a redactor never ends the chain)
        if (i === 0 && learn && batch.failed === failuresBefore) learn();
        if (batch.failed !== failuresBefore) {
          // The host found the output malformed after the worker went on: later results of the run are not used.
          diverged = true;
          i++;
          break;
        }
      }
      if (!diverged && res.end) {
        if (this.settle(run[i], insts[i], res.end, batch)) return finished(batch);
        i++;
      }
      s += i;
    }
    return { flows: batch.flows, items: [], formatted: false, contentType: '', dropped: batch.dropped }; // no formatter: the sinks encode the records
  }

  /**
   * A `perProcess` redactor on a batch where some processes are known or
   * repeat: one call on one flow per unknown process (its id and process
   * fields only; none when all are known), its results remembered and applied to every flow of those
   * processes. When the call fails, its policy applies to every flow not
   * known before, and nothing is remembered.
   */
  private async redactPerProcess(st: StageRuntime, inst: Instance, plan: MemoPlan, encoder: BatchEncoder, batch: Settled): Promise<void> {
    const flows = batch.flows;
    const c = this.counter(st.entry.name);
    const extra = flows.length - plan.reps.length; // flows settle() does not see
    c.flowsFromCache += plan.fromCache;
    if (plan.reps.length === 0) {
      c.flowsIn += flows.length;
      c.flowsOut += flows.length;
      batch.flows = fillPlan(plan, flows, []);
      return;
    }
    const sent = plan.reps.map(processOnly);
    const sub: Settled = { flows: sent, dropped: 0 };
    const ctx = (st.entry.lookups ?? false) && this.opts.lookup ? this.lookupContext(sent) : undefined;
    const res = await this.pool.call(inst.key, 'redact', encoder.encodeProcesses(plan.reps, inst.info.encoding), this.timeoutOf(st), ctx);
    this.settle(st, inst, res, sub);
    c.flowsIn += extra;
    if (!sub.failed) {
      c.flowsOut += extra;
      batch.flows = fillPlan(plan, flows, inst.memo!.learn(plan, sent, sub.flows));
      return;
    }
    // Failed: the policy settle() applied to the reps applies to every flow of their processes.
    batch.failed = (batch.failed ?? 0) + sub.failed;
    const known = flows.map((_, i) => knownFlow(plan, flows, i)); // undefined where the flow's process was in the failed call
    const unknown: FlowRecord[] = [];
    for (let i = 0; i < flows.length; i++) if (known[i] === undefined) unknown.push(flows[i]);
    const more = unknown.length - plan.reps.length;
    c.flowsFromCache -= more; // repeats of a failed process were not redacted from memory
    if ((st.entry.onFailure ?? 'mask') === 'drop') {
      c.flowsDropped += more;
      batch.dropped += unknown.length;
      const kept: FlowRecord[] = [];
      for (let i = 0; i < flows.length; i++) if (known[i] !== undefined) kept.push(known[i]!);
      batch.flows = kept;
      c.flowsOut += extra - more;
      return;
    }
    c.flowsMasked += more;
    c.flowsOut += extra;
    const masked = maskArgs(unknown, this.cfg.maskMarker ?? PLUGIN_DEFAULTS.maskMarker);
    const all: FlowRecord[] = new Array(flows.length);
    for (let i = 0, j = 0; i < flows.length; i++) all[i] = known[i] ?? masked[j++];
    batch.flows = all;
  }

  private timeoutOf(st: StageRuntime): number {
    return st.entry.timeoutMs ?? PLUGIN_DEFAULTS.timeoutMs;
  }

  /**
   * Applies one stage's result to the batch: its output when valid, else its
   * failure policy (counted, logged). True when the batch is finished (a
   * formatter's items, or the built-in JSON after a formatter failed).
   */
  private settle(st: StageRuntime, inst: Instance, res: CallResult, batch: Settled): boolean {
    const current = batch.flows;
    const c = this.counter(st.entry.name);
    c.calls++;
    c.flowsIn += current.length;
    let failure: { kind: FailureKind; message: string } | undefined;
    if (res.ok) {
      try {
        if (st.entry.stage === 'formatter') {
          if (!res.items) throw new MalformedOutput('no items');
          batch.items = splitItems(current, res.items);
          batch.contentType = inst.info.contentType ?? 'application/octet-stream';
          c.flowsOut += batch.items.length;
          return true;
        }
        if (!res.output) throw new MalformedOutput('no output');
        const out = decodeBatch(res.output, inst.info.encoding);
        batch.flows = st.entry.stage === 'redactor' ? applyRedaction(current, out) : applyEnrichment(current, out);
        c.flowsOut += batch.flows.length;
        return false;
      } catch (err) {
        failure = { kind: 'malformed', message: err instanceof Error ? err.message : String(err) };
      }
    } else {
      failure = { kind: res.kind, message: res.message };
    }
    batch.failed = (batch.failed ?? 0) + 1;
    c.failures[failure.kind]++;
    const spec = FAILURE_ERROR[failure.kind];
    const err = new ProcflowError(spec, {
      name: st.entry.name, reason: failure.message,
      timeoutMs: this.timeoutOf(st), memoryMiB: st.entry.memoryMiB ?? PLUGIN_DEFAULTS.memoryMiB,
    });
    const policy = st.entry.stage === 'redactor' ? (st.entry.onFailure ?? 'mask') : st.entry.stage === 'enricher' ? 'pass' : 'json';
    this.opts.log.warn({ plugin: st.entry.name, code: err.code, kind: failure.kind, flows: current.length, policy }, err.message);
    if (st.entry.stage === 'enricher') {
      c.flowsPassedThrough += current.length;
      c.flowsOut += current.length;
      return false;
    }
    if (st.entry.stage === 'redactor') {
      if (policy === 'drop') {
        c.flowsDropped += current.length;
        batch.dropped += current.length;
        batch.flows = [];
      } else {
        c.flowsMasked += current.length;
        c.flowsOut += current.length;
        batch.flows = maskArgs(current, this.cfg.maskMarker ?? PLUGIN_DEFAULTS.maskMarker);
      }
      return false;
    }
    c.flowsFallbackFormatted += current.length;
    c.flowsOut += current.length;
    batch.items = current.map(builtinJsonItem);
    batch.contentType = 'application/json';
    return true;
  }

  private lookupContext(flows: readonly FlowRecord[]): LookupContext {
    const lookup = this.opts.lookup!;
    const procs = new Map<number, ProcessInfo>();
    const flowPids: [string, number][] = [];
    for (const f of flows) {
      const pid = Number(f.process_id);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      flowPids.push([f.id, pid]);
      for (let p = pid, depth = 0; p > 0 && depth < 16 && !procs.has(p); depth++) {
        const info = lookup.get(p);
        if (!info) break;
        procs.set(p, info);
        p = info.ppid;
      }
    }
    return { processes: [...procs.values()].map((p) => [p.pid, p.ppid, p.name, p.args, p.cgroup ?? '', p.uid ?? 0]), flows: flowPids };
  }

  /**
   * Loads `cfg` beside the running chain and swaps to it between batches. A
   * version that fails to load leaves the old one running; the error says why.
   */
  async reload(cfg: PluginsConfig): Promise<{ ok: true } | { ok: false; error: Error }> {
    let next: Generation;
    try {
      next = await this.loadGeneration(cfg);
    } catch (error) {
      this.opts.log.error({ code: (error as ProcflowError).code }, `plugin reload failed, the previous plugins keep running: ${(error as Error).message}`);
      return { ok: false, error: error as Error };
    }
    const old = this.gen;
    this.gen = next;
    this.cfg = cfg;
    old.retired = true;
    if (old.inflight === 0) this.release(old);
    this.opts.log.info({ plugins: cfg.chain.map((e) => e.name) }, 'plugins reloaded');
    return { ok: true };
  }

  private release(gen: Generation): void {
    for (const st of gen.stages) for (const inst of st.instances.values()) this.pool.undefine(inst.key);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

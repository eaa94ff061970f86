/**
 * The agent: capture → process cache + flow table → aggregation → plugin
 * chain → router (per-route chains) → sinks.
 * Every flush interval it emits one record per aggregated flow; stopping
 * emits the final partial interval and flushes every sink, so nothing
 * buffered is lost.
 */
import { hostname } from 'node:os';
import { ERRORS, ProcflowError } from '../errors.js';
import { hostCgroupPaths, PluginProcessLookup } from '../cache/plugin-lookup.js';
import { ProcessCache, startTicksOf } from '../cache/process-cache.js';
import { effectiveRetention, type AgentConfig } from '../config/settings.js';
import { isLoopback, HostAddresses } from '../flows/addresses.js';
import { aggregate } from '../flows/aggregate.js';
import type { FlowRecord } from '../flows/record.js';
import { processResolver } from '../flows/resolve.js';
import { FlowTable } from '../flows/table.js';
import type { Logger } from '../log.js';
import { readKernelInfo } from '../kernel/features.js';
import { resolveBuiltin } from '../plugins/builtin.js';
import { PluginChain } from '../plugins/chain.js';
import type { PluginsConfig } from '../plugins/config.js';
import type { RoutesConfig } from '../routing/config.js';
import { buildRouting, type Routing, type RoutingConfig } from '../routing/setup.js';
import { createSink } from '../sinks/index.js';
import { isSockRecord, type BpfRecord, type SockRecord } from '../sources/bpf/decode.js';
import { BpfCapture } from '../sources/bpf/loader.js';
import { startPump, type Pump } from '../sources/bpf/pump.js';
import { readProcess } from '../sources/procfs/snapshot.js';
import { takeSnapshot } from '../sources/snapshot.js';

/** Counters of the agent's own work (the stats line). */
export interface AgentStats {
  intervals: number;
  /** Records shipped to sinks (a record routed to two routes counts twice). */
  records: number;
  /** Flows dropped by includeLoopback: false. */
  loopbackSkipped: number;
  /** Flows dropped by a failing redactor's `drop` policy (shared chain and every route's). */
  pluginDropped: number;
  /** Connection owners the process cache did not know, read from /proc instead (forked without exec, or a missed exec). */
  procFallback: number;
}

/** A running agent. */
export class Agent {
  private readonly cache: ProcessCache;
  /** The process cache as plugins' host lookups see it (parent, cgroup: builtin:enrich-process). */
  readonly processes: PluginProcessLookup;
  private readonly table: FlowTable;
  private readonly hostAddrs = new HostAddresses();
  private readonly attribution;
  private readonly host: string;
  private readonly timers: NodeJS.Timeout[] = [];
  private pump: Pump | undefined;
  private intervalStartMs = Date.now();
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Flows the shared chain's redactors dropped (the routes' own drops are in the router's counters). */
  private sharedDropped = 0;
  readonly stats: AgentStats = { intervals: 0, records: 0, loopbackSkipped: 0, pluginDropped: 0, procFallback: 0 };
  /** Owners /proc had no live match for (gone or reused pid): not read again. */
  private readonly procMisses = new Set<string>();

  private constructor(
    private readonly config: AgentConfig,
    private readonly capture: BpfCapture,
    /** Shared chain, router, route chains and sinks (host/routing/). */
    private readonly routing: Routing,
    private readonly log: Logger,
    /** Called with each interval's records as shipped, every route's concatenated, after the sinks have them (tests). */
    private readonly onRecords?: (records: FlowRecord[]) => void,
  ) {
    this.cache = new ProcessCache({ maxEntries: config.processCacheMaxEntries, retentionMs: effectiveRetention(config) });
    this.processes = new PluginProcessLookup(this.cache, hostCgroupPaths());
    this.table = new FlowTable(config.flowTableMaxEntries, config.flowTableOverflow);
    this.attribution = processResolver(this.cache, config.collectProcessPath);
    this.host = config.nodeName ?? hostname();
  }

  /**
   * Starts capture, loads the plugin chain, takes the startup snapshot and
   * begins the first interval. Throws catalogued errors, leaving nothing running.
   */
  static async start(config: AgentConfig & { plugins?: PluginsConfig; routes?: RoutesConfig }, log: Logger, onRecords?: (records: FlowRecord[]) => void): Promise<Agent> {
    const kernel = readKernelInfo();
    log.info(
      { hostPidNs: kernel.hostPidNs },
      kernel.hostPidNs
        ? 'host PID namespace: processes already running are read from the BPF task iterator, /proc as fallback'
        : 'NOT in the host PID namespace: /proc is never read for BPF pids; processes already running come from the BPF task iterator where it works, else they are reported by task name with empty args',
    );
    const capture = BpfCapture.start(
      { hooks: config.hooks, argsCap: config.argsCap, ignoreTgid: config.excludeSelf && kernel.hostPidNs ? process.pid : 0 },
      log,
    );
    let routing: Routing | undefined;
    let agent: Agent | undefined; // plugin lookups read its process cache once it exists
    try {
      capture.requireExec();
      for (const h of capture.hooks) {
        if (h.chosen) log.info({ hook: h.hook, family: h.chosen, attach: h.attachTypes, why: h.reason }, 'hook attached');
      }
      routing = await buildRouting(config, {
        chain: (cfg) => PluginChain.create(cfg, { log, resolveBuiltin, lookup: { get: (pid) => agent?.processes.get(pid) } }),
        sink: (cfg, i) => createSink(cfg, i, { dataDir: config.dataDir, log }),
      }, log);
      for (const r of routing.summary) if (r.plugins.length > 0 || config.routes) log.info(r, 'route ready');
      agent = new Agent(config, capture, routing, log, onRecords);
      agent.begin();
      return agent;
    } catch (err) {
      if (routing) await Promise.allSettled([...routing.sinks.map((s) => s.close()), ...routing.chains.map((c) => c.close())]);
      capture.close();
      throw err;
    }
  }

  private begin(): void {
    const now = Date.now();
    const snap = takeSnapshot(this.capture, this.log);
    for (const p of snap.processes) this.cache.onSnapshot(p);
    for (const s of snap.sockets) this.table.apply(s, now, true);
    this.runIterator('iter_tcp', true); // connections older than the agent count bytes from now on
    this.intervalStartMs = now;
    this.pump = startPump((max) => this.capture.poll((rec) => this.route(rec), max));
    this.timers.push(
      setInterval(() => this.flushInterval(), this.config.flushInterval),
      setInterval(() => this.refreshProcesses(), this.config.processRefreshInterval),
      setInterval(() => this.logStats(), this.config.statsInterval),
    );
    this.log.info({ sinks: this.routing.sinks.map((s) => s.name), flushIntervalMs: this.config.flushInterval, snapshot: snap.source }, 'procflow ready: capture attached');
  }

  private route(rec: BpfRecord): void {
    const now = Date.now();
    switch (rec.kind) {
      case 'exec': this.cache.onExec(rec); break;
      case 'task': this.cache.onSnapshot(rec); break;
      case 'exit': this.cache.onExit(rec, now); break;
      default:
        if (rec.pid > 0 && this.capture.kernel.hostPidNs && !this.cache.has(rec.pid, rec.startNs)) this.ownerFromProc(rec.pid, rec.startNs);
        this.table.apply(rec, now);
    }
  }

  /**
   * A connection whose owner the process cache does not know — a child
   * forked without exec (pre-fork servers' workers: their image is the
   * parent's), or an exec the cache missed — is looked up in /proc while the
   * owner is still alive (host PID namespace only), instead of being reported
   * by task name until the next task-iterator refresh. Counted in
   * `attribution.procFallback`; a pid that is gone or reused is not retried.
   */
  private ownerFromProc(pid: number, startNs: number): void {
    const key = `${pid}:${startTicksOf(startNs)}`;
    if (this.procMisses.has(key)) return;
    const rec = readProcess('/proc', pid);
    if (rec && startTicksOf(rec.startNs) === startTicksOf(startNs)) {
      this.cache.onSnapshot(rec);
      this.stats.procFallback++;
      return;
    }
    if (this.procMisses.size >= 4096) this.procMisses.clear();
    this.procMisses.add(key);
  }

  private runIterator(name: 'iter_tcp' | 'iter_task', startup = false): void {
    const now = Date.now();
    try {
      this.capture.runIterator(name, (rec) => {
        if (isSockRecord(rec)) this.table.apply(rec, now, startup);
        else if (rec.kind === 'task') this.cache.onSnapshot(rec);
      });
    } catch (err) {
      this.log.warn({ iterator: name, err: (err as Error).message }, 'iterator failed; continuing without it');
    }
  }

  private refreshProcesses(): void {
    this.runIterator('iter_task');
    this.cache.sweep(Date.now());
  }

  /** Ends the current interval at `endMs` and ships its records. */
  private async emit(endMs: number): Promise<void> {
    // Fresh counters first: live TCP connections and UDP peers report their bytes in this interval.
    this.capture.poll((rec) => this.route(rec));
    this.runIterator('iter_tcp');
    for (const u of this.capture.udpFlows()) this.table.apply(u as SockRecord, endMs);
    // Again: a connection the iterator or the UDP map showed may belong to a process that exec'd
    // (and connected) after the poll above; its exec record is in the ring now, and without it the
    // flow would be reported by task name only (seen in test/cli/no-leak.kernel.test.ts, ~1 run in 3–5).
    this.capture.poll((rec) => this.route(rec));
    const conns = this.table.flush(this.intervalStartMs).filter((c) => {
      const skip = !this.config.includeLoopback && (isLoopback(c.localAddr) || isLoopback(c.remoteAddr));
      if (skip) this.stats.loopbackSkipped++;
      return !skip;
    });
    let records = aggregate(conns, this.intervalStartMs, endMs, {
      level: this.config.aggregationKindForAllowed,
      perFlowProcessLimit: this.config.perFlowProcessLimit,
      perFlowProcessArgsLimit: this.config.perFlowProcessArgsLimit,
      collectProcessInfo: this.config.collectProcessInfo,
      host: this.host,
      isHostAddress: (a) => this.hostAddrs.has(a),
      resolve: this.attribution.resolve,
    });
    this.intervalStartMs = endMs;
    const shared = this.routing.shared;
    if (shared && records.length > 0) {
      // Failure policies live in the chain: a failing redactor masks or drops (counted), never passes secrets.
      const result = await shared.process(records);
      records = result.flows;
      this.sharedDropped += result.dropped;
    }
    this.stats.intervals++;
    const shipped = records.length > 0 ? await this.routing.router.route(records) : new Map<string, FlowRecord[]>();
    let out: FlowRecord[] = [];
    for (const recs of shipped.values()) out = out.length === 0 ? recs : out.concat(recs);
    this.stats.records += out.length;
    this.stats.pluginDropped = this.sharedDropped + Object.values(this.routing.router.stats().routes).reduce((n, r) => n + r.dropped, 0);
    this.onRecords?.(out);
    this.cache.sweep(endMs);
  }

  private flushInterval(): void {
    this.flushing = this.flushing.then(() => this.emit(Date.now()));
  }

  private logStats(): void {
    this.log.info({
      hooks: this.capture.counters(), malformed: this.capture.malformed, attribution: this.attribution.stats,
      processCache: this.cache.stats(), flowTable: this.table.stats(), agent: this.stats, plugins: this.routing.chainStats(), pluginPools: this.routing.poolStats(),
      routing: this.routing.router.stats(), sinks: Object.fromEntries(this.routing.sinks.map((s) => [s.name, s.metrics()])),
    }, 'stats');
  }

  /**
   * Hot reload of the plugins (SIGHUP or a changed file, see host/cli/run.ts):
   * every chain loads its new plugins beside the running ones and swaps between
   * batches; one that fails keeps its previous plugins. Routes and sinks stay.
   */
  async reloadPlugins(next: RoutingConfig): Promise<{ reloaded: number; errors: string[] }> {
    const res = await this.routing.reload(next);
    if (res.errors.length > 0) {
      const err = new ProcflowError(ERRORS.PLUGIN_RELOAD, { errors: res.errors.join('; ') });
      this.log.error({ code: err.code, reloaded: res.reloaded }, err.message);
    }
    else this.log.info({ chains: res.reloaded }, 'plugins reloaded');
    return res;
  }

  /** Emits the final partial interval (end_time = now), flushes and closes every sink, detaches. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.pump?.stop();
    try {
      await this.flushing;
      await this.emit(Date.now());
      this.logStats();
    } finally {
      await Promise.all(this.routing.sinks.map((s) => s.close()));
      await Promise.all(this.routing.chains.map((c) => c.close()));
      this.capture.close();
    }
  }
}

/**
 * The process cache: pid → what ran there (path, argv, comm, parent, uid,
 * start and exit time), fed by exec/exit events and by snapshots of running
 * processes. An incarnation is identified by pid AND start time (clock ticks,
 * as /proc/PID/stat field 22), so a flow is never attributed to the wrong
 * incarnation of a reused pid. Exited processes stay resolvable for a
 * retention window; the cache is bounded, evicting the oldest exited first.
 */
import type { ExecRecord, ExitRecord } from '../sources/bpf/decode.js';

/** What the cache knows of one process incarnation. */
export interface ProcessInfo {
  pid: number;
  /** Start time in clock ticks since boot (the identity, with pid). */
  startTicks: number;
  ppid: number;
  uid: number;
  comm: string;
  /** Resolved executable path ('' when unknown). */
  path: string;
  /** argv including argv[0] ([] when unknown). */
  argv: readonly string[];
  /** argv after argv[0], the same array on every call (flow records share it). */
  readonly args: readonly string[];
  /** The argv cap cut the list. */
  truncated: boolean;
  /** Where path/argv came from: an exec event (authoritative) or a snapshot. */
  source: 'exec' | 'snapshot';
  /** cgroup v2 id (0 when unknown); resolved to a path by CgroupPaths. */
  cgroupId: number;
  /** cgroup v2 path, when the source read it directly (/proc fallback). */
  cgroupPath?: string;
  /** Wall-clock ms of the exit, when it exited. */
  exitedAtMs?: number;
}

/** Hit/miss/eviction counters. */
export interface ProcessCacheStats {
  size: number;
  hits: number;
  misses: number;
  evictions: number;
  /** Lookups whose pid was known but whose start time matched no incarnation. */
  pidReuseMisses: number;
  /** Children forked without exec that got their parent's image at exit (onExit). */
  forkImages: number;
}

/** Cache bounds. */
export interface ProcessCacheOptions {
  maxEntries: number;
  /** How long exited processes stay resolvable, ms. */
  retentionMs: number;
}

/** ns since boot → clock ticks (USER_HZ = 100), the unit /proc uses: BPF and /proc agree on it. */
export function startTicksOf(startNs: number): number {
  return Math.floor(startNs / 1e7);
}

/** pid → incarnations (newest last; nearly always one). */
export class ProcessCache {
  private readonly byPid = new Map<number, ProcessEntry[]>();
  private entries = 0;
  private readonly counters = { hits: 0, misses: 0, evictions: 0, pidReuseMisses: 0, forkImages: 0 };

  constructor(private readonly options: ProcessCacheOptions) {}

  /** An exec: the new image of the process (exec-time argv is authoritative). */
  onExec(rec: ExecRecord, nowMs = Date.now()): void {
    this.upsert(rec, 'exec', nowMs);
  }

  /**
   * A process seen by a snapshot (task iterator or /proc). It never overrides
   * what an exec event of the same incarnation said.
   */
  onSnapshot(rec: ExecRecord, nowMs = Date.now()): void {
    this.upsert(rec, 'snapshot', nowMs);
  }

  /**
   * The process (all its threads) exited. A process the cache never saw
   * exec — a child forked without exec, e.g. a subshell or a pre-fork
   * server's worker — gets its parent's image (the same executable and
   * argv, which fork copies), kept for the retention window so its
   * connections are attributed at the next flush. Only when the parent's
   * task name equals the child's: a child reparented to init or a
   * subreaper after its parent died is not given the new parent's image.
   */
  onExit(rec: ExitRecord, nowMs: number): void {
    const startTicks = startTicksOf(rec.startNs);
    const inc = this.find(rec.pid, startTicks);
    if (inc) {
      if (inc.exitedAtMs === undefined) inc.exitedAtMs = nowMs;
      return;
    }
    const parent = rec.ppid > 0 ? this.byPid.get(rec.ppid)?.at(-1) : undefined;
    if (!parent || parent.comm !== rec.comm || parent.startTicks > startTicks) return;
    const child = parent.forkedAs(rec);
    child.exitedAtMs = nowMs;
    const list = this.byPid.get(rec.pid) ?? [];
    list.push(child);
    this.byPid.set(rec.pid, list);
    this.entries++;
    this.counters.forkImages++;
  }

  /**
   * The incarnation of `pid` that started at `startNs` (ns since boot), or,
   * without a start time, the newest one; with `atNs`, the image it ran at
   * that time (a process that opened a connection and then exec'd another
   * program is reported as the program that opened it). Counts a hit or a miss.
   */
  lookup(pid: number, startNs?: number, atNs?: number): ProcessInfo | undefined {
    const list = this.byPid.get(pid);
    let found: ProcessEntry | undefined;
    if (list) {
      found = startNs === undefined ? list[list.length - 1] : list.find((p) => p.startTicks === startTicksOf(startNs));
      if (!found) this.counters.pidReuseMisses++;
    }
    if (found) this.counters.hits++;
    else this.counters.misses++;
    return found && atNs !== undefined ? found.at(atNs) : found;
  }

  /** Whether the incarnation of `pid` that started at `startNs` is known (no hit or miss counted). */
  has(pid: number, startNs: number): boolean {
    return this.find(pid, startTicksOf(startNs)) !== undefined;
  }

  /** The newest incarnation of `pid`, without counting a hit or miss (plugin lookups, not attribution). */
  peek(pid: number): ProcessInfo | undefined {
    const list = this.byPid.get(pid);
    return list?.[list.length - 1];
  }

  /** Drops exited processes past retention, then evicts down to maxEntries (oldest exit first, then oldest start). */
  sweep(nowMs: number): void {
    for (const [pid, list] of this.byPid) {
      const kept = list.filter((p) => p.exitedAtMs === undefined || nowMs - p.exitedAtMs <= this.options.retentionMs);
      this.replace(pid, list, kept);
    }
    this.evictToBound();
  }

  /** Evicts down to maxEntries: exited before running, earliest exit first, then oldest start. */
  private evictToBound(): void {
    if (this.entries <= this.options.maxEntries) return;
    const all = [...this.byPid.values()].flat();
    // Exited before running; among exited the earliest exit first; among running the oldest start first.
    all.sort((a, b) => rank(a) - rank(b) || (a.exitedAtMs ?? 0) - (b.exitedAtMs ?? 0) || a.startTicks - b.startTicks);
    for (const victim of all.slice(0, this.entries - this.options.maxEntries)) this.remove(victim);
  }

  /** Counters and size. */
  stats(): ProcessCacheStats {
    return { size: this.entries, ...this.counters };
  }

  private upsert(rec: ExecRecord, source: 'exec' | 'snapshot', nowMs: number): void {
    const startTicks = startTicksOf(rec.startNs);
    const existing = this.find(rec.pid, startTicks);
    if (existing) {
      // A snapshot never overrides exec-time path/argv, but its cgroup is fresher (a process can move).
      if (source === 'snapshot' && existing.source === 'exec') return existing.setCgroup(rec);
      existing.setImage(rec, source); // a re-exec in the same process, or a fresher snapshot: the latest image wins
      return;
    }
    const list = this.byPid.get(rec.pid) ?? [];
    // A newer incarnation means the older one has exited, whether or not we saw it go.
    for (const old of list) old.exitedAtMs ??= nowMs;
    list.push(new ProcessEntry(rec, startTicks, source));
    this.byPid.set(rec.pid, list);
    this.entries++;
    if (this.entries > this.options.maxEntries * 1.1) this.evictToBound(); // amortised: sort once per 10% overshoot
  }

  private find(pid: number, startTicks: number): ProcessEntry | undefined {
    return this.byPid.get(pid)?.find((p) => p.startTicks === startTicks);
  }

  private remove(victim: ProcessEntry): void {
    const list = this.byPid.get(victim.pid);
    if (!list) return;
    this.replace(victim.pid, list, list.filter((p) => p !== victim));
  }

  private replace(pid: number, list: ProcessEntry[], kept: ProcessEntry[]): void {
    if (kept.length === list.length) return;
    this.counters.evictions += list.length - kept.length;
    this.entries -= list.length - kept.length;
    if (kept.length === 0) this.byPid.delete(pid);
    else this.byPid.set(pid, kept);
  }
}

function rank(p: ProcessInfo): number {
  return p.exitedAtMs === undefined ? 1 : 0;
}

/** Earlier images kept per incarnation (a process rarely execs more than once or twice). */
const MAX_EARLIER_IMAGES = 4;

/** A cache entry; argv is read from the exec record on demand (it is split lazily). */
class ProcessEntry implements ProcessInfo {
  ppid = 0;
  uid = 0;
  comm = '';
  path = '';
  truncated = false;
  cgroupId = 0;
  cgroupPath?: string;
  exitedAtMs?: number;
  private image!: ExecRecord;
  private argsCache: readonly string[] | undefined;
  /** Images this incarnation ran before it exec'd again, oldest first, each with the exec's time (ns since boot) that ended it. */
  private earlier?: { info: ProcessInfo; untilNs: number }[];

  constructor(rec: ExecRecord, readonly startTicks: number, public source: 'exec' | 'snapshot') {
    this.setImage(rec, source);
  }

  get pid(): number {
    return this.image.pid;
  }

  get argv(): readonly string[] {
    return this.image.argv;
  }

  get args(): readonly string[] {
    return (this.argsCache ??= this.image.argv.slice(1));
  }

  /** The image this incarnation ran at `atNs` (ns since boot): an earlier one when it exec'd since. */
  at(atNs: number): ProcessInfo {
    if (this.earlier) for (const e of this.earlier) if (atNs < e.untilNs) return e.info;
    return this;
  }

  setImage(rec: ExecRecord, source: 'exec' | 'snapshot'): void {
    // A re-exec (not a fresher snapshot): keep what ran before for connections opened before it.
    if (this.image !== undefined && source === 'exec' && rec.bootNs > 0) {
      const info: ProcessInfo = {
        pid: this.pid, startTicks: this.startTicks, ppid: this.ppid, uid: this.uid, comm: this.comm, path: this.path,
        argv: this.argv, args: this.args, truncated: this.truncated, source: this.source, cgroupId: this.cgroupId, cgroupPath: this.cgroupPath,
      };
      (this.earlier ??= []).push({ info, untilNs: rec.bootNs });
      if (this.earlier.length > MAX_EARLIER_IMAGES) this.earlier.shift();
    }
    this.image = rec;
    this.argsCache = undefined;
    this.source = source;
    this.ppid = rec.ppid;
    this.uid = rec.uid;
    this.comm = rec.comm;
    this.path = rec.path;
    this.truncated = rec.truncated;
    this.setCgroup(rec);
  }

  /** This process's image for a child forked from it without exec (`rec`: the child's exit). */
  forkedAs(rec: ExitRecord): ProcessEntry {
    const p = this.image; // may be a lazily decoded record (argv is a getter): copy field by field
    const image: ExecRecord = {
      kind: 'task', hook: p.hook, bootNs: rec.bootNs, pid: rec.pid, tid: rec.pid, ppid: this.pid, uid: p.uid, startNs: rec.startNs,
      parentStartNs: p.startNs, comm: rec.comm, path: p.path, argv: p.argv, truncated: p.truncated, pathTruncated: p.pathTruncated, noMm: p.noMm,
    };
    const child = new ProcessEntry(image, startTicksOf(rec.startNs), this.source);
    child.cgroupId = this.cgroupId;
    child.cgroupPath = this.cgroupPath;
    return child;
  }

  setCgroup(rec: ExecRecord): void {
    if (!rec.cgroupId && rec.cgroupPath === undefined) return; // the source did not know it: keep what we had
    this.cgroupId = rec.cgroupId ?? 0;
    this.cgroupPath = rec.cgroupPath;
  }
}

/**
 * A pool of worker threads running plugin instances. Each worker runs one
 * call at a time; each call has a deadline, and a worker that misses it is
 * terminated and respawned (its instances are re-created before its next
 * call). A trap discards only the instance. Batches cross as transferred
 * buffers, never structured-cloned objects.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../paths.js';
import { BatchBuffers, transferable } from './batch-buffers.js';
import type { DefineMsg, FailureKind, FromWorker, LookupContext, RunStep, StageFn, ToWorker } from './protocol.js';

/** The worker script: compiled JS (tests run the TypeScript sources, workers cannot). */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  return import.meta.url.endsWith('.ts') ? pathToFileURL(join(PROJECT_ROOT, 'dist', 'host', 'plugins', 'worker.js')) : here;
}

/** What instantiation reported. */
export interface InstanceInfo {
  encoding: 'msgpack' | 'json';
  contentType?: string;
  /** Instantiation time in the worker, ms. */
  ms: number;
  /** The worker bound a spare instance built in idle time (worker.ts) instead of building one. */
  fromSpare?: boolean;
}

/** The outcome of one call. */
export type CallResult =
  | { ok: true; output?: Uint8Array; items?: { buf: Uint8Array; offsets: Uint32Array } }
  | { ok: false; kind: FailureKind; message: string };

/** One stage of a run, with its deadline. */
export interface RunStepSpec extends RunStep {
  timeoutMs: number;
}

/**
 * What a run returned: `done[i]` is step i's output for each step that
 * finished before the run ended; `end` is how step `done.length` ended (the
 * last step's result, or a failure), undefined when the worker stopped the
 * run before it (an output it could not splice: the host goes on stage by
 * stage).
 */
export interface RunResult {
  done: Uint8Array[];
  end?: CallResult;
}

/** Pool settings. */
export interface PoolOptions {
  /** Worker threads (default 1). */
  size?: number;
  /** Deadline for instantiating a plugin, ms (default 10000). */
  instantiateTimeoutMs?: number;
  /** Receives plugin log lines. */
  onLog?: (key: string, level: string, message: string) => void;
  /** Told when a worker has a spare instance ready for `key`'s component (with its linear memory, bytes). */
  onSpare?: (key: string, memoryBytes: number) => void;
}

/** Pool counters. */
export interface PoolStats {
  workersSpawned: number;
  workersTerminated: number;
  instantiations: number;
  lastInstantiateMs: number;
  /** Instantiations that bound a spare instance. */
  fromSpare: number;
  /** Spare instances built. */
  sparesBuilt: number;
  /** Runs: several stages in one worker call. */
  runs: number;
}

interface Job {
  id: number;
  msg: ToWorker;
  transfer: ArrayBuffer[];
  timeoutMs: number;
  key: string;
  /** Runs: every instance the steps use, and each step's deadline (the timer restarts as each step starts). */
  keys?: string[];
  stepTimeouts?: number[];
  /** Runs: a step finished with this output; step `index` starts. */
  onStep?: (index: number, output: Uint8Array) => void;
  resolve: (r: FromWorker | { type: 'failed'; kind: FailureKind; message: string }) => void;
}

interface Slot {
  worker: Worker;
  busy: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  queue: Job[];
  instantiated: Map<string, InstanceInfo>;
}

let nextId = 1;

/** Worker threads that hold plugin instances and run calls with deadlines. */
export class PluginPool {
  private readonly slots: Slot[] = [];
  private readonly defs = new Map<string, DefineMsg>();
  private readonly opts: Required<Omit<PoolOptions, 'onLog' | 'onSpare'>> & Pick<PoolOptions, 'onLog' | 'onSpare'>;
  private closed = false;
  private rr = 0;
  /** Batch buffers workers gave back, for the next batches' encoding. */
  readonly buffers = new BatchBuffers();
  readonly stats: PoolStats = { workersSpawned: 0, workersTerminated: 0, instantiations: 0, lastInstantiateMs: 0, fromSpare: 0, sparesBuilt: 0, runs: 0 };

  constructor(opts: PoolOptions = {}) {
    this.opts = { size: opts.size ?? 1, instantiateTimeoutMs: opts.instantiateTimeoutMs ?? 10_000, onLog: opts.onLog, onSpare: opts.onSpare };
    for (let i = 0; i < this.opts.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot = { busy: undefined, timer: undefined, queue: [], instantiated: new Map() } as unknown as Slot;
    this.attach(slot);
    return slot;
  }

  /** Gives the slot a new worker, with every defined plugin sent to it. */
  private attach(slot: Slot): void {
    const worker = new Worker(workerUrl(), { resourceLimits: { maxOldGenerationSizeMb: 256 } });
    worker.unref();
    slot.worker = worker;
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (err) => {
      if (slot.worker === worker) this.replace(slot, 'crash', `worker error: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (!this.closed && slot.worker === worker) this.replace(slot, 'crash', `worker exited with code ${code}`);
    });
    for (const def of this.defs.values()) worker.postMessage(def);
    this.stats.workersSpawned++;
  }

  /** Terminates a slot's worker and gives it a fresh one; the job in flight fails with `kind`. */
  private replace(slot: Slot, kind: FailureKind, message: string): void {
    const old = slot.worker;
    const job = slot.busy;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.busy = undefined;
    slot.instantiated.clear();
    if (!this.closed) this.attach(slot);
    void old.terminate();
    this.stats.workersTerminated++;
    job?.resolve({ type: 'failed', kind, message });
    this.pump(slot);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'log') {
      this.opts.onLog?.(m.key, m.level, m.message);
      return;
    }
    if (m.type === 'spare') {
      this.stats.sparesBuilt++;
      this.opts.onSpare?.(m.key, m.memoryBytes);
      return;
    }
    if (m.type === 'result' && m.spent) this.buffers.give(m.spent);
    const job = slot.busy;
    if (!job || job.id !== m.id) return; // a late answer from before a respawn
    if (m.type === 'step') {
      job.onStep?.(m.index, m.output);
      this.arm(slot, job, job.stepTimeouts?.[m.index] ?? job.timeoutMs);
      return;
    }
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.busy = undefined;
    if (m.type === 'instantiated' && m.ok) {
      slot.instantiated.set(job.key, { encoding: m.encoding, contentType: m.contentType, ms: m.ms, fromSpare: m.fromSpare });
      this.stats.instantiations++;
      if (m.fromSpare) this.stats.fromSpare++;
      this.stats.lastInstantiateMs = m.ms;
    }
    if (m.type === 'result' && !m.ok && (m.kind === 'trap' || m.kind === 'memory')) slot.instantiated.delete(job.keys?.[m.index ?? 0] ?? job.key);
    job.resolve(m);
    this.pump(slot);
  }

  private pump(slot: Slot): void {
    if (slot.busy || this.closed) return;
    const job = slot.queue.shift();
    if (!job) return;
    const missing = job.msg.type === 'call' || job.msg.type === 'run' ? (job.keys ?? [job.key]).find((k) => !slot.instantiated.has(k)) : undefined;
    if (missing !== undefined) {
      // Re-create the instance first (after a trap or a respawn); the call waits behind it.
      slot.queue.unshift(job);
      const inst = this.instantiateJob(missing);
      inst.resolve = (r) => {
        if (r.type === 'instantiated' && r.ok) return;
        const message = r.type === 'instantiated' && !r.ok ? r.message : r.type === 'failed' ? r.message : 'instantiation failed';
        const idx = slot.queue.indexOf(job);
        if (idx >= 0) slot.queue.splice(idx, 1);
        // A run goes back to the host unstarted: stage by stage, each failure lands on its own plugin.
        if (job.msg.type === 'run') job.resolve({ type: 'result', id: job.id, ok: true, stopped: true, index: 0 });
        else job.resolve({ type: 'failed', kind: 'error', message: `re-instantiation failed: ${message}` });
      };
      slot.queue.unshift(inst);
      return this.pump(slot);
    }
    slot.busy = job;
    slot.worker.postMessage(job.msg, job.transfer);
    this.arm(slot, job, job.stepTimeouts?.[0] ?? job.timeoutMs);
  }

  /** (Re)starts the deadline of the job in flight: a worker that misses it is replaced. */
  private arm(slot: Slot, job: Job, ms: number): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      if (slot.busy === job) this.replace(slot, 'timeout', `no answer within ${ms} ms`);
    }, ms);
  }

  private instantiateJob(key: string): Job {
    const id = nextId++;
    return { id, key, msg: { type: 'instantiate', id, key }, transfer: [], timeoutMs: this.opts.instantiateTimeoutMs, resolve: () => {} };
  }

  private pick(): Slot {
    let best = this.slots[this.rr++ % this.slots.length];
    for (const s of this.slots) if (s.queue.length + (s.busy ? 1 : 0) < best.queue.length + (best.busy ? 1 : 0)) best = s;
    return best;
  }

  /** Defines a plugin instance in every worker and instantiates it in each; rejects with the reason on failure. */
  async define(def: Omit<DefineMsg, 'type'>): Promise<InstanceInfo> {
    const msg: DefineMsg = { type: 'define', ...def };
    this.defs.set(def.key, msg);
    for (const s of this.slots) s.worker.postMessage(msg);
    const results = await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<InstanceInfo>((resolve, reject) => {
            const job = this.instantiateJob(def.key);
            job.resolve = (r) => {
              if (r.type === 'instantiated' && r.ok) resolve({ encoding: r.encoding, contentType: r.contentType, ms: r.ms, fromSpare: r.fromSpare });
              else reject(new Error(r.type === 'instantiated' && !r.ok ? r.message : r.type === 'failed' ? r.message : 'unexpected answer'));
            };
            slot.queue.push(job);
            this.pump(slot);
          }),
      ),
    );
    return results[0];
  }

  /** Forgets a plugin instance (after a reload swapped it out). */
  undefine(key: string): void {
    this.defs.delete(key);
    for (const s of this.slots) {
      s.instantiated.delete(key);
      s.worker.postMessage({ type: 'drop', key } satisfies ToWorker);
    }
  }

  /** Calls a stage function with a deadline; `input`'s buffer is transferred (do not reuse it). */
  call(key: string, fn: StageFn, input: Uint8Array, timeoutMs: number, ctx?: LookupContext): Promise<CallResult> {
    if (this.closed) return Promise.resolve({ ok: false, kind: 'crash', message: 'pool closed' });
    return new Promise((resolve) => {
      const id = nextId++;
      const transfer = transferable(input) ? [input.buffer as ArrayBuffer] : [];
      const job: Job = {
        id, key, timeoutMs, transfer,
        msg: { type: 'call', id, key, fn, input, ctx },
        resolve: (r) => {
          if (r.type === 'failed') resolve({ ok: false, kind: r.kind, message: r.message });
          else if (r.type === 'result') resolve(r.ok ? { ok: true, output: r.output, items: r.items } : { ok: false, kind: r.kind, message: r.message });
          else resolve({ ok: false, kind: 'error', message: 'unexpected answer' });
        },
      };
      const slot = this.pick();
      slot.queue.push(job);
      this.pump(slot);
    });
  }

  /**
   * Runs several stages on one batch in one worker call (protocol.ts RunMsg);
   * each step has its own deadline. `input`'s buffer is transferred; `starts`
   * (its flows' offsets) is copied.
   */
  run(steps: RunStepSpec[], input: Uint8Array, ctx?: LookupContext, starts?: Uint32Array): Promise<RunResult> {
    const done: Uint8Array[] = [];
    if (this.closed) return Promise.resolve({ done, end: { ok: false, kind: 'crash', message: 'pool closed' } });
    this.stats.runs++;
    return new Promise((resolve) => {
      const id = nextId++;
      const transfer = transferable(input) ? [input.buffer as ArrayBuffer] : [];
      const job: Job = {
        id, key: steps[0].key, keys: steps.map((s) => s.key), stepTimeouts: steps.map((s) => s.timeoutMs), timeoutMs: steps[0].timeoutMs, transfer,
        msg: { type: 'run', id, steps: steps.map(({ key, fn }) => ({ key, fn })), input, ctx, starts },
        onStep: (index, output) => {
          if (index === done.length + 1) done.push(output);
        },
        resolve: (r) => {
          if (r.type === 'failed') resolve({ done, end: { ok: false, kind: r.kind, message: r.message } });
          else if (r.type !== 'result') resolve({ done, end: { ok: false, kind: 'error', message: 'unexpected answer' } });
          else if (!r.ok) resolve({ done, end: { ok: false, kind: r.kind, message: r.message } });
          else if (r.stopped) resolve({ done });
          else resolve({ done, end: { ok: true, output: r.output, items: r.items } });
        },
      };
      const slot = this.pick();
      slot.queue.push(job);
      this.pump(slot);
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      s.busy?.resolve({ type: 'failed', kind: 'crash', message: 'pool closed' });
      for (const j of s.queue) j.resolve({ type: 'failed', kind: 'crash', message: 'pool closed' });
      s.queue = [];
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

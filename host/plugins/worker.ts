/**
 * A plugin worker thread: holds instances of transpiled components and runs
 * one call at a time. Only what the host world defines is passed to a plugin
 * (plus granted clocks/random); the glue, instantiated asynchronously, has no
 * imports of its own. A trap discards the instance; the pool re-instantiates.
 *
 * Spare instances: after a plugin is instantiated, the worker builds one more
 * instance of the same component in idle time (one core module per event-loop
 * turn, so calls are not held up), with host imports not yet bound to any
 * plugin definition. The next instantiation of that component in this worker
 * (after a trap, or for another tenant's config) binds the spare instead of
 * building one: ready in well under a millisecond instead of 10–30 ms for a
 * componentize-js plugin. No export of a spare is called before it is bound,
 * so a plugin that caches its config on the first call sees its own config.
 */
import { randomFillSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { BatchEncoder } from './codec.js';
import { coreImports, directStage, type DirectStage, type HostFunctions, type HostProcess as Process } from './direct-call.js';
import { installPromisingFallback } from './jspi-fallback.js';
import { WARMUP_FLOWS } from './warmup.js';
import type { DefineMsg, FailureKind, FromWorker, LookupContext, RunMsg, StageFn, ToWorker } from './protocol.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { spliceRedaction } from './splice.js';
import { unversioned } from './wit-check.js';

interface PluginExports {
  batchEncoding(): 'msgpack' | 'json';
  contentType?(): string;
  enrich?(b: Uint8Array): Uint8Array;
  redact?(b: Uint8Array): Uint8Array;
  format?(b: Uint8Array): Uint8Array[];
}

/** One instance of a component: what the glue returned, and its core instances. */
interface Instance {
  exports: PluginExports;
  memories: WebAssembly.Memory[];
  /** The component's core instances (for calls without the glue, direct-call.ts). */
  cores: WebAssembly.Instance[];
  /** Stage functions callable directly, found at instantiation. */
  direct: Partial<Record<StageFn, DirectStage>>;
}

/** The plugin definition an instance's host imports answer for; unset while the instance is a spare. */
interface Binding {
  h?: Held;
}

interface Held {
  def: DefineMsg;
  /** Its instance; undefined until instantiated, and once poisoned. */
  inst?: Instance;
  /** Set during the warm-up call: the plugin's log lines are dropped. */
  muted?: boolean;
  /** Lookups of the batch being processed. */
  ctx?: { procs: Map<number, Process>; flows: Map<string, number> };
}

// Before any glue runs: see jspi-fallback.ts (~5 ms per componentize-js instance).
installPromisingFallback(WebAssembly as { promising?: unknown });

const port = parentPort!;
const held = new Map<string, Held>();
const glues = new Map<string, Promise<{ instantiate: Function }>>();
const MAX_LOG = 2048;
const MAX_CHAIN = 16;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

/** Sends a call's or run's result with its input batch's buffer given back (`spent`: the host encodes its next batches into it). */
function sendResult(msg: FromWorker & { type: 'result' }, transfer: ArrayBuffer[], input: Uint8Array): void {
  const spent = input.buffer as ArrayBuffer;
  if (spent.byteLength === 0 || transfer.includes(spent)) return send(msg, transfer); // detached, or the output itself
  send({ ...msg, spent }, [...transfer, spent]);
}

/** The held definition of a binding; a spare's imports must not be called before it is bound. */
function bound(b: Binding): Held {
  if (!b.h) throw new Error('host import called by an unbound spare instance');
  return b.h;
}

/** The imports the glue passes on to the component, and the host world's functions among them. */
function hostImports(def: DefineMsg, b: Binding): { imports: Record<string, unknown>; host: HostFunctions } {
  const proc = (pid: number) => bound(b).ctx?.procs.get(pid);
  const host: HostFunctions = {
    log(level: string, message: string) {
      const h = bound(b);
      if (h.muted) return;
      send({ type: 'log', key: h.def.key, level, message: message.length > MAX_LOG ? `${message.slice(0, MAX_LOG)}…` : message });
    },
    config: () => bound(b).def.config,
    getProcess: (pid: number) => proc(pid),
    processChain(pid: number) {
      const out: Process[] = [];
      for (let p = proc(pid); p && out.length < MAX_CHAIN; p = p.ppid ? proc(p.ppid) : undefined) out.push(p);
      return out;
    },
    flowProcess(id: string) {
      const pid = bound(b).ctx?.flows.get(id);
      return pid === undefined ? undefined : proc(pid);
    },
  };
  const granted: Record<string, unknown> = {
    'wasi:clocks/wall-clock': {
      now: () => {
        const ms = Date.now();
        return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1e6 }),
    },
    'wasi:clocks/monotonic-clock': { now: () => process.hrtime.bigint(), resolution: () => 1n },
    'wasi:random/random': {
      getRandomBytes: (len: bigint) => randomFillSync(new Uint8Array(Number(len))),
      getRandomU64: () => randomFillSync(new BigUint64Array(1))[0],
    },
  };
  const imports: Record<string, unknown> = {};
  for (const name of def.imports) {
    const base = unversioned(name);
    const impl = base === 'procflow:plugin/host' ? host : base === 'procflow:plugin/types' ? {} : def.grants.length ? granted[base] : undefined;
    if (impl === undefined) continue; // the loader refused such components already
    imports[name] = impl;
    imports[base] = impl; // the glue looks imports up unversioned
  }
  return { imports, host };
}

/**
 * A new instance of `def`'s component whose host imports answer for `b`.
 * `yielding`: one core module per event-loop turn (spares, built while calls
 * may arrive); otherwise synchronously — `await WebAssembly.instantiate`
 * hands control to the event loop, where V8's queued GC and tier-up tasks ran
 * first: a componentize-js instance took 17–22 ms that way instead of 9–10 in
 * one thread (medians; bench/README.md, plugin-chain D).
 */
async function createInstance(def: DefineMsg, b: Binding, yielding: boolean): Promise<Instance> {
  let glue = glues.get(def.glue);
  if (!glue) glues.set(def.glue, (glue = import(def.glue)));
  const { instantiate: inst } = await glue;
  const out: Instance = { exports: undefined as unknown as PluginExports, memories: [], cores: [], direct: {} };
  const getCoreModule = (name: string) => {
    const m = def.modules[name];
    if (!m) throw new Error(`core module ${name} missing`);
    return m;
  };
  const { imports: hostSide, host } = hostImports(def, b);
  const make = (m: WebAssembly.Module, imports?: WebAssembly.Imports) => {
    let self: WebAssembly.Instance | undefined;
    const instance = new WebAssembly.Instance(m, coreImports(m, imports, host, () => self!));
    self = instance;
    for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) out.memories.push(v);
    out.cores.push(instance);
    return instance;
  };
  const instantiateCore = yielding
    ? (m: WebAssembly.Module, imports?: WebAssembly.Imports) =>
        new Promise<WebAssembly.Instance>((resolve, reject) =>
          setImmediate(() => {
            try {
              resolve(make(m, imports));
            } catch (err) {
              reject(err);
            }
          }),
        )
    : make;
  out.exports = (await inst(getCoreModule, hostSide, instantiateCore)) as PluginExports;
  for (const fn of ['enrich', 'redact', 'format'] as const) {
    if (!out.exports[fn]) continue;
    const d = directStage(out.cores, fn);
    if (d) out.direct[fn] = d;
  }
  return out;
}

/** Components whose instances are interchangeable until bound: same glue, imports, grants and memory cap. */
function spareKey(def: DefineMsg): string {
  return `${def.glue}|${def.memoryCapBytes}|${def.grants.join(',')}|${def.imports.join(',')}`;
}

interface Spare {
  /** Settles when the build ends; `inst` is then set unless it failed. */
  built: Promise<void>;
  inst?: Instance;
  binding: Binding;
}

/** At most one spare per component (spareKey) in this worker. */
const spares = new Map<string, Spare>();

/** A held definition of component `k` takes spares: one is worth keeping. */
function spareWanted(k: string): boolean {
  for (const x of held.values()) if (x.def.spare !== false && spareKey(x.def) === k) return true;
  return false;
}

/** Starts building a spare for `def`'s component unless one exists, is being built, or the definition opts out. */
function scheduleSpare(def: DefineMsg): void {
  if (def.spare === false) return;
  const k = spareKey(def);
  if (spares.has(k)) return;
  const spare: Spare = { binding: {}, built: Promise.resolve() };
  spares.set(k, spare);
  spare.built = (async () => {
    await new Promise<void>((r) => setImmediate(r)); // after the answer that triggered it is sent
    try {
      spare.inst = await createInstance(def, spare.binding, true);
    } catch {
      // A component that fails to instantiate says why on its next real instantiation.
      if (spares.get(k) === spare) spares.delete(k);
      return;
    }
    if (spares.get(k) !== spare) return; // dropped meanwhile
    if (!spareWanted(k)) {
      spares.delete(k);
      return;
    }
    send({ type: 'spare', key: def.key, memoryBytes: spare.inst.memories.reduce((n, m) => n + m.buffer.byteLength, 0) });
  })();
}

/** The spare of `h`'s component bound to `h`, waiting for one being built; undefined when there is none. */
async function takeSpare(h: Held): Promise<Instance | undefined> {
  if (h.def.spare === false) return undefined;
  const k = spareKey(h.def);
  const spare = spares.get(k);
  if (!spare) return undefined;
  await spare.built;
  if (spares.get(k) !== spare || !spare.inst) return undefined; // taken by another definition meanwhile, or failed
  spares.delete(k);
  spare.binding.h = h;
  return spare.inst;
}

/** A fresh instance for `h`: its component's spare when there is one, else built now. */
async function instantiate(h: Held): Promise<{ fromSpare: boolean }> {
  const spare = await takeSpare(h);
  h.inst = spare ?? (await createInstance(h.def, { h }, false));
  return { fromSpare: spare !== undefined };
}

function classify(h: Held, err: unknown): { kind: FailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err && typeof err === 'object' && 'payload' in err && (err as { constructor: { name: string } }).constructor.name === 'ComponentError') {
    return { kind: 'error', message: String((err as { payload: unknown }).payload) };
  }
  // Anything else (a trap, or the glue failing to lift malformed canonical ABI data) poisons the instance.
  const biggest = Math.max(0, ...(h.inst?.memories ?? []).map((m) => m.buffer.byteLength));
  if (err instanceof WebAssembly.RuntimeError && biggest >= h.def.memoryCapBytes * 0.75) {
    return { kind: 'memory', message: `${message} with ${Math.round(biggest / 1048576)} MiB of linear memory` };
  }
  return { kind: 'trap', message };
}

/**
 * Runs the instance's stage function once on WARMUP_FLOWS (warmup.ts) so V8
 * compiles its code before the first deadline-bound batch. The plugin's log
 * lines are not forwarded. False when the call trapped (instance poisoned).
 */
function warmUp(h: Held, encoding: 'msgpack' | 'json'): boolean {
  const inst = h.inst!;
  const fn = (['enrich', 'redact', 'format'] as const).find((f) => inst.exports[f]);
  if (!fn) return true;
  const input = new BatchEncoder().encode(WARMUP_FLOWS, encoding);
  h.muted = true;
  try {
    const direct = inst.direct[fn];
    if (direct) direct(input);
    else (inst.exports[fn] as (b: Uint8Array) => unknown).call(inst.exports, input);
    return true;
  } catch (err) {
    return classify(h, err).kind === 'error';
  } finally {
    h.muted = false;
  }
}

function setContext(h: Held, ctx: LookupContext | undefined): void {
  if (!ctx) {
    h.ctx = undefined;
    return;
  }
  const procs = new Map<number, Process>();
  for (const [pid, ppid, name, args, cgroup, uid] of ctx.processes) procs.set(pid, { pid, ppid, name, args, cgroup, uid });
  h.ctx = { procs, flows: new Map(ctx.flows) };
}

async function onMessage(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'define':
      held.set(msg.key, { def: msg });
      return;
    case 'drop': {
      const gone = held.get(msg.key);
      held.delete(msg.key);
      // The last definition of a component that takes spares takes its spare with it.
      if (gone && !spareWanted(spareKey(gone.def))) spares.delete(spareKey(gone.def));
      return;
    }
    case 'instantiate': {
      const h = held.get(msg.key);
      if (!h) {
        send({ type: 'instantiated', id: msg.id, ok: false, message: `unknown plugin ${msg.key}` });
        return;
      }
      const t0 = performance.now();
      try {
        const { fromSpare } = await instantiate(h);
        const encoding = h.inst!.exports.batchEncoding();
        const contentType = h.inst!.exports.contentType?.();
        const ms = performance.now() - t0;
        if (!warmUp(h, encoding)) {
          // The warm-up batch trapped: hand over a fresh instance (the pipeline's calls apply the policies).
          h.inst = await createInstance(h.def, { h }, false);
        }
        send({ type: 'instantiated', id: msg.id, ok: true, encoding, contentType, ms, fromSpare });
        scheduleSpare(h.def);
      } catch (err) {
        h.inst = undefined;
        send({ type: 'instantiated', id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'call': {
      const h = held.get(msg.key);
      if (!h?.inst) {
        sendResult({ type: 'result', id: msg.id, ok: false, kind: 'error', message: 'instance not ready' }, [], msg.input);
        return;
      }
      sendInvoked(msg.id, invoke(h, msg.fn, msg.input, msg.ctx), msg.input);
      return;
    }
    case 'run':
      run(msg);
      return;
  }
}

type Invoked =
  | { ok: true; output?: Uint8Array; items?: { buf: Uint8Array; offsets: Uint32Array } }
  | { ok: false; kind: FailureKind; message: string };

/** Sends an invoked stage's outcome as the result of call or run `id` (`index`: the run's step), its outputs transferred and `input`'s buffer given back. */
function sendInvoked(id: number, r: Invoked, input: Uint8Array, index?: number): void {
  const at = index === undefined ? {} : { index };
  if (!r.ok) sendResult({ type: 'result', id, ok: false, kind: r.kind, message: r.message, ...at }, [], input);
  else if (r.items) sendResult({ type: 'result', id, ok: true, items: r.items, ...at }, [r.items.buf.buffer as ArrayBuffer, r.items.offsets.buffer as ArrayBuffer], input);
  else sendResult({ type: 'result', id, ok: true, output: r.output, ...at }, [r.output!.buffer as ArrayBuffer], input);
}

/** Calls one stage function of an instance; a trap poisons it. Outputs are buffers of their own (transferable). */
function invoke(h: Held, fnName: StageFn, input: Uint8Array, ctx: LookupContext | undefined): Invoked {
  const inst = h.inst!;
  const fn = inst.exports[fnName];
  if (!fn) return { ok: false, kind: 'malformed', message: `no export ${fnName}` };
  setContext(h, ctx);
  try {
    const direct = inst.direct[fnName];
    if (direct) {
      const r = direct(input);
      if (!r.ok) return { ok: false, kind: 'error', message: r.error };
      return 'items' in r ? { ok: true, items: r.items } : { ok: true, output: r.output };
    }
    if (fnName === 'format') {
      const items = inst.exports.format!(input);
      if (!Array.isArray(items)) throw new TypeError('format returned no list');
      let total = 0;
      for (const it of items) total += it.byteLength;
      const buf = new Uint8Array(total);
      const offsets = new Uint32Array(items.length + 1);
      let pos = 0;
      for (let i = 0; i < items.length; i++) {
        buf.set(items[i], pos);
        pos += items[i].byteLength;
        offsets[i + 1] = pos;
      }
      return { ok: true, items: { buf, offsets } };
    }
    const out = (fn as (b: Uint8Array) => Uint8Array).call(inst.exports, input);
    // The glue hands back a view we own; keep its buffer when it is exactly ours.
    return { ok: true, output: out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice() };
  } catch (err) {
    const { kind, message } = classify(h, err);
    if (kind !== 'error') h.inst = undefined; // poisoned
    return { ok: false, kind, message };
  } finally {
    h.ctx = undefined;
  }
}

/**
 * A run (protocol.ts RunMsg): the steps in order on one batch. After each
 * redactor the worker splices its output into the batch (splice.ts) for the
 * next step and sends the output to the host at once; when the output cannot
 * be spliced (malformed: the host's checks decide what happens) the run stops
 * there and the host carries on stage by stage.
 */
/** Two writers used in turn: a step's input is a view of one while the next batch is written into the other. */
const spliceWriters = [new MsgpackWriter(), new MsgpackWriter()]; // grow to the batch size and are kept

function run(msg: RunMsg): void {
  let input = msg.input;
  let starts = msg.starts;
  for (let i = 0; i < msg.steps.length; i++) {
    const step = msg.steps[i];
    const h = held.get(step.key);
    if (!h?.inst) {
      sendResult({ type: 'result', id: msg.id, ok: false, kind: 'error', message: 'instance not ready', index: i }, [], msg.input);
      return;
    }
    const r = invoke(h, step.fn, input, i === 0 ? msg.ctx : undefined);
    if (!r.ok || i === msg.steps.length - 1) {
      sendInvoked(msg.id, r, msg.input, i);
      return;
    }
    const output = r.output;
    const next = output && step.fn === 'redact' ? spliceRedaction(input, output, spliceWriters[i & 1], starts) : undefined;
    if (output) send({ type: 'step', id: msg.id, index: i + 1, output }, [output.buffer as ArrayBuffer]);
    if (!output || !next) {
      sendResult({ type: 'result', id: msg.id, ok: true, stopped: true, index: i + 1 }, [], msg.input);
      return;
    }
    input = next.batch;
    starts = next.starts;
  }
}

port.on('message', (msg: ToWorker) => {
  void onMessage(msg);
});

/**
 * A plugin worker thread: holds instances of transpiled components and runs
 * one call at a time. Only what the host world defines is passed to a plugin
 * (plus granted clocks/random); the glue, instantiated asynchronously, has no
 * imports of its own. A trap discards the instance; the pool re-instantiates.
 */
import { randomFillSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { BatchEncoder } from './codec.js';
import { directStage, type DirectStage } from './direct-call.js';
import { WARMUP_FLOWS } from './warmup.js';
import type { DefineMsg, FailureKind, FromWorker, LookupContext, StageFn, ToWorker } from './protocol.js';
import { unversioned } from './wit-check.js';

interface PluginExports {
  batchEncoding(): 'msgpack' | 'json';
  contentType?(): string;
  enrich?(b: Uint8Array): Uint8Array;
  redact?(b: Uint8Array): Uint8Array;
  format?(b: Uint8Array): Uint8Array[];
}

interface Process {
  pid: number;
  ppid: number;
  name: string;
  args: string[];
  cgroup: string;
  uid: number;
}

interface Held {
  def: DefineMsg;
  exports?: PluginExports;
  memories: WebAssembly.Memory[];
  /** The component's core instances (for calls without the glue, direct-call.ts). */
  cores: WebAssembly.Instance[];
  /** Stage functions callable directly, found at instantiation. */
  direct: Partial<Record<StageFn, DirectStage>>;
  /** Set during the warm-up call: the plugin's log lines are dropped. */
  muted?: boolean;
  /** Lookups of the batch being processed. */
  ctx?: { procs: Map<number, Process>; flows: Map<string, number> };
}

const port = parentPort!;
const held = new Map<string, Held>();
const glues = new Map<string, Promise<{ instantiate: Function }>>();
const MAX_LOG = 2048;
const MAX_CHAIN = 16;

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function hostImports(h: Held): Record<string, unknown> {
  const proc = (pid: number) => h.ctx?.procs.get(pid);
  const host = {
    log(level: string, message: string) {
      if (h.muted) return;
      send({ type: 'log', key: h.def.key, level, message: message.length > MAX_LOG ? `${message.slice(0, MAX_LOG)}…` : message });
    },
    config: () => h.def.config,
    getProcess: (pid: number) => proc(pid),
    processChain(pid: number) {
      const out: Process[] = [];
      for (let p = proc(pid); p && out.length < MAX_CHAIN; p = p.ppid ? proc(p.ppid) : undefined) out.push(p);
      return out;
    },
    flowProcess(id: string) {
      const pid = h.ctx?.flows.get(id);
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
  for (const name of h.def.imports) {
    const base = unversioned(name);
    const impl = base === 'procflow:plugin/host' ? host : base === 'procflow:plugin/types' ? {} : h.def.grants.length ? granted[base] : undefined;
    if (impl === undefined) continue; // the loader refused such components already
    imports[name] = impl;
    imports[base] = impl; // the glue looks imports up unversioned
  }
  return imports;
}

async function instantiate(h: Held): Promise<PluginExports> {
  let glue = glues.get(h.def.glue);
  if (!glue) glues.set(h.def.glue, (glue = import(h.def.glue)));
  const { instantiate: inst } = await glue;
  h.memories = [];
  h.cores = [];
  h.direct = {};
  const getCoreModule = (name: string) => {
    const m = h.def.modules[name];
    if (!m) throw new Error(`core module ${name} missing`);
    return m;
  };
  const instantiateCore = async (m: WebAssembly.Module, imports?: WebAssembly.Imports) => {
    const instance = await WebAssembly.instantiate(m, imports ?? {});
    for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) h.memories.push(v);
    h.cores.push(instance);
    return instance;
  };
  const exports = (await inst(getCoreModule, hostImports(h), instantiateCore)) as PluginExports;
  for (const fn of ['enrich', 'redact', 'format'] as const) {
    if (!exports[fn]) continue;
    const d = directStage(h.cores, fn);
    if (d) h.direct[fn] = d;
  }
  return exports;
}

function classify(h: Held, err: unknown): { kind: FailureKind; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err && typeof err === 'object' && 'payload' in err && (err as { constructor: { name: string } }).constructor.name === 'ComponentError') {
    return { kind: 'error', message: String((err as { payload: unknown }).payload) };
  }
  // Anything else (a trap, or the glue failing to lift malformed canonical ABI data) poisons the instance.
  const biggest = Math.max(0, ...h.memories.map((m) => m.buffer.byteLength));
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
  const fn = (['enrich', 'redact', 'format'] as const).find((f) => h.exports?.[f]);
  if (!fn) return true;
  const input = new BatchEncoder().encode(WARMUP_FLOWS, encoding);
  h.muted = true;
  try {
    const direct = h.direct[fn];
    if (direct) direct(input);
    else (h.exports![fn] as (b: Uint8Array) => unknown).call(h.exports, input);
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
      held.set(msg.key, { def: msg, memories: [], cores: [], direct: {} });
      return;
    case 'drop':
      held.delete(msg.key);
      return;
    case 'instantiate': {
      const h = held.get(msg.key);
      if (!h) {
        send({ type: 'instantiated', id: msg.id, ok: false, message: `unknown plugin ${msg.key}` });
        return;
      }
      const t0 = performance.now();
      try {
        h.exports = await instantiate(h);
        const encoding = h.exports.batchEncoding();
        const contentType = h.exports.contentType?.();
        const ms = performance.now() - t0;
        if (!warmUp(h, encoding)) {
          // The warm-up batch trapped: hand over a fresh instance (the pipeline's calls apply the policies).
          h.exports = await instantiate(h);
        }
        send({ type: 'instantiated', id: msg.id, ok: true, encoding, contentType, ms });
      } catch (err) {
        h.exports = undefined;
        send({ type: 'instantiated', id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'call': {
      const h = held.get(msg.key);
      if (!h?.exports) {
        send({ type: 'result', id: msg.id, ok: false, kind: 'error', message: 'instance not ready' });
        return;
      }
      const fn = h.exports[msg.fn];
      if (!fn) {
        send({ type: 'result', id: msg.id, ok: false, kind: 'malformed', message: `no export ${msg.fn}` });
        return;
      }
      setContext(h, msg.ctx);
      try {
        const direct = h.direct[msg.fn];
        if (direct) {
          const r = direct(msg.input);
          if (!r.ok) {
            send({ type: 'result', id: msg.id, ok: false, kind: 'error', message: r.error });
          } else if ('items' in r) {
            send({ type: 'result', id: msg.id, ok: true, items: r.items }, [r.items.buf.buffer as ArrayBuffer, r.items.offsets.buffer as ArrayBuffer]);
          } else {
            send({ type: 'result', id: msg.id, ok: true, output: r.output }, [r.output.buffer as ArrayBuffer]);
          }
        } else if (msg.fn === 'format') {
          const items = h.exports.format!(msg.input);
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
          send({ type: 'result', id: msg.id, ok: true, items: { buf, offsets } }, [buf.buffer, offsets.buffer]);
        } else {
          const out = (fn as (b: Uint8Array) => Uint8Array).call(h.exports, msg.input);
          // The glue hands back a view we own; transfer its buffer when it is exactly ours.
          const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
          send({ type: 'result', id: msg.id, ok: true, output: owned }, [owned.buffer as ArrayBuffer]);
        }
      } catch (err) {
        const { kind, message } = classify(h, err);
        if (kind !== 'error') h.exports = undefined; // poisoned
        send({ type: 'result', id: msg.id, ok: false, kind, message });
      } finally {
        h.ctx = undefined;
      }
      return;
    }
  }
}

port.on('message', (msg: ToWorker) => {
  void onMessage(msg);
});

/** Messages between the pool (main thread) and plugin workers. */
import type { Grant } from './wit-check.js';

/** The host's read-only view of processes for one batch (served to `get-process` & co.). */
export interface LookupContext {
  /** [pid, ppid, name, args, cgroup, uid] of every process a flow of the batch refers to, and their ancestors. */
  processes: [number, number, string, string[], string, number][];
  /** [flow id, pid] for flows attributed to one pid. */
  flows: [string, number][];
}

/** A plugin instance a worker should hold. */
export interface DefineMsg {
  type: 'define';
  key: string;
  name: string;
  /** file: URL of the jco glue. */
  glue: string;
  modules: Record<string, WebAssembly.Module>;
  config: [string, string][];
  grants: Grant[];
  /** The component's imports as named in its WIT (glue looks them up by unversioned and versioned name). */
  imports: string[];
  memoryCapBytes: number;
  /** Keep a spare instance of this component in the worker, built in idle time, for the next instantiation (default true). */
  spare?: boolean;
}

/** Stage entry points. */
export type StageFn = 'enrich' | 'redact' | 'format';

export type ToWorker =
  | DefineMsg
  | { type: 'instantiate'; id: number; key: string }
  | { type: 'call'; id: number; key: string; fn: StageFn; input: Uint8Array; ctx?: LookupContext }
  | RunMsg
  | { type: 'drop'; key: string };

/** One stage of a run. */
export interface RunStep {
  key: string;
  fn: StageFn;
}

/**
 * Several stages in one worker call (redactors, then optionally a formatter,
 * all MessagePack): the worker splices each redactor's output into the batch
 * itself and hands it to the next stage, instead of a round trip per stage
 * and a host-side re-encode. Each finished non-final step's output is sent
 * back at once in a `step` message (the host applies it even if a later step
 * fails or times out).
 */
export interface RunMsg {
  type: 'run';
  id: number;
  steps: RunStep[];
  input: Uint8Array;
  /** Where each flow starts in `input` (n + 1 offsets), from the host's encoder: lets the splice copy unchanged flows without walking them. */
  starts?: Uint32Array;
  /** Lookups for the first step (later steps of a run never need them). */
  ctx?: LookupContext;
}

/** How a call failed: `trap` and `memory` poison the instance. */
export type FailureKind = 'timeout' | 'trap' | 'memory' | 'error' | 'malformed' | 'crash';

export type FromWorker =
  | { type: 'instantiated'; id: number; ok: true; encoding: 'msgpack' | 'json'; contentType?: string; ms: number; fromSpare: boolean }
  | { type: 'instantiated'; id: number; ok: false; message: string }
  /** `spent`: the input batch's buffer, given back for the host's next batches (batch-buffers.ts). */
  | { type: 'result'; id: number; ok: true; output?: Uint8Array; items?: { buf: Uint8Array; offsets: Uint32Array }; index?: number; stopped?: boolean; spent?: ArrayBuffer }
  | { type: 'result'; id: number; ok: false; kind: FailureKind; message: string; index?: number; spent?: ArrayBuffer }
  /** A run's step `index - 1` finished with `output`; step `index` starts now. */
  | { type: 'step'; id: number; index: number; output: Uint8Array }
  | { type: 'log'; key: string; level: string; message: string }
  /** A spare instance of `key`'s component is ready in this worker, holding `memoryBytes` of linear memory. */
  | { type: 'spare'; key: string; memoryBytes: number };

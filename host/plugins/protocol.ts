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
}

/** Stage entry points. */
export type StageFn = 'enrich' | 'redact' | 'format';

export type ToWorker =
  | DefineMsg
  | { type: 'instantiate'; id: number; key: string }
  | { type: 'call'; id: number; key: string; fn: StageFn; input: Uint8Array; ctx?: LookupContext }
  | { type: 'drop'; key: string };

/** How a call failed: `trap` and `memory` poison the instance. */
export type FailureKind = 'timeout' | 'trap' | 'memory' | 'error' | 'malformed' | 'crash';

export type FromWorker =
  | { type: 'instantiated'; id: number; ok: true; encoding: 'msgpack' | 'json'; contentType?: string; ms: number }
  | { type: 'instantiated'; id: number; ok: false; message: string }
  | { type: 'result'; id: number; ok: true; output?: Uint8Array; items?: { buf: Uint8Array; offsets: Uint32Array } }
  | { type: 'result'; id: number; ok: false; kind: FailureKind; message: string }
  | { type: 'log'; key: string; level: string; message: string };

/**
 * The stage functions' calls, lowered and lifted by the host itself instead of
 * through jco's generated glue. The glue lifts a formatter's
 * `list<list<u8>>` into one ArrayBuffer per item (a copy and an allocation per
 * flow) that the worker then joins again; here the items are read straight
 * from the plugin's memory into one buffer with offsets. Only the two stage
 * signatures of procflow:plugin@0.1.0 are handled, per the canonical ABI
 * (32-bit memory, `result` discriminant at +0, payload at +4):
 *
 *   enrich/redact: func(list<u8>) -> result<list<u8>, string>
 *   format:        func(list<u8>) -> result<list<list<u8>>, string>
 *
 * The host imports of such a module are lowered here too (`coreImports`):
 * jco's trampolines expect to run inside the glue's own export calls.
 * Anything that does not look like such an export falls back to the glue
 * (`directStage` returns undefined).
 */
import { endianness } from 'node:os';
import type { StageFn } from './protocol.js';
import { unversioned } from './wit-check.js';

/** What a direct call returns: the output batch, the items, or the plugin's own error message. */
export type DirectResult =
  | { ok: true; output: Uint8Array }
  | { ok: true; items: { buf: Uint8Array; offsets: Uint32Array } }
  | { ok: false; error: string };

/** A stage function of a core instance, callable without the glue. */
export type DirectStage = (input: Uint8Array) => DirectResult;

/** Raised when the plugin's return value breaks the canonical ABI (bad discriminant, out-of-bounds list). */
export class AbiViolation extends Error {}

type CoreExports = Record<string, unknown> & {
  memory: WebAssembly.Memory;
  cabi_realloc: (oldPtr: number, oldSize: number, align: number, newSize: number) => number;
};

const decoder = new TextDecoder('utf-8', { fatal: false });
const LITTLE_ENDIAN = endianness() === 'LE';

/** A Uint8Array over an ArrayBuffer of its own, not zero-filled (the caller writes every byte). */
function uninitialised(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

function isCore(e: Record<string, unknown>): e is CoreExports {
  return e.memory instanceof WebAssembly.Memory && typeof e.cabi_realloc === 'function';
}

/** The direct form of stage `fn` in one of the component's core instances, if it has one. */
export function directStage(instances: readonly WebAssembly.Instance[], fn: StageFn): DirectStage | undefined {
  for (const inst of instances) {
    const e = inst.exports;
    if (!isCore(e)) continue;
    const call = e[fn];
    const post = e[`cabi_post_${fn}`];
    if (typeof call !== 'function') continue;
    return (input) => {
      const mem = e.memory;
      const ptr = e.cabi_realloc(0, 0, 1, input.byteLength) >>> 0;
      new Uint8Array(mem.buffer, ptr, input.byteLength).set(input);
      const ret = (call as (p: number, n: number) => number)(ptr, input.byteLength) >>> 0;
      try {
        return lift(mem, ret, fn === 'format');
      } finally {
        if (typeof post === 'function') (post as (r: number) => void)(ret);
      }
    };
  }
  return undefined;
}

function checkRange(mem: WebAssembly.Memory, ptr: number, len: number, what: string): void {
  if (ptr + len > mem.buffer.byteLength) throw new AbiViolation(`${what} [${ptr}, +${len}) lies outside the plugin's memory`);
}

function lift(mem: WebAssembly.Memory, ret: number, items: boolean): DirectResult {
  checkRange(mem, ret, 12, 'return area');
  const dv = new DataView(mem.buffer);
  const tag = dv.getUint8(ret);
  const ptr = dv.getUint32(ret + 4, true);
  const len = dv.getUint32(ret + 8, true);
  if (tag === 1) {
    checkRange(mem, ptr, len, 'error string');
    return { ok: false, error: decoder.decode(new Uint8Array(mem.buffer, ptr, len)) };
  }
  if (tag !== 0) throw new AbiViolation(`invalid result discriminant ${tag}`);
  if (!items) {
    checkRange(mem, ptr, len, 'output batch');
    const output = uninitialised(len);
    output.set(new Uint8Array(mem.buffer, ptr, len));
    return { ok: true, output };
  }
  if (ptr % 4 !== 0) throw new AbiViolation(`list pointer ${ptr} is not aligned to 4`);
  checkRange(mem, ptr, len * 8, 'item list');
  const size = mem.buffer.byteLength;
  // (pointer, length) pairs of u32; read as one typed array where the host is little-endian, as the canonical ABI is
  const list = LITTLE_ENDIAN ? new Uint32Array(mem.buffer, ptr, len * 2) : undefined;
  const itemPtr = (i: number) => (list ? list[i * 2] : dv.getUint32(ptr + i * 8, true));
  const itemLen = (i: number) => (list ? list[i * 2 + 1] : dv.getUint32(ptr + i * 8 + 4, true));
  const offsets = new Uint32Array(len + 1);
  // Items written back to back (the SDKs do) are copied in one go.
  let contiguous = true;
  let total = 0;
  const first = len > 0 ? itemPtr(0) : 0;
  for (let i = 0; i < len; i++) {
    const p = itemPtr(i);
    const n = itemLen(i);
    if (p + n > size) throw new AbiViolation(`item ${i} [${p}, +${n}) lies outside the plugin's memory`);
    if (p !== first + total) contiguous = false;
    total += n;
    offsets[i + 1] = total;
  }
  // Uninitialised: every byte is copied over (ArrayBuffer#slice and new Uint8Array zero-fill first).
  const buf = uninitialised(total);
  if (contiguous) buf.set(new Uint8Array(mem.buffer, first, total));
  else {
    const src = new Uint8Array(mem.buffer);
    for (let i = 0; i < len; i++) {
      const p = itemPtr(i);
      buf.set(src.subarray(p, p + offsets[i + 1] - offsets[i]), offsets[i]);
    }
  }
  return { ok: true, items: { buf, offsets } };
}

/** A process as the host world's lookups return it (types.process). */
export interface HostProcess {
  pid: number;
  ppid: number;
  name: string;
  args: string[];
  cgroup: string;
  uid: number;
}

/** The host world's functions as the worker implements them, on JavaScript values. */
export interface HostFunctions {
  log(level: string, message: string): void;
  config(): [string, string][];
  getProcess(pid: number): HostProcess | undefined;
  processChain(pid: number): HostProcess[];
  flowProcess(id: string): HostProcess | undefined;
}

/** types.level, by its canonical ABI index. */
const LEVELS = ['debug', 'info', 'warn', 'error'];
/** types.process in linear memory: pid, ppid, name, args, cgroup, uid (align 4). */
const PROCESS_SIZE = 36;

const encoder = new TextEncoder();

/**
 * Whether a core module is one whose stage functions `directStage` calls (it
 * exports its memory, `cabi_realloc` and a stage function by its plain name):
 * such a module gets its host imports from `lowerHostImports` too.
 */
export function isDirectModule(m: WebAssembly.Module): boolean {
  const names = new Set(WebAssembly.Module.exports(m).map((e) => e.name));
  return names.has('memory') && names.has('cabi_realloc') && (names.has('enrich') || names.has('redact') || names.has('format'));
}

/**
 * The host interface's functions at the core level, lowered by the host per
 * the canonical ABI (UTF-8 strings; results with more than one flat value
 * written to the return pointer the plugin passes last), for a module whose
 * stages are called directly. jco's import trampolines cannot serve those
 * calls: called outside the glue's export wrappers, each import call opens a
 * task the glue never removes from its task list, so every call leaked an
 * object and scanned that list: a 10-flow redact-args call went from 0.35 to
 * 17 ms over 40k calls. `core` gives the calling instance's exports (memory,
 * cabi_realloc) once it exists. Keys are the WIT names the module imports.
 */
export function lowerHostImports(host: HostFunctions, core: () => Record<string, unknown>): Record<string, (...a: number[]) => void> {
  const mem = () => (core().memory as WebAssembly.Memory).buffer;
  const alloc = (align: number, size: number): number => (size === 0 ? align : ((core().cabi_realloc as (a: number, b: number, c: number, d: number) => number)(0, 0, align, size) >>> 0));
  const readStr = (ptr: number, len: number): string => {
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > mem().byteLength) throw new AbiViolation(`string [${ptr}, +${len}) lies outside the plugin's memory`);
    return decoder.decode(new Uint8Array(mem(), ptr, len));
  };
  /** Writes a string's bytes into fresh plugin memory; returns [ptr, len]. */
  const str = (s: string): [number, number] => {
    const bytes = encoder.encode(s);
    const p = alloc(1, bytes.length);
    new Uint8Array(mem(), p, bytes.length).set(bytes);
    return [p, bytes.length];
  };
  const u32 = (at: number, v: number) => new DataView(mem()).setUint32(at, v >>> 0, true);
  const pair = (at: number, [p, n]: [number, number]) => {
    u32(at, p);
    u32(at + 4, n);
  };
  /** Lowers a list whose elements take `size` bytes each (align 4), written by `put`. */
  const list = <T>(items: readonly T[], size: number, put: (at: number, item: T) => void): [number, number] => {
    const base = alloc(4, items.length * size);
    for (let i = 0; i < items.length; i++) put(base + i * size, items[i]);
    return [base, items.length];
  };
  const proc = (at: number, p: HostProcess) => {
    // Everything allocated before anything is written: an allocation may grow (move) the memory's buffer.
    const name = str(p.name);
    const args = list(p.args, 8, (a, s) => pair(a, str(s)));
    const cgroup = str(p.cgroup);
    u32(at, p.pid);
    u32(at + 4, p.ppid);
    pair(at + 8, name);
    pair(at + 16, args);
    pair(at + 24, cgroup);
    u32(at + 32, p.uid);
  };
  const option = (ret: number, p: HostProcess | undefined) => {
    new DataView(mem()).setUint8(ret, p ? 1 : 0);
    if (p) proc(ret + 4, p);
  };
  return {
    log: (level, ptr, len) => host.log(LEVELS[level] ?? 'info', readStr(ptr, len)),
    config: (ret) => pair(ret, list(host.config(), 16, (at, [k, v]) => {
      pair(at, str(k));
      pair(at + 8, str(v));
    })),
    'get-process': (pid, ret) => option(ret, host.getProcess(pid >>> 0)),
    'process-chain': (pid, ret) => pair(ret, list(host.processChain(pid >>> 0), PROCESS_SIZE, proc)),
    'flow-process': (ptr, len, ret) => option(ret, host.flowProcess(readStr(ptr, len))),
  };
}

/**
 * The imports to instantiate core module `m` with: the glue's, with the host
 * interface replaced by `lowerHostImports` when `m` is a direct module.
 * `self` gives the instance once it exists (its memory and allocator).
 */
export function coreImports(m: WebAssembly.Module, imports: WebAssembly.Imports | undefined, host: HostFunctions, self: () => WebAssembly.Instance): WebAssembly.Imports {
  if (!imports || !isDirectModule(m)) return imports ?? {};
  const lowered = lowerHostImports(host, () => self().exports as Record<string, unknown>);
  const out: WebAssembly.Imports = { ...imports };
  for (const k of Object.keys(out)) if (unversioned(k) === 'procflow:plugin/host') out[k] = { ...out[k], ...lowered };
  return out;
}

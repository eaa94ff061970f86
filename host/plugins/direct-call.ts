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
 * Imports still go through the glue's trampolines (they need no task of
 * their own). Anything that does not look like such an export falls back to
 * the glue (`directStage` returns undefined).
 */
import type { StageFn } from './protocol.js';

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
    return { ok: true, output: new Uint8Array(mem.buffer.slice(ptr, ptr + len)) };
  }
  if (ptr % 4 !== 0) throw new AbiViolation(`list pointer ${ptr} is not aligned to 4`);
  checkRange(mem, ptr, len * 8, 'item list');
  const offsets = new Uint32Array(len + 1);
  // Items written back to back (the SDKs do) are copied in one go.
  let contiguous = true;
  let total = 0;
  const first = len > 0 ? dv.getUint32(ptr, true) : 0;
  for (let i = 0; i < len; i++) {
    const p = dv.getUint32(ptr + i * 8, true);
    const n = dv.getUint32(ptr + i * 8 + 4, true);
    checkRange(mem, p, n, `item ${i}`);
    if (p !== first + total) contiguous = false;
    total += n;
    offsets[i + 1] = total;
  }
  let buf: Uint8Array;
  if (contiguous) buf = new Uint8Array(mem.buffer.slice(first, first + total));
  else {
    buf = new Uint8Array(total);
    const src = new Uint8Array(mem.buffer);
    for (let i = 0; i < len; i++) {
      const p = dv.getUint32(ptr + i * 8, true);
      buf.set(src.subarray(p, p + offsets[i + 1] - offsets[i]), offsets[i]);
    }
  }
  return { ok: true, items: { buf, offsets } };
}

/**
 * The host's own lowering/lifting of the stage calls (host/plugins/direct-call.ts),
 * against core "instances" whose exports are written here to return exactly
 * the canonical-ABI layouts under test (the built-in plugins exercise the
 * normal path in chain.test.ts and the format tests).
 */
import { describe, expect, it } from 'vitest';
import { AbiViolation, directStage } from '../../host/plugins/direct-call.js';

/** A fake core instance: a memory, a bump allocator, and a stage export that writes `ret` into the return area. */
function core(fn: 'redact' | 'format', ret: (mem: DataView, bytes: Uint8Array, alloc: (n: number, align?: number) => number) => [number, number, number]) {
  const memory = new WebAssembly.Memory({ initial: 1 });
  let top = 1024;
  const alloc = (n: number, align = 1) => {
    top = Math.ceil(top / align) * align;
    const p = top;
    top += n;
    return p;
  };
  let posted = 0;
  let input = new Uint8Array(0);
  const exports: Record<string, unknown> = {
    memory,
    cabi_realloc: (_o: number, _s: number, align: number, n: number) => alloc(n, align),
    [fn]: (ptr: number, len: number) => {
      input = new Uint8Array(memory.buffer.slice(ptr, ptr + len));
      const dv = new DataView(memory.buffer);
      const [tag, a, b] = ret(dv, input, alloc);
      const area = alloc(12, 4);
      dv.setUint8(area, tag);
      dv.setUint32(area + 4, a, true);
      dv.setUint32(area + 8, b, true);
      return area;
    },
    [`cabi_post_${fn}`]: () => { posted++; },
  };
  return { instance: { exports } as unknown as WebAssembly.Instance, posted: () => posted, input: () => input };
}

function put(dv: DataView, at: number, bytes: Uint8Array): void {
  new Uint8Array(dv.buffer, at, bytes.length).set(bytes);
}

describe('direct stage calls', () => {
  it('lifts a redactor output batch and calls post-return once', () => {
    const c = core('redact', (dv, input, alloc) => {
      const out = alloc(input.length);
      put(dv, out, input.map((x) => x ^ 0xff));
      return [0, out, input.length];
    });
    const stage = directStage([c.instance], 'redact')!;
    const r = stage(new Uint8Array([1, 2, 3]));
    expect(r).toEqual({ ok: true, output: new Uint8Array([0xfe, 0xfd, 0xfc]) });
    expect(c.input()).toEqual(new Uint8Array([1, 2, 3]));
    expect(c.posted()).toBe(1);
  });

  it('lifts formatter items, contiguous or scattered, into one buffer with offsets', () => {
    for (const scattered of [false, true]) {
      const c = core('format', (dv, _input, alloc) => {
        const items = ['{"a":1}', '', 'xyz'].map((s) => new TextEncoder().encode(s));
        const ptrs = items.map((it) => {
          const p = alloc(it.length);
          put(dv, p, it);
          if (scattered) alloc(7); // a gap between items
          return p;
        });
        const list = alloc(items.length * 8, 4);
        items.forEach((it, i) => {
          dv.setUint32(list + i * 8, ptrs[i], true);
          dv.setUint32(list + i * 8 + 4, it.length, true);
        });
        return [0, list, items.length];
      });
      const r = directStage([c.instance], 'format')!(new Uint8Array([9]));
      if (!r.ok || !('items' in r)) throw new Error('expected items');
      expect([...r.items.offsets]).toEqual([0, 7, 7, 10]);
      expect(new TextDecoder().decode(r.items.buf)).toBe('{"a":1}xyz');
      expect(c.posted()).toBe(1);
    }
  });

  it("returns the plugin's error string as an error, not a trap", () => {
    const c = core('redact', (dv, _input, alloc) => {
      const msg = new TextEncoder().encode('config mode: expected mask, hash or drop-args');
      const p = alloc(msg.length);
      put(dv, p, msg);
      return [1, p, msg.length];
    });
    expect(directStage([c.instance], 'redact')!(new Uint8Array(1))).toEqual({ ok: false, error: 'config mode: expected mask, hash or drop-args' });
    expect(c.posted()).toBe(1);
  });

  it('refuses a bad discriminant, lists outside memory and misaligned item lists (and still calls post-return)', () => {
    const cases: [string, 'redact' | 'format', (dv: DataView, i: Uint8Array, a: (n: number, al?: number) => number) => [number, number, number], RegExp][] = [
      ['discriminant', 'redact', () => [2, 0, 0], /invalid result discriminant 2/],
      ['output outside memory', 'redact', () => [0, 65_530, 100], /output batch .* outside/],
      ['item list outside memory', 'format', () => [0, 65_528, 4], /item list .* outside/],
      ['misaligned item list', 'format', () => [0, 1026, 1], /not aligned to 4/],
      ['item outside memory', 'format', (dv, _i, alloc) => {
        const list = alloc(8, 4);
        dv.setUint32(list, 65_000, true);
        dv.setUint32(list + 4, 10_000, true);
        return [0, list, 1];
      }, /item 0 .* outside/],
    ];
    for (const [name, fn, ret, message] of cases) {
      const c = core(fn, ret);
      const stage = directStage([c.instance], fn)!;
      expect(() => stage(new Uint8Array(1)), name).toThrow(AbiViolation);
      expect(() => stage(new Uint8Array(1)), name).toThrow(message);
      expect(c.posted(), name).toBe(2);
    }
  });

  it('is not offered for instances without the export, memory or allocator (the glue is used instead)', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const noAlloc = { exports: { memory, redact: () => 0 } } as unknown as WebAssembly.Instance;
    const noFn = { exports: { memory, cabi_realloc: () => 0 } } as unknown as WebAssembly.Instance;
    expect(directStage([noAlloc, noFn], 'redact')).toBeUndefined();
  });
});

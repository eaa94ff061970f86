/**
 * The host's own lowering/lifting of the stage calls (host/plugins/direct-call.ts),
 * against core "instances" whose exports are written here to return exactly
 * the canonical-ABI layouts under test (the built-in plugins exercise the
 * normal path in chain.test.ts and the format tests).
 */
import { describe, expect, it } from 'vitest';
import { BatchEncoder } from '../../host/plugins/codec.js';
import { AbiViolation, coreImports, directStage, lowerHostImports, type HostFunctions } from '../../host/plugins/direct-call.js';
import { loadPlugin } from '../../host/plugins/loader.js';
import { unversioned } from '../../host/plugins/wit-check.js';
import { CACHE_DIR, entry, flow } from './helpers.js';

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

describe('host imports lowered by the host (lowerHostImports, coreImports)', () => {
  /** A fake core instance's exports: a memory and a bump allocator. */
  function fakeCore() {
    const memory = new WebAssembly.Memory({ initial: 1 });
    let top = 4096;
    const cabi_realloc = (_o: number, _s: number, align: number, n: number) => {
      top = Math.ceil(top / align) * align;
      const p = top;
      top += n;
      return p;
    };
    return { memory, cabi_realloc };
  }
  const curl = { pid: 42, ppid: 7, name: '/usr/bin/curl', args: ['-sS', 'https://exämple.org'], cgroup: '/system.slice/x.scope', uid: 1000 };
  const host = (over: Partial<HostFunctions> = {}): HostFunctions => ({
    log() {}, config: () => [], getProcess: () => undefined, processChain: () => [], flowProcess: () => undefined, ...over,
  });

  function readProcess(mem: WebAssembly.Memory, at: number) {
    const dv = new DataView(mem.buffer);
    const str = (p: number) => new TextDecoder().decode(new Uint8Array(mem.buffer, dv.getUint32(p, true), dv.getUint32(p + 4, true)));
    const argsAt = dv.getUint32(at + 16, true);
    const args = Array.from({ length: dv.getUint32(at + 20, true) }, (_, i) => str(argsAt + i * 8));
    return { pid: dv.getUint32(at, true), ppid: dv.getUint32(at + 4, true), name: str(at + 8), args, cgroup: str(at + 24), uid: dv.getUint32(at + 32, true) };
  }

  it('writes types.process, option<process> and list<process> in the canonical ABI layout (UTF-8 strings)', () => {
    const c = fakeCore();
    const f = lowerHostImports(host({ getProcess: (pid) => (pid === 42 ? curl : undefined), processChain: () => [curl, { ...curl, pid: 7, ppid: 1, name: '/bin/bash', args: [] }], flowProcess: (id) => (id === 'flow-1' ? curl : undefined) }), () => c);
    const dv = () => new DataView(c.memory.buffer);
    f['get-process'](42, 64);
    expect(dv().getUint8(64)).toBe(1);
    expect(readProcess(c.memory, 68)).toEqual(curl);
    f['get-process'](9, 128);
    expect(dv().getUint8(128)).toBe(0);
    new Uint8Array(c.memory.buffer).set(new TextEncoder().encode('flow-1'), 256);
    f['flow-process'](256, 6, 192);
    expect(dv().getUint8(192)).toBe(1);
    expect(readProcess(c.memory, 196).name).toBe('/usr/bin/curl');
    f['process-chain'](42, 320);
    const [base, n] = [dv().getUint32(320, true), dv().getUint32(324, true)];
    expect(n).toBe(2);
    expect([readProcess(c.memory, base), readProcess(c.memory, base + 36)].map((p) => [p.pid, p.name, p.args])).toEqual([[42, '/usr/bin/curl', curl.args], [7, '/bin/bash', []]]);
  });

  it('reads log lines and writes config as list<tuple<string, string>>', () => {
    const c = fakeCore();
    const lines: [string, string][] = [];
    const f = lowerHostImports(host({ log: (l, m) => lines.push([l, m]), config: () => [['mode', 'mask'], ['replacement', '[X]']] }), () => c);
    new Uint8Array(c.memory.buffer).set(new TextEncoder().encode('hello'), 512);
    f.log(2, 512, 5);
    expect(lines).toEqual([['warn', 'hello']]);
    f.config(600);
    const dv = new DataView(c.memory.buffer);
    const str = (p: number) => new TextDecoder().decode(new Uint8Array(c.memory.buffer, dv.getUint32(p, true), dv.getUint32(p + 4, true)));
    const [base, n] = [dv.getUint32(600, true), dv.getUint32(604, true)];
    expect(Array.from({ length: n }, (_, i) => [str(base + i * 16), str(base + i * 16 + 8)])).toEqual([['mode', 'mask'], ['replacement', '[X]']]);
    expect(() => f.log(0, 65530, 100)).toThrow(AbiViolation);
  });

  it("a directly called plugin's host imports never reach jco's trampolines (called outside the glue's exports, each leaked a task)", async () => {
    const loaded = await loadPlugin(await entry('builtin/redact-args'), { cacheDir: CACHE_DIR });
    const { instantiate } = (await import(loaded.glue)) as { instantiate: Function };
    let viaGlue = 0;
    const glueSide = host({ log: () => void viaGlue++, config: () => (viaGlue++, []) });
    let configCalls = 0;
    const lines: string[] = [];
    const ours = host({ log: (_l, m) => void lines.push(m), config: () => (configCalls++, [['replacement', '[X]']]) });
    const imports: Record<string, unknown> = {};
    for (const n of loaded.imports) imports[n] = imports[unversioned(n)] = glueSide;
    const cores: WebAssembly.Instance[] = [];
    await instantiate((n: string) => loaded.modules[n], imports, (m: WebAssembly.Module, im?: WebAssembly.Imports) => {
      let self: WebAssembly.Instance | undefined;
      const inst = new WebAssembly.Instance(m, coreImports(m, im, ours, () => self!));
      self = inst;
      cores.push(inst);
      return inst;
    });
    const redact = directStage(cores, 'redact')!;
    for (let i = 0; i < 3; i++) {
      const r = redact(new BatchEncoder().encode([flow(i)], 'msgpack'));
      expect(r.ok).toBe(true);
      expect(Buffer.from((r as { output: Uint8Array }).output).toString('latin1')).toContain('[X]');
    }
    expect(configCalls).toBe(3);
    expect(lines.filter((l) => l.startsWith('redact-summary ')).length).toBe(3);
    expect(viaGlue).toBe(0);
  });
});

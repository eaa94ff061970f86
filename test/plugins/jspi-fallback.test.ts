/**
 * host/plugins/jspi-fallback.ts: workers give `WebAssembly` a `promising`
 * that throws a ready-made error when the engine has no JSPI, so jco's glue
 * takes its fallback without V8 re-parsing the glue to word a TypeError.
 */
import { describe, expect, it } from 'vitest';
import { installPromisingFallback } from '../../host/plugins/jspi-fallback.js';

describe('installPromisingFallback', () => {
  it('adds a promising that always throws the same TypeError when there is none', () => {
    const wasm: { promising?: unknown } = {};
    installPromisingFallback(wasm);
    expect(typeof wasm.promising).toBe('function');
    const call = () => (wasm.promising as (f: unknown) => unknown)(() => 0);
    let first: unknown;
    try {
      call();
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(TypeError);
    expect(call).toThrow(first as Error); // the same object: nothing is built per call
  });

  it('keeps a real promising', () => {
    const real = (f: unknown) => f;
    const wasm: { promising?: unknown } = { promising: real };
    installPromisingFallback(wasm);
    expect(wasm.promising).toBe(real);
  });

  it("lets jco's fallback pattern (try promising, catch → the plain export) pick the plain export", () => {
    const wasm: { promising?: unknown } = {};
    installPromisingFallback(wasm);
    const exported = () => 42;
    let chosen: () => number;
    try {
      chosen = (wasm.promising as (f: () => number) => () => number)(exported);
    } catch {
      chosen = exported;
    }
    expect(chosen).toBe(exported);
    expect(chosen()).toBe(42);
  });
});

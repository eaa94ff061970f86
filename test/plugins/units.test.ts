/** Pure parts of the plugin runtime: WIT import check, config validation, wasm rewrites, policies. */
import { describe, expect, it } from 'vitest';
import { validatePluginsConfig } from '../../host/plugins/config.js';
import { applyRedaction, MalformedOutput, maskArgs, splitItems } from '../../host/plugins/policy.js';
import { capMemory, memoryLimits, renameExports } from '../../host/plugins/wasm-binary.js';
import { parseWorld, refusedImports, stageOf } from '../../host/plugins/wit-check.js';
import { flows } from './helpers.js';

describe('wit-check', () => {
  const wit = `package root:component;

world root {
  import procflow:plugin/types@0.1.0;
  import procflow:plugin/host@0.1.0;
  import wasi:random/random@0.2.3;
  import wasi:filesystem/types@0.2.3;
  use procflow:plugin/types@0.1.0.{batch, encoding};

  export batch-encoding: func() -> encoding;
  export redact: func(flows: batch) -> result<batch, string>;
}
`;
  it('parses imports and exports of the root world', () => {
    expect(parseWorld(wit)).toEqual({
      imports: ['procflow:plugin/types@0.1.0', 'procflow:plugin/host@0.1.0', 'wasi:random/random@0.2.3', 'wasi:filesystem/types@0.2.3'],
      exports: ['batch-encoding', 'redact'],
    });
  });
  it('refuses everything outside the host world unless granted; filesystem cannot be granted', () => {
    const { imports } = parseWorld(wit);
    expect(refusedImports(imports)).toEqual(['wasi:random/random@0.2.3', 'wasi:filesystem/types@0.2.3']);
    expect(refusedImports(imports, ['random'])).toEqual(['wasi:filesystem/types@0.2.3']);
  });
  it('tells the stage from the exports', () => {
    expect(stageOf(['batch-encoding', 'redact'])).toBe('redactor');
    expect(stageOf(['batch-encoding', 'content-type', 'format'])).toBe('formatter');
    expect(stageOf(['batch-encoding', 'redact', 'enrich'])).toBeUndefined();
  });
});

describe('plugins config', () => {
  it('accepts a full entry and fills nothing it was not given', () => {
    const c = validatePluginsConfig({ workers: 2, chain: [{ name: 'm', stage: 'redactor', path: '/x.wasm', sha256: 'A'.repeat(64), config: { level: 3 }, tenants: { t1: { level: 'x' } }, onFailure: 'drop', grants: ['clocks'] }] });
    expect(c.chain[0]).toEqual({ name: 'm', stage: 'redactor', path: '/x.wasm', sha256: 'a'.repeat(64), config: { level: '3' }, tenants: { t1: { level: 'x' } }, onFailure: 'drop', grants: ['clocks'] });
  });
  it.each([
    [{ chain: [{ name: 'm', stage: 'redactor', path: '/x.wasm' }] }, 'plugins.chain[0].sha256', 'sha256sum'],
    [{ chain: [{ name: 'm', stage: 'sorter', path: '/x.wasm', sha256: 'a'.repeat(64) }] }, 'plugins.chain[0].stage', 'enricher, redactor or formatter'],
    [{ chain: [{ name: 'm', stage: 'enricher', path: 'builtin:x', onFailure: 'drop' }] }, 'plugins.chain[0].onFailure', 'passes the batch through'],
    [{ chain: [{ name: 'm', stage: 'redactor', path: 'builtin:x', grants: ['filesystem'] }] }, 'plugins.chain[0].grants', 'cannot be granted'],
    [{ chain: [{ name: 'f', stage: 'formatter', path: 'builtin:x' }, { name: 'r', stage: 'redactor', path: 'builtin:y' }] }, 'plugins.chain[0]', 'end of the chain'],
    [{ chain: [], timeout: 3 }, 'plugins.timeout', 'Known settings'],
    [{ chain: [{ name: 'm', stage: 'redactor', path: 'builtin:x', timeoutMs: -1 }] }, 'plugins.chain[0].timeoutMs', 'timeoutMs: 250'],
    [{ chain: [{ name: 'm', stage: 'redactor', path: 'builtin:x', spare: 'no' }] }, 'plugins.chain[0].spare', 'spare: false saves'],
  ])('rejects %j at %s', (raw, field, fix) => {
    expect(() => validatePluginsConfig(raw)).toThrow(expect.objectContaining({ code: 'PROCFLOW_E_PLUGIN_CONFIG', message: expect.stringContaining(field) }));
    expect(() => validatePluginsConfig(raw)).toThrow(expect.objectContaining({ message: expect.stringContaining(fix) }));
  });
});

describe('wasm-binary', () => {
  // (module (memory 1) (func (export "a_b")))
  const mod = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 7, 1, 3, 97, 95, 98, 0, 0, 10, 4, 1, 2, 0, 11]);
  it('caps memory and renames exports, producing valid modules', () => {
    const capped = capMemory(mod, 4);
    expect(memoryLimits(capped)).toEqual([{ min: 1, max: 4, imported: false }]);
    expect(WebAssembly.validate(capped)).toBe(true);
    const m = new WebAssembly.Memory({ initial: 1 });
    expect(m.buffer.byteLength).toBe(65536);
    const renamed = renameExports(capped, { a_b: 'a-b' });
    expect(WebAssembly.validate(renamed)).toBe(true);
    expect(WebAssembly.Module.exports(new WebAssembly.Module(renamed)).map((e) => e.name)).toEqual(['a-b']);
  });
  it('refuses a cap below the initial memory', () => {
    expect(() => capMemory(mod, 0)).toThrow(/above the cap/);
  });
});

describe('policy', () => {
  const input = flows(2);
  it('merges process fields of a redaction and refuses any other change', () => {
    const out = applyRedaction(input, [{ id: 'flow-0', process_args: [['x']] }, { id: 'flow-1' }]);
    expect(out[0].process_args).toEqual([['x']]);
    expect(out[1]).toEqual(input[1]);
    expect(() => applyRedaction(input, [{ id: 'flow-0', dest_port: 1 }, { id: 'flow-1' }])).toThrow(MalformedOutput);
    expect(() => applyRedaction(input, [{ id: 'flow-1' }, { id: 'flow-0' }])).toThrow(/expected "flow-0"/);
    expect(() => applyRedaction(input, [{ id: 'flow-0' }])).toThrow(/1 flows returned for 2/);
  });
  it('masks every argument list, splits items and checks their count', () => {
    expect(maskArgs(input, 'M')[0].process_args).toEqual([['M'], ['M']]);
    const items = splitItems(input, { buf: new Uint8Array([1, 2, 3]), offsets: new Uint32Array([0, 1, 3]) });
    expect(items.map((b) => [...b])).toEqual([[1], [2, 3]]);
    expect(() => splitItems(input, { buf: new Uint8Array(0), offsets: new Uint32Array([0]) })).toThrow(/0 items/);
  });
});

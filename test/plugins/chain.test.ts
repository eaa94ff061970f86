/**
 * The plugin chain with fixture plugins built from source: working plugins,
 * and one per failure (trap, endless loop, unbounded memory, WASI import,
 * malformed output). Each failure gets its stage's policy, the host stays up,
 * counters show it, and every flow that went in comes out (or is dropped by
 * an explicit policy, counted).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PluginChain } from '../../host/plugins/chain.js';
import { builtinJsonItem } from '../../host/plugins/codec.js';
import type { PluginEntry } from '../../host/plugins/config.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flows } from './helpers.js';

let chain: PluginChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

async function open(entries: PluginEntry[], extra: { maskMarker?: string } = {}): Promise<PluginChain> {
  chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: entries, ...extra }, { log: testLog });
  return chain;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('working AssemblyScript plugins', () => {
  it('redact-args masks secrets only, calico-json writes exactly the built-in JSON line', async () => {
    const c = await open([await entry('builtin/redact-args'), await entry('builtin/calico-json')]);
    const input = flows(50);
    const out = await c.process(input);
    expect(out.flows).toHaveLength(50);
    expect(out.flows[0].process_args).toEqual([['-h', 'db.internal', '--password=[REDACTED]', '-U', 'app'], ['postgres://app:[REDACTED]@db/x']]);
    expect(out.flows.map((f) => f.id)).toEqual(input.map((f) => f.id));
    expect(out.flows[7].bytes_in).toBe(input[7].bytes_in);
    expect(out.contentType).toBe('application/json');
    for (let i = 0; i < 50; i++) expect(text(out.items[i])).toBe(text(builtinJsonItem(out.flows[i])));
    expect(input[0].process_args[0][2]).toBe('--password=hunter2'); // inputs are not mutated
    const s = c.stats();
    expect(s['redact-args']).toMatchObject({ flowsIn: 50, flowsOut: 50 });
    expect(Object.values(s['redact-args'].failures).every((n) => n === 0)).toBe(true);
  });

  it('a chain without a formatter hands back no items (the sinks encode the records)', async () => {
    const c = await open([await entry('builtin/redact-args')]);
    const out = await c.process(flows(3));
    expect(out).toMatchObject({ formatted: false, items: [], contentType: '' });
    expect(out.flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
    await c.close();
    const f = await (await open([await entry('builtin/calico-json')])).process(flows(2));
    expect(f).toMatchObject({ formatted: true, contentType: 'application/json' });
    expect(f.items).toHaveLength(2);
  });

  it('a formatter failing on one part of a batch: runs of items say which content type each part has', async () => {
    chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry('fixtures/memory-hog', { memoryMiB: 16 })], batchSize: 2 }, { log: testLog });
    const out = await chain.process(flows(5, (i) => ({ host: i === 2 ? 'hog' : 'node-1' })));
    expect(out.contentType).toBe('text/plain');
    expect(out.runs).toEqual([['text/plain', 2], ['application/json', 2], ['text/plain', 1]]);
    expect(text(out.items[0])).toBe('flow-0');
    expect(JSON.parse(text(out.items[2])).host).toBe('hog');
  });

  it('JSON line escapes quotes, control characters and non-ASCII like JSON.stringify', async () => {
    const c = await open([await entry('builtin/calico-json')]);
    const odd = flows(3, (i) => ({ process_name: `/opt/"q"\\x\n\t\u0001é${i}`, process_args: [['ä', '💥', 'a"b']], source_ip: null, source_labels: { app: 'x"y' } }));
    const out = await c.process(odd);
    for (let i = 0; i < 3; i++) expect(text(out.items[i])).toBe(text(builtinJsonItem(odd[i])));
  });
});

describe('failure policies', () => {
  it('a trapping redactor fails closed (marker), is re-instantiated, and the next batch passes', async () => {
    const c = await open([await entry('fixtures/trap')], { maskMarker: '[MASKED]' });
    const bad = await c.process(flows(10, (i) => ({ process_id: i === 3 ? '666' : String(i + 1) })));
    expect(bad.flows).toHaveLength(10);
    for (const f of bad.flows) expect(f.process_args).toEqual([['[MASKED]'], ['[MASKED]']]);
    const good = await c.process(flows(4));
    expect(good.flows.map((f) => f.process_args[0][2])).toEqual(Array(4).fill('--password=hunter2'));
    const s = c.stats().trap;
    expect(s.failures.trap).toBe(1);
    expect(s.flowsMasked).toBe(10);
    expect(s.flowsIn).toBe(14);
    expect(s.flowsOut).toBe(14);
  });

  it('a trapping redactor with onFailure: drop drops the batch and counts it', async () => {
    const c = await open([await entry('fixtures/trap', { onFailure: 'drop' })]);
    const out = await c.process(flows(5, () => ({ process_id: '666' })));
    expect(out.flows).toHaveLength(0);
    expect(out.items).toHaveLength(0);
    expect(out.dropped).toBe(5);
    expect(c.stats().trap).toMatchObject({ flowsDropped: 5, flowsIn: 5, flowsOut: 0 });
  });

  it('an enricher that loops forever is terminated at its deadline; the batch passes through; the respawned worker serves the next', async () => {
    const c = await open([await entry('fixtures/loop', { timeoutMs: 250 })]);
    const input = flows(6, (i) => ({ dest_port: i === 2 ? 9999 : 443 }));
    const out = await c.process(input);
    expect(out.flows).toEqual(input);
    const next = await c.process(flows(2));
    expect(next.flows.map((f) => f.dest_service_name)).toEqual(['looped-ok', 'looped-ok']);
    expect(c.stats().loop).toMatchObject({ flowsPassedThrough: 6, flowsIn: 8, flowsOut: 8 });
    expect(c.stats().loop.failures.timeout).toBe(1);
    expect(c.poolStats().workersTerminated).toBe(1);
  });

  it('a formatter that grows memory without bound hits the cap; its flows get the built-in JSON format', async () => {
    const c = await open([await entry('fixtures/memory-hog', { memoryMiB: 16 })]);
    const input = flows(4, (i) => ({ host: i === 1 ? 'hog' : 'node-1' }));
    const out = await c.process(input);
    expect(out.contentType).toBe('application/json');
    expect(out.items.map(text)).toEqual(input.map((f) => text(builtinJsonItem(f))));
    const s = c.stats()['memory-hog'];
    expect(s.failures.memory).toBe(1);
    expect(s.flowsFallbackFormatted).toBe(4);
    const next = await c.process(flows(2));
    expect(next.contentType).toBe('text/plain');
    expect(next.items.map(text)).toEqual(['flow-0', 'flow-1']);
  });

  it('an enricher returning malformed output (a flow missing, an id changed) passes the batch through', async () => {
    const c = await open([await entry('fixtures/malformed')]);
    const input = flows(3);
    const out = await c.process(input);
    expect(out.flows).toEqual(input);
    expect(c.stats().malformed.failures.malformed).toBe(1);
    expect(c.stats().malformed.flowsPassedThrough).toBe(3);
  });
});

describe('loading', () => {
  it('refuses a plugin that imports WASI, naming the import', async () => {
    await expect(open([await entry('fixtures/wasi-import')])).rejects.toMatchObject({
      code: 'PROCFLOW_E_PLUGIN_IMPORT_REFUSED',
      message: expect.stringContaining('wasi:random/random@0.2.0'),
    });
  });

  it('refuses a wrong pin, a missing pin and a plugin in the wrong stage', async () => {
    const e = await entry('builtin/redact-args');
    await expect(open([{ ...e, sha256: '0'.repeat(64) }])).rejects.toMatchObject({ code: 'PROCFLOW_E_PLUGIN_PIN_MISMATCH', message: expect.stringContaining(e.sha256!) });
    await expect(open([{ ...e, sha256: undefined }])).rejects.toMatchObject({ code: 'PROCFLOW_E_PLUGIN_PIN_MISSING' });
    await expect(open([{ ...e, stage: 'enricher' }])).rejects.toMatchObject({ code: 'PROCFLOW_E_PLUGIN_WORLD', message: expect.stringContaining('redact') });
  });
});

describe('reload', () => {
  it('swaps to a new chain between batches; a version that fails to load leaves the old one running', async () => {
    const redact = await entry('builtin/redact-args');
    const c = await open([redact]);
    expect((await c.process(flows(1))).flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
    const failed = await c.reload({ cacheDir: CACHE_DIR, chain: [{ ...redact, sha256: 'f'.repeat(64) }] });
    expect(failed.ok).toBe(false);
    if (!failed.ok) expect(failed.error.message).toContain('pins');
    expect((await c.process(flows(1))).flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
    const inflight = c.process(flows(200));
    const ok = await c.reload({ cacheDir: CACHE_DIR, chain: [await entry('fixtures/loop')] });
    expect(ok.ok).toBe(true);
    expect((await inflight).flows[0].process_args[0][2]).toBe('--password=[REDACTED]'); // finished on the old chain
    const after = await c.process(flows(1));
    expect(after.flows[0].dest_service_name).toBe('looped-ok');
    expect(after.flows[0].process_args[0][2]).toBe('--password=hunter2');
  });
});

describe('TypeScript plugin (componentize-js)', () => {
  it('enriches with host lookups and per-tenant config; tenants with equal config share an instance', async () => {
    const procs = new Map([[42, { pid: 42, ppid: 7, name: '/usr/bin/curl', args: [] }], [7, { pid: 7, ppid: 1, name: '/bin/bash', args: ['-l'] }]]);
    chain = await PluginChain.create(
      { cacheDir: CACHE_DIR, chain: [await entry('fixtures/ts-enricher', { timeoutMs: 10_000, tenants: { t1: { 'port.5432': 'pg-main' }, t2: {} } })] },
      { log: testLog, lookup: { get: (pid) => procs.get(pid) } },
    );
    const input = flows(3, (i) => ({ process_id: i === 2 ? '*' : '42', dest_port: i === 1 ? 22 : 5432 }));
    const out = await chain.process(input);
    expect(out.flows.map((f) => f.dest_service_name)).toEqual(['postgres', 'ssh', 'postgres']);
    expect(out.flows.map((f) => (f as unknown as Record<string, unknown>).parent_process_name)).toEqual(['/bin/bash', '/bin/bash', undefined]);
    expect((await chain.process(input, 't1')).flows[0].dest_service_name).toBe('pg-main');
    expect((await chain.process(input, 't2')).flows[0].dest_service_name).toBe('postgres');
    expect(chain.poolStats().instantiations).toBe(2); // default (shared by t2) + t1
    expect(chain.stats()['ts-enricher']).toMatchObject({ flowsIn: 9, flowsOut: 9 });
  });
});

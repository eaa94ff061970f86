/**
 * Spare instances (worker.ts): after an instantiation the worker builds one
 * more instance of the component in idle time; the next instantiation binds it
 * to its own definition (config, logs, lookups). Waits for the pool's `onSpare`
 * event rather than for time to pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PluginChain } from '../../host/plugins/chain.js';
import { BatchEncoder, decodeBatch } from '../../host/plugins/codec.js';
import { loadPlugin, type LoadedPlugin } from '../../host/plugins/loader.js';
import { PluginPool } from '../../host/plugins/pool.js';
import type { DefineMsg } from '../../host/plugins/protocol.js';
import { waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flow, flows } from './helpers.js';

let pool: PluginPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

/** A pool whose `spareReady()` resolves at the next spare a worker announces. */
function poolWithSpareEvents(): { pool: PluginPool; spareReady: () => Promise<string> } {
  let waiting: ((key: string) => void)[] = [];
  const p = new PluginPool({
    size: 1,
    onSpare: (key) => {
      const w = waiting;
      waiting = [];
      for (const f of w) f(key);
    },
  });
  return { pool: p, spareReady: () => new Promise((resolve) => waiting.push(resolve)) };
}

function def(loaded: LoadedPlugin, key: string, config: [string, string][] = [], extra: Partial<DefineMsg> = {}): Omit<DefineMsg, 'type'> {
  return { key, name: key, glue: loaded.glue, modules: loaded.modules, config, grants: [], imports: loaded.imports, memoryCapBytes: loaded.memoryCapBytes, ...extra };
}

/** The argument lists a redactor call returned for flow 0 (undefined: unchanged). */
async function argsOf(p: PluginPool, key: string): Promise<unknown> {
  const r = await p.call(key, 'redact', new BatchEncoder().encode([flow(0)], 'msgpack'), 5000);
  if (!r.ok) throw new Error(`${key}: ${r.kind} ${r.message}`);
  return (decodeBatch(r.output!, 'msgpack') as { process_args?: unknown }[])[0].process_args;
}

describe('spare instances', () => {
  it('the next instance of a component is the spare, bound to its own config (not the config of the instance it was built after)', async () => {
    const loaded = await loadPlugin(await entry('builtin/redact-args'), { cacheDir: CACHE_DIR });
    const s = poolWithSpareEvents();
    pool = s.pool;
    const ready = s.spareReady();
    const a = await pool.define(def(loaded, 'tenant-a', [['replacement', '[A]']]));
    expect(a.fromSpare).toBe(false);
    expect(await ready).toBe('tenant-a');
    const ready2 = s.spareReady();
    const b = await pool.define(def(loaded, 'tenant-b', [['replacement', '[B]']]));
    expect(b.fromSpare).toBe(true);
    expect(JSON.stringify(await argsOf(pool, 'tenant-b'))).toContain('[B]');
    expect(JSON.stringify(await argsOf(pool, 'tenant-b'))).not.toContain('[A]');
    expect(JSON.stringify(await argsOf(pool, 'tenant-a'))).toContain('[A]');
    // Binding the spare starts the next one.
    await ready2;
    expect(pool.stats).toMatchObject({ instantiations: 2, fromSpare: 1, sparesBuilt: 2 });
  });

  it('a trapped instance is replaced by the spare before the next call', async () => {
    const loaded = await loadPlugin(await entry('fixtures/trap'), { cacheDir: CACHE_DIR });
    const s = poolWithSpareEvents();
    pool = s.pool;
    const ready = s.spareReady();
    await pool.define(def(loaded, 'trap'));
    await ready;
    const enc = new BatchEncoder();
    const trapped = await pool.call('trap', 'redact', enc.encode(flows(2, (i) => ({ process_id: i === 1 ? '666' : '1' })), 'msgpack'), 5000);
    expect(trapped).toMatchObject({ ok: false, kind: 'trap' });
    const next = await pool.call('trap', 'redact', enc.encode(flows(2), 'msgpack'), 5000);
    expect(next.ok).toBe(true);
    expect(pool.stats).toMatchObject({ instantiations: 2, fromSpare: 1 });
  });

  it('spare: false builds none: every instantiation starts from scratch', async () => {
    const loaded = await loadPlugin(await entry('builtin/redact-args'), { cacheDir: CACHE_DIR });
    pool = new PluginPool({ size: 1 });
    const a = await pool.define(def(loaded, 'a', [], { spare: false }));
    const b = await pool.define(def(loaded, 'b', [], { spare: false }));
    expect([a.fromSpare, b.fromSpare]).toEqual([false, false]);
    expect((await pool.call('b', 'redact', new BatchEncoder().encode(flows(1), 'msgpack'), 5000)).ok).toBe(true);
  });
});

describe('spare instances across a reload', () => {
  it('a reload that changes only the config binds the spare to the new config', async () => {
    const red = await entry('builtin/redact-args');
    const chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [{ ...red, config: { replacement: '[OLD]' } }] }, { log: testLog });
    try {
      const args = async () => (await chain.process([flow(0)])).flows[0].process_args.flat().join(' ');
      expect(await args()).toContain('[OLD]');
      // The worker builds the spare right after the first instantiation.
      await waitFor(() => chain.poolStats().sparesBuilt >= 1, 'the spare of redact-args', 10_000);
      const res = await chain.reload({ cacheDir: CACHE_DIR, chain: [{ ...red, config: { replacement: '[NEW]' } }] });
      expect(res.ok).toBe(true);
      const after = await args();
      expect(after).toContain('[NEW]');
      expect(after).not.toContain('[OLD]');
      expect(chain.poolStats().fromSpare).toBe(1);
    } finally {
      await chain.close();
    }
  });
});

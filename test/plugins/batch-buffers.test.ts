/**
 * Batch buffers (batch-buffers.ts): a worker gives each input batch's buffer
 * back with its result, and the host encodes its next batch into it, so
 * batch-sized buffers are not fresh memory every batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BatchBuffers, transferable } from '../../host/plugins/batch-buffers.js';
import { BatchEncoder, decodeBatch } from '../../host/plugins/codec.js';
import { loadPlugin } from '../../host/plugins/loader.js';
import { PluginPool } from '../../host/plugins/pool.js';
import { CACHE_DIR, entry, flows } from './helpers.js';

let pool: PluginPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('batch buffers', () => {
  it('a worker gives the input buffer back with the result; the next batch is encoded into it and still transferred', async () => {
    const loaded = await loadPlugin(await entry('builtin/redact-args'), { cacheDir: CACHE_DIR });
    pool = new PluginPool({ size: 1 });
    await pool.define({ key: 'r', name: 'r', glue: loaded.glue, modules: loaded.modules, config: [], grants: [], imports: loaded.imports, memoryCapBytes: loaded.memoryCapBytes });
    const enc = new BatchEncoder(pool.buffers);
    const batch = flows(300); // ~200 KiB encoded: above the size worth keeping
    const first = enc.encode(batch, 'msgpack');
    expect(first.buffer.byteLength).toBeGreaterThan(first.byteLength); // room for a bigger batch next time
    expect(transferable(first)).toBe(true);
    const size = first.buffer.byteLength;
    expect(pool.buffers.idleCount).toBe(0);
    const r1 = await pool.call('r', 'redact', first, 5000);
    expect(r1.ok).toBe(true);
    expect(first.buffer.byteLength).toBe(0); // transferred whole
    expect(pool.buffers.idleCount).toBe(1); // and given back
    enc.reset();
    const second = enc.encode(batch, 'msgpack');
    expect(pool.buffers.idleCount).toBe(0);
    expect(second.buffer.byteLength).toBe(size);
    const r2 = await pool.call('r', 'redact', second, 5000);
    if (!r2.ok || !r2.output) throw new Error(`the second call failed: ${JSON.stringify(r2)}`);
    const out = decodeBatch(r2.output, 'msgpack') as { id: string; process_args?: string[][] }[];
    expect(out.map((f) => f.id)).toEqual(batch.map((f) => f.id));
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(pool.buffers.idleCount).toBe(1);
  });

  it('transfers only buffers a batch owns: never a shared pool slab; keeps none too small or too big, at most 8 or 32 MiB idle', () => {
    const small = Buffer.from('x'); // a slice of Node's shared 8 KiB pool
    expect(transferable(small)).toBe(false);
    expect(transferable(new Uint8Array(10))).toBe(true);
    expect(transferable(new Uint8Array(new ArrayBuffer(100), 0, 10))).toBe(false); // someone else's larger buffer
    const b = new BatchBuffers();
    const v = b.view(100 << 10);
    expect(transferable(v)).toBe(true);
    b.give(new ArrayBuffer(1000)); // too small to be worth keeping
    b.give(new ArrayBuffer(32 << 20)); // too big to pin
    for (let i = 0; i < 3; i++) b.give(new ArrayBuffer(12 << 20));
    expect(b.idleCount).toBe(2); // 32 MiB idle at most
    b.view(11 << 20);
    b.view(11 << 20);
    expect(b.idleCount).toBe(0);
    for (let i = 0; i < 20; i++) b.give(new ArrayBuffer(128 << 10));
    expect(b.idleCount).toBe(8);
    const w = b.view(120 << 10);
    expect(w.buffer.byteLength).toBe(128 << 10);
    expect(transferable(w)).toBe(true);
    expect(b.idleCount).toBe(7);
  });
});

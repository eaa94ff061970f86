/**
 * Batches are cut by flow count and by argument text (batchBytes), so a batch
 * of long argument lists stays within the built-in redactor's default
 * deadline and memory cap instead of failing closed as a whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PluginChain, splitBatch } from '../../host/plugins/chain.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flows } from './helpers.js';

let chain: PluginChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

describe('batch splitting', () => {
  it('cuts by count and by weight, keeps order, and lets a heavier flow go alone', () => {
    const fs = flows(10, (i) => ({ process_args: [[`--x=${'a'.repeat(i === 4 ? 5000 : 100)}`]] }));
    const parts = splitBatch(fs, 3, 1500);
    expect(parts.flat().map((f) => f.id)).toEqual(fs.map((f) => f.id));
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(3);
    expect(parts.find((p) => p.includes(fs[4]))).toEqual([fs[4]]);
    expect(splitBatch(fs, 1000, 1 << 20)).toEqual([fs]);
  });

  it('redacts 1000 flows with 4 KiB argument lists under the default deadline and memory cap', async () => {
    const padding = `--comment=${'lorem ipsum dolor sit amet '.repeat(152)}`; // ~4 KiB of spaced text
    const input = flows(1000, (i) => ({ process_args: [[`--password=Secr3t${i}x`, padding, `https://deploy:tok${i}en@git.example.com/r.git`]] }));
    chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry('builtin/redact-args')] }, { log: testLog });
    const out = await chain.process(input);
    const s = chain.stats()['redact-args'];
    expect(Object.values(s.failures).reduce((a, b) => a + b, 0)).toBe(0);
    expect(s.calls).toBeGreaterThan(1); // split by weight, not one 4 MB call
    expect(out.flows).toHaveLength(1000);
    for (const f of out.flows) expect(f.process_args[0]).toEqual(['--password=[REDACTED]', padding, 'https://deploy:[REDACTED]@git.example.com/r.git']);
  });
});

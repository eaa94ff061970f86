/**
 * Stages in one worker call (PluginPool.run, splice.ts): redactors and a
 * formatter run back to back in the worker, which splices each redactor's
 * output into the batch itself. Everything must come out exactly as when each
 * stage is called on its own — outputs, items, counters — including when a
 * step traps, hits the memory cap or misses its deadline halfway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { PluginChain, type ChainResult } from '../../host/plugins/chain.js';
import { BatchEncoder } from '../../host/plugins/codec.js';
import type { PluginEntry } from '../../host/plugins/config.js';
import { loadPlugin } from '../../host/plugins/loader.js';
import { PluginPool } from '../../host/plugins/pool.js';
import { exeOf, expand, readCorpus } from '../redact/corpus.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flow, flows } from './helpers.js';

const open: PluginChain[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function chains(entries: PluginEntry[]): Promise<{ fused: PluginChain; single: PluginChain }> {
  const cfg = { cacheDir: CACHE_DIR, chain: entries, maskMarker: '[MASKED]' };
  const fused = await PluginChain.create(cfg, { log: testLog });
  const single = await PluginChain.create(cfg, { log: testLog, fuse: false });
  open.push(fused, single);
  return { fused, single };
}

/** A chain's counters without the instantiation times (which differ between any two instances). */
function counts(c: PluginChain): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.stats()).map(([k, { lastInstantiateMs: _ms, ...rest }]) => [k, rest]));
}

const text = (r: ChainResult) => r.items.map((b) => Buffer.from(b).toString('utf8'));

/** Flows from the redaction corpora (secret and ordinary command lines), some sharing an argument list. */
function corpusFlows(n: number): FlowRecord[] {
  const secrets = readCorpus('secrets');
  const ordinary = readCorpus('ordinary');
  return Array.from({ length: n }, (_, i) => {
    const line = i % 2 === 0 ? secrets[(i >> 1) % secrets.length] : ordinary[(i >> 1) % ordinary.length];
    const words = expand(line).argv;
    return flow(i, { process_name: exeOf(words), process_args: [words.slice(1)], num_process_args: 1 });
  });
}

async function both(c: { fused: PluginChain; single: PluginChain }, input: FlowRecord[]): Promise<[ChainResult, ChainResult]> {
  return [await c.fused.process(input), await c.single.process(input)];
}

describe('stages in one worker call', () => {
  it('redact-args + calico-json give exactly what one call per stage gives, in one run per batch', async () => {
    const c = await chains([await entry('builtin/redact-args'), await entry('builtin/calico-json')]);
    const input = corpusFlows(600);
    const [a, b] = await both(c, input);
    expect(text(a)).toEqual(text(b));
    expect(a.flows).toEqual(b.flows);
    expect(a.contentType).toBe(b.contentType);
    expect(counts(c.fused)).toEqual(counts(c.single));
    expect(c.fused.poolStats().runs).toBe(c.fused.stats()['redact-args'].calls); // one run per part (batchBytes cuts 600 corpus flows)
    expect(c.fused.stats()['redact-args'].calls).toBeGreaterThan(1); // several parts, two in flight at once: order kept
    expect(a.flows.map((f) => f.id)).toEqual(input.map((f) => f.id));
    expect(c.single.poolStats().runs).toBe(0);
    // Secrets were masked in what the formatter saw, not only in the host's records.
    expect(text(a).filter((t) => t.includes('[REDACTED]')).length).toBeGreaterThan(100);
  });

  it('two redactors then a formatter: one run, same result', async () => {
    const c = await chains([await entry('builtin/redact-args'), await entry('fixtures/trap'), await entry('fixtures/slow-format')]);
    const input = corpusFlows(200);
    const [a, b] = await both(c, input);
    expect(text(a)).toEqual(text(b));
    expect(a.flows).toEqual(b.flows);
    expect(c.fused.poolStats().runs).toBe(1);
    expect(counts(c.fused)).toEqual(counts(c.single));
  });

  it('a redactor that traps mid-run: the batch fails closed, the formatter still formats the masked flows', async () => {
    const c = await chains([await entry('builtin/redact-args'), await entry('fixtures/trap'), await entry('builtin/calico-json')]);
    const input = flows(20, (i) => ({ process_id: i === 7 ? '666' : String(100 + i) }));
    const [a, b] = await both(c, input);
    for (const f of a.flows) expect(f.process_args).toEqual([['[MASKED]'], ['[MASKED]']]);
    expect(text(a)).toEqual(text(b));
    expect(counts(c.fused)).toEqual(counts(c.single));
    expect(c.fused.stats().trap.failures.trap).toBe(1);
    expect(c.fused.stats()['calico-json'].flowsOut).toBe(20);
    // The instance was re-created: the next batch runs through all three.
    const [n1, n2] = await both(c, flows(3));
    expect(text(n1)).toEqual(text(n2));
    expect(n1.flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
  });

  it('a formatter that misses its deadline mid-run: the redactor output already sent is applied, the flows get the built-in JSON', async () => {
    const c = await chains([await entry('builtin/redact-args'), await entry('fixtures/slow-format', { timeoutMs: 300 })]);
    const input = flows(10, (i) => ({ dest_port: i === 4 ? 9999 : 443 }));
    const [a, b] = await both(c, input);
    expect(a.flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
    expect(a.contentType).toBe('application/json');
    expect(text(a)).toEqual(text(b));
    for (const t of text(a)) expect(t).not.toContain('hunter2');
    expect(counts(c.fused)).toEqual(counts(c.single));
    expect(c.fused.stats()['slow-format'].failures.timeout).toBe(1);
    expect(c.fused.stats()['slow-format'].flowsFallbackFormatted).toBe(10);
    expect(c.fused.poolStats().workersTerminated).toBe(1);
  });

  it('a formatter that hits its memory cap mid-run: redacted flows, built-in JSON, counted', async () => {
    const c = await chains([await entry('builtin/redact-args'), await entry('fixtures/memory-hog', { memoryMiB: 16 })]);
    const input = flows(5, (i) => ({ host: i === 1 ? 'hog' : 'node-1' }));
    const [a, b] = await both(c, input);
    expect(text(a)).toEqual(text(b));
    expect(a.flows[0].process_args[1][0]).toBe('postgres://app:[REDACTED]@db/x');
    expect(c.fused.stats()['memory-hog'].failures.memory).toBe(1);
    expect(counts(c.fused)).toEqual(counts(c.single));
  });
});

describe('PluginPool.run', () => {
  it('a step whose instance cannot be (re-)created sends the run back unstarted: the host goes stage by stage, each failure on its own plugin', async () => {
    const red = await entry('builtin/redact-args');
    const loaded = await loadPlugin(red, { cacheDir: CACHE_DIR });
    const pool = new PluginPool({ size: 1 });
    try {
      await pool.define({ key: 'red', name: 'red', glue: loaded.glue, modules: loaded.modules, config: [], grants: [], imports: loaded.imports, memoryCapBytes: loaded.memoryCapBytes });
      const input = new BatchEncoder().encode(flows(2), 'msgpack');
      const res = await pool.run([{ key: 'red', fn: 'redact', timeoutMs: 5000 }, { key: 'never-defined', fn: 'format', timeoutMs: 5000 }], input);
      expect(res).toEqual({ done: [] });
      // The pool still serves the defined instance.
      const one = await pool.call('red', 'redact', new BatchEncoder().encode(flows(2), 'msgpack'), 5000);
      expect(one.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

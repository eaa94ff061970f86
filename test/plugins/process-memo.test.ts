/**
 * Redaction once per process (`perProcess`, host/plugins/process-memo.ts): a
 * redactor sees one flow per process it has not seen; the result goes to that
 * process's other flows and to later batches. The output must be exactly what
 * the redactor gives when it sees every flow; a failed call's policy covers
 * every flow of its processes and is never remembered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { PluginChain, type ChainResult } from '../../host/plugins/chain.js';
import { perProcessOf, validatePluginsConfig, type PluginEntry } from '../../host/plugins/config.js';
import { BatchEncoder } from '../../host/plugins/codec.js';
import { fillPlan, knownFlow, ProcessMemo, processHash, processOnly } from '../../host/plugins/process-memo.js';
import { exeOf, expand, readCorpus } from '../redact/corpus.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flow } from './helpers.js';

const open: PluginChain[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function chain(entries: PluginEntry[]): Promise<PluginChain> {
  // One call per batch (batchBytes): parts of one batch run at once, and each would send a process it holds that is not known yet.
  const c = await PluginChain.create({ cacheDir: CACHE_DIR, chain: entries, maskMarker: '[MASKED]', batchBytes: 1 << 24 }, { log: testLog });
  open.push(c);
  return c;
}

/** `n` flows of `procs` processes from the redaction corpora (secret and ordinary lines alternately), process `i % procs` for flow i. */
const commandLines = new Map<number, string[][]>();
function corpusFlows(n: number, procs: number, first = 0): FlowRecord[] {
  let argv = commandLines.get(procs); // expand() plants fresh secrets: drawn once, so later batches show the same processes
  if (!argv) {
    const secrets = readCorpus('secrets');
    const ordinary = readCorpus('ordinary');
    argv = Array.from({ length: procs }, (_, p) => expand(p % 2 === 0 ? secrets[(p >> 1) % secrets.length] : ordinary[(p >> 1) % ordinary.length]).argv);
    commandLines.set(procs, argv);
  }
  return Array.from({ length: n }, (_, i) => {
    const words = argv![i % procs];
    // a fresh array per flow: the memo must compare contents, not identities
    // two pids per command line (as nginx's workers): each flow keeps its own pid
    return flow(first + i, { process_name: exeOf(words), process_id: String(5000 + (i % (2 * procs))), process_args: [words.slice(1)], num_process_args: 1 });
  });
}

const text = (r: ChainResult) => r.items.map((b) => Buffer.from(b).toString('utf8'));

describe('ProcessMemo', () => {
  const f = (i: number, name: string, args: string[][], pid = '7') => flow(i, { process_name: name, process_id: pid, process_args: args });

  it('sends one flow per unknown process and resolves repeats and known processes without the redactor', () => {
    const m = new ProcessMemo(false);
    const batch = [f(0, '/bin/a', [['x']]), f(1, '/bin/b', [['y']]), f(2, '/bin/a', [['x']]), f(3, '/bin/a', [['x', 'z']])];
    const p = m.plan(batch)!;
    expect(p.reps.map((r) => r.id)).toEqual(['flow-0', 'flow-1', 'flow-3']);
    expect(Array.from(p.repOf)).toEqual([0, 1, 0, 2]);
    expect(p.fromCache).toBe(1);
    const after = [{ ...p.reps[0], process_args: [['X']] }, p.reps[1], { ...p.reps[2], process_name: '/bin/A' }];
    const out = fillPlan(p, batch, m.learn(p, p.reps, after));
    expect(out.map((o) => [o.id, o.process_name, o.process_args])).toEqual([
      ['flow-0', '/bin/a', [['X']]], ['flow-1', '/bin/b', [['y']]], ['flow-2', '/bin/a', [['X']]], ['flow-3', '/bin/A', [['x', 'z']]],
    ]);
    expect(out[1]).toBe(batch[1]); // unchanged: the same object
    // /bin/a repeated in the batch: remembered. /bin/b was seen once: sent again, remembered from this second sight on.
    const againFlows = [f(9, '/bin/b', [['y']]), f(10, '/bin/a', [['x']])];
    const again = m.plan(againFlows)!;
    expect(again.reps.map((r) => r.id)).toEqual(['flow-9']);
    expect(again.fromCache).toBe(1);
    expect(knownFlow(again, againFlows, 0)).toBeUndefined();
    expect(knownFlow(again, againFlows, 1)!.process_args).toEqual([['X']]);
    expect(knownFlow(again, againFlows, 1)!.id).toBe('flow-10');
    m.learn(again, again.reps, again.reps);
    const thirdFlows = [f(11, '/bin/b', [['y']]), f(12, '/bin/a', [['x', 'z']])];
    const third = m.plan(thirdFlows)!;
    expect(third.reps.map((r) => r.id)).toEqual(['flow-12']); // [x, z] was seen once only
    expect(knownFlow(third, thirdFlows, 0)!.id).toBe('flow-11');
  });

  it('encodes what a perProcess redactor is sent byte for byte as the generic encoder writes those maps', () => {
    const batch = [f(0, '/bin/ä', [['x', 'ü'.repeat(40)], []], '12'), f(1, '/bin/b', [], '1'), f(2, '/bin/c', [['y'.repeat(300)]])];
    const enc = new BatchEncoder();
    const fast = enc.encodeProcesses(batch, 'msgpack');
    const generic = new BatchEncoder().encode(batch.map(processOnly), 'msgpack');
    expect(Buffer.from(fast).equals(Buffer.from(generic))).toBe(true);
    expect(Buffer.from(enc.encodeProcesses(batch, 'json')).toString()).toBe(JSON.stringify(batch.map(processOnly)));
  });

  it('tells apart processes whose arguments join to the same text', () => {
    const m = new ProcessMemo(false);
    const batch = [f(0, '/bin/a', [['ab']]), f(1, '/bin/a', [['a', 'b']]), f(2, '/bin/a', [['a'], ['b']]), f(3, '/bin/a', [['a', ''], ['b']]), f(4, '/bin/a', [['a'], ['', 'b']]), f(5, '/bin/ab', [[]])];
    expect(m.plan(batch)!.reps).toHaveLength(6);
  });

  it('keys on process_id only when asked to (a redactor with lookups)', () => {
    const same = [f(0, '/bin/a', [['x']], '1'), f(1, '/bin/a', [['x']], '2')];
    expect(new ProcessMemo(false).plan(same)!.reps).toHaveLength(1);
    expect(new ProcessMemo(true).plan(same)!.reps).toHaveLength(2);
    expect(processHash(same[0], false)).toBe(processHash(same[1], false));
  });

  it('never takes a pid\'s last process for another one under that pid (exec, pid reuse)', () => {
    const m = new ProcessMemo(false);
    const first = [f(0, '/bin/a', [['x']], '7'), f(1, '/bin/a', [['x']], '7'), f(2, '/bin/a', [['x']], '7')];
    const p = m.plan(first)!;
    m.learn(p, p.reps, [{ ...p.reps[0], process_args: [['X']] }]);
    const nextFlows = [f(3, '/bin/a', [['x']], '7'), f(4, '/bin/a', [['y']], '7'), f(5, '/bin/b', [['x']], '7'), f(6, '/bin/a', [['x']], '8')];
    const next = m.plan(nextFlows)!;
    expect(next.reps.map((r) => r.id)).toEqual(['flow-4', 'flow-5']);
    expect(knownFlow(next, nextFlows, 0)!.process_args).toEqual([['X']]);
    expect(knownFlow(next, nextFlows, 3)!.process_args).toEqual([['X']]); // same process under another pid: known by its text
    expect(knownFlow(next, nextFlows, 3)!.process_id).toBe('8');
  });

  it('stays within its bound, keeping what is used', () => {
    const m = new ProcessMemo(false, 8);
    const hot = f(0, '/bin/hot', [['h']]);
    for (let i = 0; i < 40; i++) {
      const batch = [hot, hot, f(i + 1, `/bin/p${i}`, [['v']]), f(i + 1, `/bin/p${i}`, [['v']])]; // repeats: remembered at once
      const p = m.plan(batch)!;
      m.learn(p, p.reps, p.reps);
      expect(m.size).toBeLessThanOrEqual(8);
      if (i > 0) expect(p.reps.map((r) => r.process_name)).toEqual([`/bin/p${i}`]); // the hot process is still known
    }
    expect(m.size).toBeGreaterThanOrEqual(4);
  });

  it('bounds the text it holds, and does not keep a process larger than half of it', () => {
    const m = new ProcessMemo(false, 1000, 100);
    for (let i = 0; i < 20; i++) {
      const p = m.plan(Array.from({ length: 3 }, () => f(i, `/bin/p${String(i).padStart(2, '0')}`, [['x'.repeat(20)]])))!;
      m.learn(p, p.reps, p.reps);
      expect(m.chars).toBeLessThanOrEqual(100);
    }
    expect(m.size).toBeGreaterThan(0);
    const big = Array.from({ length: 3 }, (_, i) => f(i, '/bin/big', [['y'.repeat(60)]]));
    const p = m.plan(big)!;
    m.learn(p, p.reps, p.reps);
    expect(m.plan(big)!.reps).toHaveLength(1); // not remembered
  });

  it('steps aside after batches where every flow is a process of its own, and comes back', () => {
    const m = new ProcessMemo(false);
    let id = 0;
    const unique = () => Array.from({ length: 3 }, () => f(id, `/bin/u${id++}`, [['x']]));
    for (let i = 0; i < 4; i++) {
      const p = m.plan(unique())!;
      expect(p.fromCache).toBe(0);
      m.learn(p, p.reps, p.reps);
    }
    expect(m.plan(unique())).toBeUndefined(); // bypassed for one batch
    const back = m.plan([f(100, '/bin/u0', [['x']]), f(101, '/bin/u0', [['x']])]); // then consulted again
    expect(back?.reps).toHaveLength(1);
    expect(back?.fromCache).toBe(1);
  });

  it('remembers a process from its second sight on', () => {
    const m = new ProcessMemo(false);
    const once = (i: number) => {
      const p = m.plan([f(i, '/bin/once', [['x']])])!;
      m.learn(p, p.reps, p.reps);
      return p.reps.length;
    };
    expect([once(0), once(1), once(2), once(3)]).toEqual([1, 1, 0, 0]);
  });
});

describe('perProcess in the chain', () => {
  it('gives byte for byte what the redactor gives on every flow, and skips the plugin for known processes', async () => {
    const every = await chain([await entry('builtin/redact-args', { perProcess: false }), await entry('builtin/calico-json')]);
    const once = await chain([await entry('builtin/redact-args', { perProcess: true }), await entry('builtin/calico-json')]);
    const first = corpusFlows(400, 40);
    const [a, b] = [await every.process(first), await once.process(first)];
    expect(text(b)).toEqual(text(a));
    expect(b.flows).toEqual(a.flows);
    expect(new Set(b.flows.map((f) => f.process_id)).size).toBe(80);
    expect(text(b).join('\n')).not.toMatch(/hunter2|s3cret/);
    const red = once.stats()['redact-args'];
    expect(red.flowsFromCache).toBe(360); // 40 processes sent, 360 repeats
    expect(red.flowsIn).toBe(400);
    expect(red.flowsOut).toBe(400);
    const callsAfterFirst = red.calls;
    // The same processes again (new flows, new arrays): no redactor call at all
    const second = corpusFlows(300, 40, 1000);
    const [a2, b2] = [await every.process(second), await once.process(second)];
    expect(text(b2)).toEqual(text(a2));
    expect(once.stats()['redact-args'].calls).toBe(callsAfterFirst);
    expect(once.stats()['redact-args'].flowsFromCache).toBe(660);
    expect(once.stats()['calico-json'].flowsIn).toBe(700);
    // Every secret the per-flow run counted was counted once per process here
    expect(Object.values(once.stats()['redact-args'].redactions).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });

  it('learns from a fused call when every flow is a process of its own', async () => {
    const every = await chain([await entry('builtin/redact-args', { perProcess: false }), await entry('builtin/calico-json')]);
    const once = await chain([await entry('builtin/redact-args', { perProcess: true }), await entry('builtin/calico-json')]);
    // all distinct: one call, redactor and formatter fused; twice, as a process is remembered from its second sight on
    for (const first of [0, 100]) {
      const batch = corpusFlows(30, 30, first);
      expect(text(await once.process(batch))).toEqual(text(await every.process(batch)));
    }
    expect(once.stats()['redact-args'].flowsFromCache).toBe(0);
    const calls = once.stats()['redact-args'].calls;
    const again = corpusFlows(60, 30, 500);
    expect(text(await once.process(again))).toEqual(text(await every.process(again)));
    expect(once.stats()['redact-args'].calls).toBe(calls);
    expect(once.stats()['redact-args'].flowsFromCache).toBe(60);
  });

  it('sends every flow when unknown processes are more than a third of the batch, and learns from it', async () => {
    const every = await chain([await entry('builtin/redact-args', { perProcess: false }), await entry('builtin/calico-json')]);
    const once = await chain([await entry('builtin/redact-args', { perProcess: true }), await entry('builtin/calico-json')]);
    const batch = corpusFlows(12, 6); // 6 processes, 2 flows each: half the batch is unknown processes
    expect(text(await once.process(batch))).toEqual(text(await every.process(batch)));
    const s = once.stats()['redact-args'];
    expect(s.flowsFromCache).toBe(0); // every flow went to the plugin
    expect(s.calls).toBe(1);
    const again = corpusFlows(12, 6, 100);
    expect(text(await once.process(again))).toEqual(text(await every.process(again)));
    expect(once.stats()['redact-args'].calls).toBe(1); // all six learned from the first call
    expect(once.stats()['redact-args'].flowsFromCache).toBe(12);
  });

  it('without a formatter, hands the sinks the same redacted records', async () => {
    const every = await chain([await entry('builtin/redact-args', { perProcess: false })]);
    const once = await chain([await entry('builtin/redact-args', { perProcess: true })]);
    for (let round = 0; round < 3; round++) {
      const input = corpusFlows(250, 25, round * 1000);
      const [a, b] = [await every.process(input), await once.process(input)];
      expect(b.flows).toEqual(a.flows);
    }
    expect(once.stats()['redact-args'].flowsFromCache).toBe(750 - 25);
  });

  it('a TypeScript SDK redactor reads the id-and-process maps it is sent as it reads whole flows', async () => {
    const cfg = { timeoutMs: 10_000, memoryMiB: 256 };
    const every = await chain([await entry('fixtures/ts-redactor', { ...cfg, perProcess: false })]);
    const once = await chain([await entry('fixtures/ts-redactor', { ...cfg, perProcess: true })]);
    for (let round = 0; round < 2; round++) {
      const input = corpusFlows(120, 12, round * 1000);
      const [a, b] = [await every.process(input), await once.process(input)];
      expect(b.flows).toEqual(a.flows);
    }
    expect(once.stats()['ts-redactor'].flowsFromCache).toBe(240 - 12);
    expect(once.stats()['ts-redactor'].failures).toEqual(every.stats()['ts-redactor'].failures);
  }, 60_000);

  it('masks every flow of a process whose call failed, and remembers nothing of it', async () => {
    const c = await chain([await entry('fixtures/trap', { perProcess: true })]); // traps on a batch holding pid 666
    const input = [
      ...Array.from({ length: 3 }, (_, i) => flow(i, { process_id: '666' })),
      ...Array.from({ length: 3 }, (_, i) => flow(10 + i, { process_name: '/bin/ok', process_id: '5', process_args: [['fine']] })),
    ];
    const ok = (i: number) => flow(i, { process_name: '/bin/ok', process_id: '5', process_args: [['fine']] });
    const seed = await c.process([ok(50), ok(51)]); // /bin/ok known (a repeat: remembered), unchanged
    expect(seed.flows[0].process_args).toEqual([['fine']]);
    const r = await c.process(input);
    expect(r.flows.map((f) => f.process_args)).toEqual([[['[MASKED]'], ['[MASKED]']], [['[MASKED]'], ['[MASKED]']], [['[MASKED]'], ['[MASKED]']], [['fine']], [['fine']], [['fine']]]);
    const s = c.stats().trap;
    expect(s.failures.trap).toBe(1);
    expect(s.flowsMasked).toBe(3);
    expect(s.flowsFromCache).toBe(3); // the known /bin/ok flows (the seed went whole: half of it unknown); the failed process's repeats are not
    expect(s.flowsIn).toBe(8);
    expect(s.flowsOut).toBe(8);
    // Not remembered: the next batch of that process goes to the plugin again (and fails again)
    await c.process([flow(20, { process_id: '666' }), flow(21, { process_id: '666' })]);
    expect(c.stats().trap.failures.trap).toBe(2);
    expect(c.stats().trap.flowsMasked).toBe(5);
  });

  it('drops every flow of a failed process under onFailure: drop, and counts them', async () => {
    const c = await chain([await entry('fixtures/trap', { perProcess: true, onFailure: 'drop' })]);
    const ok = (i: number) => flow(i, { process_name: '/bin/ok', process_id: '5', process_args: [['fine']] });
    await c.process([ok(50), ok(51)]);
    const r = await c.process([flow(1, { process_id: '666' }), ok(2), flow(3, { process_id: '666' })]);
    expect(r.flows.map((f) => f.id)).toEqual(['flow-2']);
    expect(r.dropped).toBe(2);
    expect(c.stats().trap.flowsDropped).toBe(2);
    expect(c.stats().trap.flowsOut).toBe(3); // the seed flows and flow-2
  });

  it('is on by default for builtin:redact-args only, and refused on other stages', () => {
    const cfg = validatePluginsConfig({ chain: [
      { name: 'r', stage: 'redactor', path: 'builtin:redact-args' },
      { name: 'mine', stage: 'redactor', path: '/x.wasm', sha256: 'a'.repeat(64), perProcess: true },
    ] });
    expect(cfg.chain.map(perProcessOf)).toEqual([true, true]);
    expect(perProcessOf({ name: 'mine', stage: 'redactor', path: '/x.wasm' })).toBe(false);
    expect(perProcessOf({ name: 'r', stage: 'redactor', path: 'builtin:redact-args', perProcess: false })).toBe(false);
    expect(() => validatePluginsConfig({ chain: [{ name: 'f', stage: 'formatter', path: 'builtin:calico-json', perProcess: true }] })).toThrow(/chain\[0\]\.perProcess.*only redactors/);
    expect(() => validatePluginsConfig({ chain: [{ name: 'r', stage: 'redactor', path: 'builtin:redact-args', perProcess: 'yes' }] })).toThrow(/perProcess.*expected true or false/);
  });
});

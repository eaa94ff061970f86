/**
 * Plugin chain benchmark. On the same batches, side by side in one run:
 *   A. redact-args + calico-json as AssemblyScript plugins through the worker pool (1 worker),
 *      redact-args once per process (perProcess, its default as builtin:redact-args);
 *   B. the same logic in plain TypeScript inside the host (no plugins); B1 the same once per process;
 *   C. the same redactor as a TypeScript plugin (componentize-js, StarlingMonkey);
 *   D. instantiation time of a plugin instance, first and next ones (built each time, and from the worker's spare);
 *   E. where A0's CPU goes: each step of the chain timed alone in this thread.
 * A0 is A with every flow sent to the redactor; A1 is A0 with one worker call
 * per stage (no splicing in the worker), for comparison.
 * Prints flows/s (wall clock) and CPU µs per flow (all threads of the process);
 * "flows per CPU-second" is the one-core figure; for A also the figure over
 * the rounds run at the machine's full speed (lib/machine.ts). Nothing here asserts.
 *
 *   npm run build && npm run bench:plugins -- [--batches 100] [--batch 1000] [--rounds 3] [--flows corpus|fixed|procs] [--repeat 1] [--procs 200] [--only a,b,c,d,e]
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowRecord } from '../host/flows/record.js';
import { createLogger } from '../host/log.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { buildPlugin } from '../host/plugins/build.js';
import { PluginChain } from '../host/plugins/chain.js';
import { BatchBuffers } from '../host/plugins/batch-buffers.js';
import { BatchEncoder, builtinJsonItem, decodeBatch } from '../host/plugins/codec.js';
import { directStage, type DirectStage } from '../host/plugins/direct-call.js';
import { installPromisingFallback } from '../host/plugins/jspi-fallback.js';
import { loadPlugin } from '../host/plugins/loader.js';
import { applyRedaction, splitItems } from '../host/plugins/policy.js';
import { MsgpackWriter } from '../host/plugins/msgpack-writer.js';
import { PluginPool } from '../host/plugins/pool.js';
import { fillPlan, ProcessMemo, processOnly } from '../host/plugins/process-memo.js';
import { spliceRedaction } from '../host/plugins/splice.js';
import { createRedactor, redactFlows } from '../host/redact/redactor.js';
import { benchBatches, corpusCommandLines, processCommandLines } from './lib/flows.js';
import { coreInstances } from './lib/in-process.js';
import { int, median, parseArgs } from './lib/stats.js';
import { coresAvailable, fullSpeedRounds, referenceMs, type PhasedRound } from './lib/machine.js';
import { measureBatches, threadCpuNs, threadDelta, type Run } from './lib/threads.js';

const opts = parseArgs(process.argv.slice(2));
const BATCHES = Number(opts.get('batches') ?? 100);
const BATCH = Number(opts.get('batch') ?? 1000);
const ROUNDS = Number(opts.get('rounds') ?? 3);
/** Sections to run (`--only c,d`); A, B and E run together. */
const ONLY = new Set((opts.get('only') ?? 'a,b,c,d,e').toLowerCase().split(','));
const log = createLogger('error');

// ---- B: the redact-args rules in plain TypeScript: the host's redactor compiles the plugin's own rules source ----
const hostRedactor = createRedactor();
function plainChain(flows: FlowRecord[]): Uint8Array[] {
  return redactFlows(flows, hostRedactor).map(builtinJsonItem);
}
// B1: B once per process, with the same ProcessMemo the chain uses for A
const hostMemo = new ProcessMemo(false);
function plainChainPerProcess(flows: FlowRecord[]): Uint8Array[] {
  const plan = hostMemo.plan(flows);
  if (!plan) return plainChain(flows);
  const redacted = fillPlan(plan, flows, plan.reps.length ? hostMemo.learn(plan, plan.reps, redactFlows(plan.reps, hostRedactor)) : []);
  return redacted.map(builtinJsonItem);
}

// ---- batches ----
// Default (`--flows corpus`): the redaction corpora of test/redact/corpus/ (issue 5's benchmark):
// secret and ordinary command lines alternately, each flow with its own freshly generated
// secrets (no two flows share an argument list unless `--repeat N` gives N flows per list,
// as a process with N connections would). `--flows fixed`: five fixed lists (older figures).
const FLOWS = opts.get('flows') ?? 'corpus';
const REPEAT = Math.max(1, Number(opts.get('repeat') ?? 1));
/** `--flows procs`: this many long-lived processes (corpus lines) share all flows, as on a busy server. */
const PROCS = Math.max(1, Number(opts.get('procs') ?? 200));
const FIXED_ARGS = [
  ['/usr/bin/psql', '-h', 'db.internal', '-U', 'app', '--password=hunter2', '-c', 'select 1'],
  ['/usr/bin/curl', '-sS', '-H', 'Authorization: Bearer abc', 'https://deploy:tok3n@artifacts.example/x.tgz'],
  ['/usr/bin/mysql', '-u', 'root', '-pS3cret', 'shop'],
  ['/opt/app/bin/agent', '--config', '/etc/app/config.yaml', '--token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', '--verbose'],
  ['/usr/bin/docker', 'run', '--rm', 'nginx:1.27'],
];
function makeBatches(): FlowRecord[][] {
  const n = BATCHES * BATCH;
  const lines = FLOWS === 'fixed' ? Array.from({ length: n }, (_, i) => FIXED_ARGS[Math.floor(i / REPEAT) % FIXED_ARGS.length])
    : FLOWS === 'procs' ? processCommandLines(n, PROCS)
    : corpusCommandLines(n, REPEAT);
  return benchBatches(lines, BATCH);
}

function summary(name: string, runs: Run[]): Run {
  const m = (f: (x: Run) => number) => median(runs.map(f));
  const r = { flowsPerSec: m((x) => x.flowsPerSec), cpuUsPerFlow: m((x) => x.cpuUsPerFlow), mainUsPerFlow: m((x) => x.mainUsPerFlow), workerUsPerFlow: m((x) => x.workerUsPerFlow) };
  console.log(`${name.padEnd(52)} ${int(r.flowsPerSec).padStart(10)} flows/s   ${r.cpuUsPerFlow.toFixed(2).padStart(6)} CPU-µs/flow   ${int(1e6 / r.cpuUsPerFlow).padStart(10)} flows per CPU-second   (median of ${runs.length})`);
  return r;
}

/** One step of a breakdown: its label and µs per flow (and what to compare it with). */
function stepLine(label: string, us: number, after = ''): void {
  console.log(`   ${label.padEnd(58)} ${us.toFixed(2).padStart(6)}${after}`);
}

/**
 * A's rounds split by the machine's phase: the reference loop measured right
 * before and after each round tells the rounds run at the machine's full speed
 * from those slowed down by it (this VM's own speed moves 2–3× within a run).
 */
function fullSpeedLine(rounds: PhasedRound<Run>[]): string {
  const fast = fullSpeedRounds(rounds);
  const cores = coresAvailable();
  const where = `${cores} core${cores === 1 ? '' : 's'} available to this process${cores === 1 ? ' (taskset)' : ''}`;
  const head = `   machine phase (${where}): reference loop ${fast.fastestRef.toFixed(1)}–${fast.slowestRef.toFixed(1)} ms over the run (${(fast.slowestRef / fast.fastestRef).toFixed(2)}× apart)`;
  if (!fast.rounds.length) return `${head}; no round had the reference within 15% of its fastest on both sides`;
  const us = median(fast.rounds.map((r) => r.cpuUsPerFlow));
  const all = rounds.map((r) => r.round.cpuUsPerFlow);
  return `${head}\n   A at full machine speed (${fast.rounds.length} of ${rounds.length} rounds with the reference within 15% of its fastest before and after): ${us.toFixed(2)} CPU-µs/flow = ${int(1e6 / us)} flows per CPU-second, wall ${int(median(fast.rounds.map((r) => r.flowsPerSec)))} flows/s (median); all rounds ${Math.min(...all).toFixed(2)}–${Math.max(...all).toFixed(2)} CPU-µs/flow`;
}

/** The per-thread line under a summary: the host thread's and the plugin worker's CPU per flow. */
function threadLine(r: Run): string {
  return `   by thread, CPU µs/flow: host thread ${r.mainUsPerFlow.toFixed(2)}, plugin worker ${r.workerUsPerFlow.toFixed(2)} (${int(1e6 / r.workerUsPerFlow)} flows per CPU-second of the worker's core); the rest is V8's GC and compiler threads`;
}

async function main(): Promise<void> {
  const dir = (rel: string) => join(PROJECT_ROOT, 'plugins', rel);
  const [red, fmt, tsRed] = await Promise.all([buildPlugin(dir('builtin/redact-args')), buildPlugin(dir('builtin/calico-json')), buildPlugin(dir('fixtures/ts-redactor'))]);
  const batches = makeBatches();
  const what = FLOWS === 'fixed' ? `five fixed argument lists, ${REPEAT} flow(s) in a row per list`
    : FLOWS === 'procs' ? `${PROCS} long-lived processes of the redaction corpora, their flows interleaved`
    : `redaction corpora, fresh secrets per flow, ${REPEAT} flow(s) per argument list`;
  console.log(`plugin chain benchmark: ${BATCHES} batches × ${BATCH} flows (${what}), ${ROUNDS} rounds; node ${process.version}`);

  if (!['a', 'b', 'e'].some((x) => ONLY.has(x))) return tsSections(red, tsRed, batches);

  // The built-in redact-args runs per process (perProcess, its default as builtin:redact-args); A0 and A1 send it every flow.
  const chainCfg = (perProcess: boolean) => ({ workers: 1, batchSize: BATCH, chain: [
    { name: 'redact-args', stage: 'redactor' as const, path: red.wasm, sha256: red.sha256, perProcess },
    { name: 'calico-json', stage: 'formatter' as const, path: fmt.wasm, sha256: fmt.sha256 },
  ] });
  const asChain = await PluginChain.create(chainCfg(true), { log });
  const everyFlow = await PluginChain.create(chainCfg(false), { log });
  const perStage = await PluginChain.create(chainCfg(false), { log, fuse: false });
  // Same output? (checked on the first two batches: the second meets processes the first taught A)
  const b = batches.slice(0, 2).flatMap((x) => plainChain(x));
  const items = async (c: PluginChain) => (await Promise.all(batches.slice(0, 2).map((x) => c.process(x)))).flatMap((r) => r.items);
  const same = (x: Uint8Array[]) => x.length === b.length && x.every((it, i) => Buffer.compare(Buffer.from(it), Buffer.from(b[i])) === 0);
  const b1 = batches.slice(0, 2).flatMap((x) => plainChainPerProcess(x));
  console.log(`B1 output identical to B: ${b1.length === b.length && b1.every((it, i) => Buffer.compare(Buffer.from(it), Buffer.from(b[i])) === 0)}`);
  console.log(`AssemblyScript chain output identical to plain TypeScript: ${same(await items(asChain))} (every flow to the redactor: ${same(await items(everyFlow))}, one call per stage: ${same(await items(perStage))})`);

  const A: Run[] = [];
  const A0: Run[] = [];
  const A1: Run[] = [];
  const B: Run[] = [];
  const B1: Run[] = [];
  const phasedA: PhasedRound<Run>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const refBefore = referenceMs();
    A.push(await measureBatches((x) => asChain.process(x), batches));
    phasedA.push({ round: A[A.length - 1], refBefore, refAfter: referenceMs() });
    A0.push(await measureBatches((x) => everyFlow.process(x), batches));
    A1.push(await measureBatches((x) => perStage.process(x), batches));
    B.push(await measureBatches((x) => plainChain(x), batches));
    B1.push(await measureBatches((x) => plainChainPerProcess(x), batches));
  }
  const ra = summary('A  AssemblyScript redactor+formatter (worker pool)', A);
  console.log(threadLine(ra));
  console.log(fullSpeedLine(phasedA));
  const ra0 = summary('A0 same, every flow to the redactor (perProcess off)', A0);
  console.log(threadLine(ra0));
  const ra1 = summary('A1 A0 with one worker call per stage (fuse: false)', A1);
  const rb = summary('B  same logic, plain TypeScript in the host', B);
  const rb1 = summary('B1 B once per process (the same ProcessMemo as A)', B1);
  const fromCache = asChain.stats()['redact-args'].flowsFromCache;
  const seen = asChain.stats()['redact-args'].flowsIn;
  console.log(`   A's redactor: ${(100 * (seen - fromCache) / seen).toFixed(1)}% of flows sent to the plugin (the others: processes it knew, or repeats in the call)`);
  console.log(`   ratio A/B1 (both once per process): ${(ra.flowsPerSec / rb1.flowsPerSec).toFixed(2)}× wall-clock throughput, ${(rb1.cpuUsPerFlow / ra.cpuUsPerFlow).toFixed(2)}× CPU efficiency; A0/B (both every flow): ${(ra0.flowsPerSec / rb.flowsPerSec).toFixed(2)}×, ${(rb.cpuUsPerFlow / ra0.cpuUsPerFlow).toFixed(2)}×; A/B: ${(ra.flowsPerSec / rb.flowsPerSec).toFixed(2)}×, ${(rb.cpuUsPerFlow / ra.cpuUsPerFlow).toFixed(2)}×; A0/A1: ${(ra0.flowsPerSec / ra1.flowsPerSec).toFixed(2)}× wall clock, ${(ra1.cpuUsPerFlow / ra0.cpuUsPerFlow).toFixed(2)}× CPU`);
  const failures = Object.values(asChain.stats()).reduce((n, s) => n + Object.values(s.failures).reduce((x, y) => x + y, 0), 0);
  console.log(`   plugin failures during A: ${failures}`);
  console.log(`   pool: ${JSON.stringify(asChain.poolStats())}`);
  await asChain.close();
  await everyFlow.close();
  await perStage.close();

  await breakdown(red, fmt, batches, ra0.cpuUsPerFlow);
  await breakdownPerProcess(red, fmt, batches, ra);

  await tsSections(red, tsRed, batches);
}

type Built = { wasm: string; sha256: string };

/** C and D: the TypeScript plugin's throughput, and instantiation times. */
async function tsSections(red: Built, tsRed: Built, batches: FlowRecord[][]): Promise<void> {
  if (ONLY.has('c')) {
    // memoryMiB 256: StarlingMonkey's heap peaks near 110 MiB on 1000-flow corpus batches (at the default 64 it traps every ~25-35 batches).
    const tsChain = await PluginChain.create({ workers: 1, batchSize: BATCH, chain: [{ name: 'ts-redactor', stage: 'redactor', path: tsRed.wasm, sha256: tsRed.sha256, timeoutMs: 30_000, memoryMiB: 256 }] }, { log });
    const few = batches.slice(0, Math.max(5, Math.floor(BATCHES / 10)));
    await tsChain.process(few[0]);
    const C: Run[] = [];
    const t0 = threadCpuNs();
    for (let r = 0; r < ROUNDS; r++) C.push(await measureBatches((x) => tsChain.process(x), few));
    const used = threadDelta(t0, threadCpuNs());
    summary(`C  TypeScript redactor (componentize-js, ${Math.round(statSync(tsRed.wasm).size / 1e6)} MB)`, C);
    const perFlow = (ns: number) => (ns / 1000 / (ROUNDS * few.length * BATCH)).toFixed(1);
    console.log(`   CPU µs per flow by thread: main ${perFlow(used.main)}, plugin worker ${perFlow(used.others[0] ?? 0)}, other threads ${perFlow(used.others.slice(1).reduce((a, b) => a + b, 0))}`);
    console.log(`   plugin failures during C: ${JSON.stringify(tsChain.stats()['ts-redactor'].failures)}`);
    await tsChain.close();
  }
  if (!ONLY.has('d')) return;
  // Instantiations after the first, two ways: each built from scratch (`spare: false`), and each
  // binding the spare instance the worker built in idle time (the default; waited for here, as a
  // trap or a new tenant rarely follows another at once). Worker-side ms, as PluginPool reports them.
  for (const [name, built] of [['AssemblyScript redact-args', red], ['TypeScript ts-redactor', tsRed]] as const) {
    const loaded = await loadPlugin({ name: 'inst', stage: 'redactor', path: built.wasm, sha256: built.sha256 });
    const def = (key: string, spare: boolean) => ({ key, name: 'inst', glue: loaded.glue, modules: loaded.modules, config: [] as [string, string][], grants: [], imports: loaded.imports, memoryCapBytes: loaded.memoryCapBytes, spare });
    for (const spare of [false, true]) {
      let ready: (() => void) | undefined;
      let spareBytes = 0;
      const pool = new PluginPool({ size: 1, onSpare: (_key, bytes) => { spareBytes = bytes; ready?.(); } });
      const ms: number[] = [];
      for (let i = 0; i < 6; i++) {
        const spareReady = new Promise<void>((r) => (ready = r));
        const info = await pool.define(def(`k${i}`, spare));
        ms.push(info.ms);
        if (spare) await spareReady;
      }
      const bound = pool.stats.fromSpare;
      await pool.close();
      console.log(`D  instantiation, ${name}, ${spare ? 'from the spare' : 'built each time (spare: false)'}: first ${ms[0].toFixed(1)} ms, next ${ms.slice(1).map((x) => x.toFixed(1)).join(' / ')} ms (median ${median(ms.slice(1)).toFixed(1)})${spare ? `; ${bound} of 5 bound a spare, whose linear memory is ${(spareBytes / 1048576).toFixed(1)} MiB` : ''}`);
    }
  }
  await instantiationParts(tsRed);
}

/**
 * D, the parts of one TypeScript instantiation after the first, in this
 * thread (wall ms, and this thread's CPU ms from /proc, which load does not
 * inflate much): the glue with its core instances, the big core instance
 * alone, the first call (`batchEncoding`). Alternately without and with the
 * JSPI fallback the plugin workers install (host/plugins/jspi-fallback.ts).
 */
async function instantiationParts(built: Built): Promise<void> {
  const cpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  const loaded = await loadPlugin({ name: 'parts', stage: 'redactor', path: built.wasm, sha256: built.sha256 });
  const { instantiate } = (await import(loaded.glue)) as { instantiate: Function };
  const host = { log() {}, config: () => [], getProcess: () => undefined, processChain: () => [], flowProcess: () => undefined };
  const imports: Record<string, unknown> = {};
  for (const n of loaded.imports) imports[n] = imports[n.replace(/@.*$/, '')] = host;
  const wasm = WebAssembly as { promising?: unknown };
  const had = wasm.promising;
  const rows: Record<'without' | 'with', number[][]> = { without: [], with: [] };
  for (let i = 0; i < 13; i++) {
    for (const v of ['without', 'with'] as const) {
      if (v === 'with') installPromisingFallback(wasm);
      else delete wasm.promising;
      let core = 0;
      const c0 = cpuMs();
      const t0 = performance.now();
      const ex = (await instantiate((n: string) => loaded.modules[n], imports, async (m: WebAssembly.Module, im?: WebAssembly.Imports) => {
        const a = performance.now();
        const inst = await WebAssembly.instantiate(m, im ?? {});
        core = Math.max(core, performance.now() - a);
        return inst;
      })) as { batchEncoding(): string };
      const t1 = performance.now();
      ex.batchEncoding();
      const t2 = performance.now();
      if (i > 0) rows[v].push([t2 - t0, t1 - t0, core, t2 - t1, cpuMs() - c0]);
    }
  }
  if (had === undefined) delete wasm.promising;
  else wasm.promising = had;
  for (const v of ['without', 'with'] as const) {
    const m = (j: number) => median(rows[v].map((r) => r[j])).toFixed(1);
    // A thread's own schedstat lags by up to one scheduler tick (4 ms here): the mean of the differences is unbiased, a median is not.
    const cpu = (rows[v].reduce((a, r) => a + r[4], 0) / rows[v].length).toFixed(1);
    console.log(`   TS parts ${v.padEnd(7)} JSPI fallback: total ${m(0)} ms (thread CPU, mean: ${cpu}) = glue + cores ${m(1)} [big core ${m(2)}] + first call ${m(3)} (medians of ${rows[v].length}, in this thread)`);
  }
}

/** A stage function of a component instantiated in this thread (stub host imports), called as the worker calls it. */
async function inProcess(built: { wasm: string; sha256: string }, stage: 'redactor' | 'formatter'): Promise<DirectStage> {
  return directStage(await coreInstances(built.wasm, built.sha256, stage), stage === 'redactor' ? 'redact' : 'format')!;
}

/**
 * E: where A0's time goes (every flow redacted). The same steps PluginChain takes, each timed on its
 * own in this thread (the plugins instantiated here, no worker): what is left
 * of A's CPU per flow is the worker round trip (messages, scheduling, GC).
 */
async function breakdown(red: { wasm: string; sha256: string }, fmt: { wasm: string; sha256: string }, batches: FlowRecord[][], aCpuUs: number): Promise<void> {
  const redact = await inProcess(red, 'redactor');
  const format = await inProcess(fmt, 'formatter');
  const t = { encode: 0, redact: 0, splice: 0, format: 0, apply: 0, split: 0 };
  const spliceWriter = new MsgpackWriter();
  // Reused, reset per batch, as PluginChain's encoders are; batches go into buffers given back after use, as the worker gives them back.
  const buffers = new BatchBuffers();
  const enc = new BatchEncoder(buffers);
  const run = (record: boolean) => {
    for (const b of batches) {
      enc.reset();
      const t0 = performance.now();
      const input = enc.encode(b, 'msgpack');
      const t1 = performance.now();
      const r = redact(input);
      const t2 = performance.now();
      if (!r.ok || !('output' in r)) throw new Error('redactor failed in the breakdown');
      const input2 = spliceRedaction(input, r.output, spliceWriter, enc.lastStarts())?.batch;
      const t3 = performance.now();
      if (!input2) throw new Error('redactor output not spliceable in the breakdown');
      const f = format(input2);
      const t4 = performance.now();
      if (!f.ok || !('items' in f)) throw new Error('formatter failed in the breakdown');
      buffers.give(input.buffer as ArrayBuffer);
      const flows = applyRedaction(b, decodeBatch(r.output, 'msgpack'));
      const t5 = performance.now();
      splitItems(flows, f.items);
      const t6 = performance.now();
      if (!record) continue;
      t.encode += t1 - t0; t.redact += t2 - t1; t.splice += t3 - t2; t.format += t4 - t3; t.apply += t5 - t4; t.split += t6 - t5;
    }
  };
  run(false); // warm up
  run(true);
  const n = batches.length * BATCH;
  const us = (ms: number) => (ms * 1000) / n;
  const parts: [string, number][] = [
    ['host: encode the batch (MessagePack)', us(t.encode)],
    ['worker: redactor in wasm (copy in, run, copy out)', us(t.redact)],
    ['worker: splice its output into the batch', us(t.splice)],
    ['worker: formatter in wasm (copy in, run, copy out)', us(t.format)],
    ['host: decode the redactor output, merge into the records', us(t.apply)],
    ['host: split items', us(t.split)],
  ];
  const sum = parts.reduce((x, [, v]) => x + v, 0);
  console.log('E  where A0\'s CPU goes (every flow redacted), µs per flow (each step timed alone in this thread):');
  for (const [name, v] of parts) stepLine(name, v);
  stepLine('sum of the steps', sum);
  stepLine('rest of A0: worker round trips, messages, scheduling, GC', aCpuUs - sum);
}

await main();

/**
 * E for A: the steps of a per-process chain, each timed alone in this thread
 * on the same batches (a memo warmed by one pass, as A's is by the rounds
 * before): the host's plan and merge, the redactor on the unknown processes
 * only, the host's encode of the batch for the formatter, the formatter, the
 * split; and what is left of A's host-thread and worker CPU.
 */
async function breakdownPerProcess(red: Built, fmt: Built, batches: FlowRecord[][], a: Run): Promise<void> {
  const redact = await inProcess(red, 'redactor');
  const format = await inProcess(fmt, 'formatter');
  const memo = new ProcessMemo(false);
  const buffers = new BatchBuffers(); // (as in E)
  const enc = new BatchEncoder(buffers);
  const t = { plan: 0, redact: 0, merge: 0, encode: 0, format: 0, split: 0 };
  let sent = 0;
  const run = (record: boolean) => {
    for (const b of batches) {
      const t0 = performance.now();
      const plan = memo.plan(b);
      const t1 = performance.now();
      let flows = b;
      let t2 = t1;
      let t3 = t1;
      if (plan?.worthIt) {
        if (plan.reps.length > 0) {
          enc.reset();
          const r = redact(enc.encodeProcesses(plan.reps, 'msgpack'));
          t2 = performance.now();
          if (!r.ok || !('output' in r)) throw new Error('redactor failed in the breakdown');
          const sentMaps = plan.reps.map(processOnly);
          flows = fillPlan(plan, b, memo.learn(plan, sentMaps, applyRedaction(sentMaps, decodeBatch(r.output, 'msgpack'))));
        } else {
          t2 = t1;
          flows = fillPlan(plan, b, []);
        }
        t3 = performance.now();
        if (record) sent += plan.reps.length;
      } else if (record) sent += b.length; // (A would send every flow fused: not this breakdown's case)
      enc.reset();
      const input = enc.encode(flows, 'msgpack');
      const t4 = performance.now();
      const f = format(input);
      const t5 = performance.now();
      if (!f.ok || !('items' in f)) throw new Error('formatter failed in the breakdown');
      buffers.give(input.buffer as ArrayBuffer);
      splitItems(flows, f.items);
      const t6 = performance.now();
      if (!record) continue;
      t.plan += t1 - t0; t.redact += t2 - t1; t.merge += t3 - t2; t.encode += t4 - t3; t.format += t5 - t4; t.split += t6 - t5;
    }
  };
  run(false); // warms the memo and the code
  run(true);
  const n = batches.length * BATCH;
  const us = (ms: number) => (ms * 1000) / n;
  const host = us(t.plan + t.merge + t.encode + t.split);
  const worker = us(t.redact + t.format);
  console.log(`E' where A's CPU goes (redaction per process; ${((100 * sent) / n).toFixed(1)}% of flows to the redactor here), µs per flow (each step timed alone in this thread):`);
  const parts: [string, number][] = [
    ['host: plan (known processes, repeats) and apply', us(t.plan)],
    ['worker: redactor in wasm on the unknown processes', us(t.redact)],
    ['host: merge its results', us(t.merge)],
    ['host: encode the batch for the formatter (MessagePack)', us(t.encode)],
    ['worker: formatter in wasm (copy in, run, copy out)', us(t.format)],
    ['host: split items', us(t.split)],
  ];
  for (const [name, v] of parts) stepLine(name, v);
  stepLine("host thread: its steps / A's host thread", host, ` / ${a.mainUsPerFlow.toFixed(2)}`);
  stepLine("worker: its steps / A's plugin worker", worker, ` / ${a.workerUsPerFlow.toFixed(2)}`);
}

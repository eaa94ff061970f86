/**
 * The redaction rules alone (bench/README.md "plugin-chain", part E "redactor in
 * wasm"): the built redact-args component instantiated in this thread (stub host
 * imports, as bench/plugin-chain.ts's `inProcess()` does), `redact(batch)`
 * called straight on its core exports on pre-encoded batches of the redaction
 * corpora (the same batches as plugin-chain's `--flows corpus`), and the host's
 * TypeScript twin (host/redact/redactor.ts) on the same flows. Prints CPU-µs per
 * flow (this thread's CPU time, median of the rounds) and the arena a call used (the `stub` runtime
 * frees nothing within a call): bytes per flow, and bytes per argument byte
 * on the corpus and on long spaced arguments (~4 KiB of words per flow).
 * Nothing here asserts.
 *
 *   npm run build && node dist/bench/redact-rules.js [--batches 50] [--batch 1000] [--rounds 5] [--wasm PATH]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowRecord } from '../host/flows/record.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { buildPlugin } from '../host/plugins/build.js';
import { BatchEncoder } from '../host/plugins/codec.js';
import { createRedactor, redactFlows } from '../host/redact/redactor.js';
import { benchBatches, corpusCommandLines } from './lib/flows.js';
import { stageCore, type StageCore } from './lib/in-process.js';
import { median, parseArgs } from './lib/stats.js';

const opts = parseArgs(process.argv.slice(2));
const BATCHES = Number(opts.get('batches') ?? 50);
const BATCH = Number(opts.get('batch') ?? 1000);
const ROUNDS = Number(opts.get('rounds') ?? 5);

function argBytes(batch: FlowRecord[]): number {
  let n = 0;
  for (const f of batch) for (const list of f.process_args) for (const a of list) n += Buffer.byteLength(a);
  return n;
}

/** The plugin's core exports (config empty: mask mode, no policy). */
type Core = StageCore<'redact'>;

/** One call as the worker makes it (copy in, run, copy out); returns the arena the call used beyond its input. */
function call(c: Core, input: Uint8Array): number {
  const ptr = c.cabi_realloc(0, 0, 1, input.byteLength) >>> 0;
  new Uint8Array(c.memory.buffer, ptr, input.byteLength).set(input);
  const ret = c.redact(ptr, input.byteLength) >>> 0;
  const dv = new DataView(c.memory.buffer);
  if (dv.getUint8(ret) !== 0) throw new Error('redactor returned an error');
  const p = dv.getUint32(ret + 4, true);
  const n = dv.getUint32(ret + 8, true);
  c.memory.buffer.slice(p, p + n);
  const top = c.cabi_realloc(0, 0, 1, 1) >>> 0; // the arena's high-water mark
  c.cabi_post_redact(ret);
  return top - ptr - input.byteLength;
}

async function main(): Promise<void> {
  const built = opts.has('wasm') ? { wasm: opts.get('wasm')!, sha256: createHash('sha256').update(readFileSync(opts.get('wasm')!)).digest('hex') } : await buildPlugin(join(PROJECT_ROOT, 'plugins', 'builtin', 'redact-args'));
  const core = await stageCore(built.wasm, built.sha256, 'redact');
  const batches = benchBatches(corpusCommandLines(BATCHES * BATCH), BATCH);
  const enc = new BatchEncoder();
  const inputs = batches.map((b) => enc.encode(b, 'msgpack').slice());
  const padding = `--comment=${'lorem ipsum dolor sit amet '.repeat(152)}`;
  const longFlows = benchBatches(Array.from({ length: 100 }, (_, i) => ['/usr/bin/app', `--password=Secr3t${i}x`, padding, `https://deploy:tok${i}en@git.example.com/r.git`]), 100)[0];
  const longInput = enc.encode(longFlows, 'msgpack').slice();
  const flows = BATCHES * BATCH;
  const args = batches.reduce((n, b) => n + argBytes(b), 0);
  console.log(`redaction rules: ${BATCHES} batches × ${BATCH} flows of the redaction corpora (fresh secrets per flow, ${(args / flows).toFixed(1)} argument bytes per flow), ${ROUNDS} rounds; node ${process.version}`);

  const host = createRedactor();
  for (const inp of inputs) call(core, inp); // warm-up: V8 compiles wasm functions on first call
  for (const b of batches) redactFlows(b, host);
  const wasmUs: number[] = [];
  const hostUs: number[] = [];
  const wasmWall: number[] = [];
  let arena = 0;
  // CPU time of this (single) thread: less swayed than wall time by the other processes of a shared machine
  const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };
  // all wasm rounds first: the twin's garbage is not collected during them
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = cpuUs();
    const w0 = performance.now();
    arena = 0;
    for (const inp of inputs) arena += call(core, inp);
    wasmUs.push((cpuUs() - t0) / flows);
    wasmWall.push(((performance.now() - w0) * 1000) / flows);
  }
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = cpuUs();
    for (const b of batches) redactFlows(b, host);
    hostUs.push((cpuUs() - t0) / flows);
  }
  const longArena = call(core, longInput);
  const longArgs = argBytes(longFlows);
  console.log(`redactor in wasm (copy in, run, copy out)   ${median(wasmUs).toFixed(2).padStart(6)} CPU-µs/flow  (${wasmUs.map((x) => x.toFixed(2)).join(' ')})`);
  console.log(`   wall clock: ${median(wasmWall).toFixed(2)} µs/flow`);
  console.log(`host TypeScript twin (redactFlows)          ${median(hostUs).toFixed(2).padStart(6)} CPU-µs/flow  (${hostUs.map((x) => x.toFixed(2)).join(' ')})`);
  console.log(`arena per call, corpus: ${(arena / flows).toFixed(0)} bytes/flow, ${(arena / args).toFixed(1)} bytes per argument byte`);
  console.log(`arena per call, 100 flows × ${longArgs / 100} bytes of spaced arguments: ${(longArena / longArgs).toFixed(1)} bytes per argument byte (${(longArena / 1048576).toFixed(2)} MiB)`);
}

await main();

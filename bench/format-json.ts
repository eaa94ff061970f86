/**
 * The calico-json formatter alone (bench/README.md "plugin-chain", part E
 * "formatter in wasm"): the built component instantiated in this thread (stub
 * host imports, bench/lib/in-process.ts), `format(batch)` called straight on
 * its core exports as the worker calls it (copy in, run, copy out) on
 * pre-encoded MessagePack batches of the benchmark flows (bench/lib/flows.ts).
 * Each item is checked once against the host's built-in JSON line
 * (`builtinJsonItem`). Prints CPU-µs per flow (this thread's CPU time, median
 * of the rounds) and the arena a call used. With several `--wasm` files (comma
 * separated, e.g. an older build beside the new one) the rounds alternate
 * between them, so that a noisy machine sways them alike. Nothing here asserts
 * but the output check.
 *
 *   npm run build && node dist/bench/format-json.js [--batches 50] [--batch 1000] [--rounds 7] [--wasm A.wasm,B.wasm] [--no-check]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../host/paths.js';
import { buildPlugin } from '../host/plugins/build.js';
import { BatchEncoder, builtinJsonItem } from '../host/plugins/codec.js';
import { benchBatches, corpusCommandLines } from './lib/flows.js';
import { stageCore, type StageCore } from './lib/in-process.js';
import { median, parseArgs } from './lib/stats.js';

const opts = parseArgs(process.argv.slice(2));
const BATCHES = Number(opts.get('batches') ?? 50);
const BATCH = Number(opts.get('batch') ?? 1000);
const ROUNDS = Number(opts.get('rounds') ?? 7);
const CHECK = !opts.has('no-check'); // --no-check: time experimental builds whose output differs

type Core = StageCore<'format'>;

/** Wall time spent in the copy out (the ArrayBuffer slice), ms. */
let sliceMs = 0;

/** One call as the worker makes it; returns the items buffer (copied out) and the arena the call used beyond its input. */
function call(c: Core, input: Uint8Array, split = true): { items: Uint8Array[]; arena: number } {
  const ptr = c.cabi_realloc(0, 0, 1, input.byteLength) >>> 0;
  new Uint8Array(c.memory.buffer, ptr, input.byteLength).set(input);
  const ret = c.format(ptr, input.byteLength) >>> 0;
  const dv = new DataView(c.memory.buffer);
  if (dv.getUint8(ret) !== 0) throw new Error('formatter returned an error');
  const list = dv.getUint32(ret + 4, true);
  const n = dv.getUint32(ret + 8, true);
  const first = n > 0 ? dv.getUint32(list, true) : 0;
  let total = 0;
  for (let i = 0; i < n; i++) total += dv.getUint32(list + i * 8 + 4, true);
  const t0 = performance.now();
  const buf = new Uint8Array(c.memory.buffer.slice(first, first + total)); // as host/plugins/direct-call.ts lifts items
  sliceMs += performance.now() - t0;
  const items: Uint8Array[] = [];
  for (let i = 0, o = 0; split && i < n; i++) {
    const len = dv.getUint32(list + i * 8 + 4, true);
    items.push(buf.subarray(o, o + len));
    o += len;
  }
  const top = c.cabi_realloc(0, 0, 1, 1) >>> 0; // the arena's high-water mark
  c.cabi_post_format(ret);
  return { items, arena: top - ptr - input.byteLength };
}

async function main(): Promise<void> {
  const wasms = opts.has('wasm')
    ? opts.get('wasm')!.split(',').map((wasm) => ({ wasm, sha256: createHash('sha256').update(readFileSync(wasm)).digest('hex') }))
    : [await buildPlugin(join(PROJECT_ROOT, 'plugins', 'builtin', 'calico-json'))];
  const cores = await Promise.all(wasms.map((w) => stageCore(w.wasm, w.sha256, 'format')));
  const batches = benchBatches(corpusCommandLines(BATCHES * BATCH), BATCH);
  const enc = new BatchEncoder();
  const inputs = batches.map((b) => enc.encode(b, 'msgpack').slice());
  const flows = BATCHES * BATCH;
  const inBytes = inputs.reduce((n, b) => n + b.byteLength, 0);
  console.log(`calico-json formatter: ${BATCHES} batches × ${BATCH} flows (${(inBytes / flows).toFixed(0)} MessagePack bytes per flow), ${ROUNDS} rounds; node ${process.version}`);
  // output check, and warm-up (V8 compiles wasm functions on first call)
  const arena = cores.map(() => 0);
  let outBytes = 0;
  cores.forEach((c, k) => {
    inputs.forEach((inp, b) => {
      const { items, arena: a } = call(c, inp);
      arena[k] += a;
      if (k === 0) outBytes += items.reduce((n, x) => n + x.byteLength, 0);
      if (!CHECK) return;
      if (items.length !== batches[b].length) throw new Error(`${wasms[k].wasm}: ${items.length} items for ${batches[b].length} flows`);
      items.forEach((it, i) => {
        if (Buffer.compare(it, builtinJsonItem(batches[b][i])) !== 0) throw new Error(`${wasms[k].wasm}: batch ${b} flow ${i} differs from builtinJsonItem:\n${Buffer.from(it)}`);
      });
    });
  });
  if (CHECK) console.log(`output identical to builtinJsonItem: true (${(outBytes / flows).toFixed(0)} JSON bytes per flow)`);
  const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const us: number[][] = cores.map(() => []);
  const sliceUs: number[][] = cores.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    cores.forEach((c, k) => {
      const t0 = cpuUs();
      sliceMs = 0;
      for (const inp of inputs) call(c, inp, false);
      us[k].push((cpuUs() - t0) / flows);
      sliceUs[k].push((sliceMs * 1000) / flows);
    });
  }
  wasms.forEach((w, k) => {
    console.log(`formatter in wasm (copy in, run, copy out)   ${median(us[k]).toFixed(2).padStart(6)} CPU-µs/flow  (${us[k].map((x) => x.toFixed(2)).join(' ')})  min ${Math.min(...us[k]).toFixed(2)}  arena ${(arena[k] / flows).toFixed(0)} bytes/flow  ${w.wasm}`);
    console.log(`   of which the copy out (ArrayBuffer slice, wall clock): ${median(sliceUs[k]).toFixed(2)} µs/flow`);
  });
}

await main();

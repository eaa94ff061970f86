/**
 * Plugin chain A/B: row A of plugin-chain.ts (redact-args per process +
 * calico-json, AssemblyScript, one worker) of this checkout against another
 * checkout of procflow (built: `npm ci && npx tsc -p tsconfig.build.json`
 * there), in one process, rounds alternating, on the same batches. Each side
 * builds its plugins from its own sources (SDK included). This VM's speed
 * drifts by ±20 % within minutes, so a before/after comparison is only
 * meaningful within one run. Prints CPU µs per flow over all threads, the
 * host thread's and the plugin worker's, and wall-clock flows/s; checks that
 * both sides' items are byte-identical. Nothing here asserts.
 *
 *   git worktree add /tmp/base <rev> && (cd /tmp/base && npm ci && npx tsc -p tsconfig.build.json)
 *   npm run build && node dist/bench/chain-ab.js --baseline /tmp/base [--flows procs|corpus] [--procs 200] [--rounds 8]
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FlowRecord } from '../host/flows/record.js';
import { createLogger } from '../host/log.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { buildPlugin } from '../host/plugins/build.js';
import { PluginChain } from '../host/plugins/chain.js';
import { benchBatches, corpusCommandLines, processCommandLines } from './lib/flows.js';
import { int, median, parseArgs } from './lib/stats.js';
import { measureBatches, type Run } from './lib/threads.js';

const opts = parseArgs(process.argv.slice(2));
const BASE = opts.get('baseline');
const ROUNDS = Number(opts.get('rounds') ?? 8);
const FLOWS = opts.get('flows') ?? 'procs';
const PROCS = Number(opts.get('procs') ?? 200);
const BATCH = 1000;
const BATCHES = 100;

/** What a chain of either checkout offers this script. */
interface Chain {
  process(flows: FlowRecord[]): Promise<{ items: Uint8Array[] }>;
  close(): Promise<void>;
}

/** A chain of redact-args (per process) and calico-json, built and loaded by the checkout at `root`. */
async function chainOf(root: string, build: typeof buildPlugin, create: (cfg: unknown, opts: unknown) => Promise<Chain>): Promise<Chain> {
  const [red, fmt] = await Promise.all([build(join(root, 'plugins/builtin/redact-args')), build(join(root, 'plugins/builtin/calico-json'))]);
  return create({ workers: 1, batchSize: BATCH, chain: [
    { name: 'redact-args', stage: 'redactor', path: red.wasm, sha256: red.sha256, perProcess: true },
    { name: 'calico-json', stage: 'formatter', path: fmt.wasm, sha256: fmt.sha256 },
  ] }, { log: createLogger('error') });
}

async function main(): Promise<void> {
  if (!BASE) throw new Error('--baseline DIR: another procflow checkout with dist/ built (see the header of bench/chain-ab.ts)');
  const base = resolve(BASE);
  const mod = (rel: string) => import(pathToFileURL(join(base, 'dist', rel)).href);
  const baseBuild = (await mod('host/plugins/build.js')).buildPlugin as typeof buildPlugin;
  const BaseChain = (await mod('host/plugins/chain.js')).PluginChain as { create: (cfg: unknown, opts: unknown) => Promise<Chain> };
  const chains: Record<'base' | 'this', Chain> = {
    base: await chainOf(base, baseBuild, (cfg, o) => BaseChain.create(cfg, o)),
    this: await chainOf(PROJECT_ROOT, buildPlugin, (cfg, o) => PluginChain.create(cfg as never, o as never)),
  };
  const lines = FLOWS === 'procs' ? processCommandLines(BATCH * BATCHES, PROCS) : corpusCommandLines(BATCH * BATCHES, 1);
  const batches = benchBatches(lines, BATCH);
  console.log(`chain A/B: ${BATCHES} batches × ${BATCH} flows (${FLOWS === 'procs' ? `${PROCS} long-lived processes` : 'redaction corpora, fresh secrets per flow'}), ${ROUNDS} rounds each, alternating; baseline ${base}; node ${process.version}`);
  const items = async (c: Chain) => (await Promise.all(batches.slice(0, 3).map((b) => c.process(b)))).flatMap((r) => r.items.map((x) => Buffer.from(x).toString('latin1')));
  const [a, b] = [await items(chains.base), await items(chains.this)];
  console.log(`items byte-identical: ${a.length === b.length && a.every((x, i) => x === b[i])}`);
  const runs: Record<'base' | 'this', Run[]> = { base: [], this: [] };
  for (let r = 0; r < ROUNDS; r++) for (const k of r % 2 ? (['base', 'this'] as const) : (['this', 'base'] as const)) runs[k].push(await measureBatches((b) => chains[k].process(b), batches));
  const med = (k: 'base' | 'this', f: (x: Run) => number) => median(runs[k].map(f));
  for (const k of ['base', 'this'] as const) {
    console.log(`${k.padEnd(5)} ${med(k, (x) => x.cpuUsPerFlow).toFixed(2)} CPU-µs/flow (${int(1e6 / med(k, (x) => x.cpuUsPerFlow))} flows per CPU-second), host thread ${med(k, (x) => x.mainUsPerFlow).toFixed(2)}, plugin worker ${med(k, (x) => x.workerUsPerFlow).toFixed(2)}; ${int(med(k, (x) => x.flowsPerSec))} flows/s wall (medians of ${ROUNDS})`);
  }
  console.log(`this/base: ${(med('base', (x) => x.cpuUsPerFlow) / med('this', (x) => x.cpuUsPerFlow)).toFixed(2)}× flows per CPU-second, ${(med('this', (x) => x.flowsPerSec) / med('base', (x) => x.flowsPerSec)).toFixed(2)}× wall clock`);
  await chains.base.close();
  await chains.this.close();
}

await main();

/**
 * Plugin soak: one plugin called many times on small batches through the
 * worker pool, as a long-running agent calls it. Prints the mean time per
 * call in each sixth of the run and the process RSS: they should stay flat.
 * (They did not before direct calls lowered their own host imports: jco's
 * trampolines kept a task per import call, and a 10-flow redact-args call
 * grew from 0.35 to 17 ms over 40k calls.) Nothing here asserts.
 *
 *   npm run build && node dist/bench/plugin-soak.js [--plugin builtin/redact-args] [--calls 30000] [--flows 10]
 */
import { join } from 'node:path';
import { createLogger } from '../host/log.js';
import { PROJECT_ROOT } from '../host/paths.js';
import { buildPlugin } from '../host/plugins/build.js';
import { PluginChain } from '../host/plugins/chain.js';
import { benchBatches, corpusCommandLines } from './lib/flows.js';
import { parseArgs } from './lib/stats.js';

const opts = parseArgs(process.argv.slice(2));
const PLUGIN = opts.get('plugin') ?? 'builtin/redact-args';
const CALLS = Number(opts.get('calls') ?? 30000);
const FLOWS = Number(opts.get('flows') ?? 10);

async function main(): Promise<void> {
  const built = await buildPlugin(join(PROJECT_ROOT, 'plugins', PLUGIN));
  // memoryMiB 256: what TypeScript plugins need (docs/plugins.md); harmless for AssemblyScript ones.
  const chain = await PluginChain.create(
    { workers: 1, batchSize: FLOWS, chain: [{ name: 'soak', stage: 'redactor', path: built.wasm, sha256: built.sha256, memoryMiB: 256, timeoutMs: 10_000 }] },
    { log: createLogger('error') },
  );
  const batch = benchBatches(corpusCommandLines(FLOWS), FLOWS)[0];
  console.log(`plugin soak: ${PLUGIN}, ${CALLS} calls of ${FLOWS} flows; node ${process.version}`);
  const part = Math.max(1, Math.floor(CALLS / 6));
  let t = performance.now();
  for (let i = 1; i <= CALLS; i++) {
    await chain.process(batch);
    if (i % part === 0) {
      const now = performance.now();
      console.log(`  calls ${String(i).padStart(7)}: ${(((now - t) * 1000) / part).toFixed(0).padStart(6)} µs/call, RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
      t = now;
    }
  }
  console.log(`  failures: ${JSON.stringify(chain.stats().soak.failures)}`);
  await chain.close();
}

void main();

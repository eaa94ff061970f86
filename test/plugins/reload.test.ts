/** Hot reload triggers: SIGHUP reloads the chain from the config reader; a failing version keeps the old one. */
import { afterEach, describe, expect, it } from 'vitest';
import { PluginChain } from '../../host/plugins/chain.js';
import type { PluginsConfig } from '../../host/plugins/config.js';
import { watchPluginReload } from '../../host/plugins/reload.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flows } from './helpers.js';

let stop: (() => void) | undefined;
let chain: PluginChain | undefined;
afterEach(async () => {
  stop?.();
  await chain?.close();
});

/** Resolves when `cond` holds, polling every 20 ms, or rejects after `ms`. */
async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('reload on SIGHUP', () => {
  it('swaps to the configuration read at signal time', async () => {
    const redact = await entry('builtin/redact-args');
    let cfg: PluginsConfig = { cacheDir: CACHE_DIR, chain: [redact] };
    chain = await PluginChain.create(cfg, { log: testLog });
    let reads = 0;
    stop = watchPluginReload({ reload: async () => { reads++; await chain!.reload(cfg); }, watchFiles: [], log: testLog, debounceMs: 10 });
    cfg = { cacheDir: CACHE_DIR, chain: [{ ...redact, sha256: '0'.repeat(64) }] }; // a broken version first
    process.kill(process.pid, 'SIGHUP');
    await until(async () => reads === 1);
    expect((await chain.process(flows(1))).flows[0].process_args[0][2]).toBe('--password=[REDACTED]');
    cfg = { cacheDir: CACHE_DIR, chain: [await entry('fixtures/loop')] };
    process.kill(process.pid, 'SIGHUP');
    await until(async () => (await chain!.process(flows(1))).flows[0].dest_service_name === 'looped-ok');
    expect(reads).toBe(2);
    expect((await chain.process(flows(1))).flows[0].process_args[0][2]).toBe('--password=hunter2');
  });
});

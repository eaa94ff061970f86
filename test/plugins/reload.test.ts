/** Hot reload triggers: SIGHUP reloads the chain from the config reader; a failing version keeps the old one. */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('reload on file change', () => {
  it('keeps triggering for a file replaced by rename, and watches the files a reload names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-reload-'));
    const other = mkdtempSync(join(tmpdir(), 'pf-reload-'));
    try {
      const plugin = join(dir, 'p.wasm');
      const added = join(other, 'q.wasm');
      writeFileSync(plugin, 'v1');
      writeFileSync(added, 'v1');
      let reads = 0;
      let next: string[] = [plugin];
      stop = watchPluginReload({ reload: async () => { reads++; return next; }, watchFiles: [plugin], log: testLog, debounceMs: 10 });
      // Replaced by rename, twice: a watch on the file's inode would go quiet after the first.
      for (const v of ['v2', 'v3']) {
        const before = reads;
        writeFileSync(`${plugin}.tmp`, v);
        renameSync(`${plugin}.tmp`, plugin);
        await until(async () => reads > before);
      }
      // A file named by the config only after a reload: the reload's list is watched from then on.
      next = [plugin, added];
      const before = reads;
      process.kill(process.pid, 'SIGHUP'); // this reload returns the new list
      await until(async () => reads === before + 1);
      writeFileSync(added, 'v3');
      await until(async () => reads === before + 2);
      // A list that drops the first directory: the added file still triggers.
      next = [added];
      writeFileSync(plugin, 'v4');
      await until(async () => reads === before + 3);
      writeFileSync(added, 'v4');
      await until(async () => reads === before + 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(other, { recursive: true, force: true });
    }
  });
});

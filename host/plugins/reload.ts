/**
 * Hot reload triggers: SIGHUP, or a change to a watched file (the plugin
 * files of the running chain, and the config file when given). The new
 * version is loaded beside the old one and swapped between batches; a version
 * that fails to load leaves the old one running (PluginChain.reload logs why).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';

/** What the reloader needs. */
export interface ReloadOptions {
  /** Reads the config again and reloads the plugins (PluginChain.reload, Agent.reloadPlugins); reports its own failures. */
  reload: () => Promise<unknown>;
  /** Files whose change triggers a reload (plugin .wasm files, the YAML). */
  watchFiles: string[];
  log: Logger;
  /** Quiet period before reloading after a change, ms (default 200). */
  debounceMs?: number;
}

/** Installs the triggers; returns a function that removes them. */
export function watchPluginReload(opts: ReloadOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const trigger = (why: string) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        opts.log.info({ why }, 'reloading plugins');
        try {
          await opts.reload();
        } catch (err) {
          opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'plugin reload failed before loading: the previous plugins keep running');
        }
      });
    }, opts.debounceMs ?? 200);
  };
  const onHup = () => trigger('SIGHUP');
  process.on('SIGHUP', onHup);
  const watchers: FSWatcher[] = [];
  for (const f of opts.watchFiles) {
    try {
      watchers.push(watch(f, () => trigger(`${f} changed`)));
    } catch (err) {
      opts.log.warn({ file: f }, `cannot watch ${f} for plugin reload: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return () => {
    process.off('SIGHUP', onHup);
    for (const w of watchers) w.close();
    if (timer) clearTimeout(timer);
  };
}

/**
 * Hot reload triggers: SIGHUP, or a change to a watched file (the plugin
 * files of the running chain, and the config file when given). The new
 * version is loaded beside the old one and swapped between batches; a version
 * that fails to load leaves the old one running (PluginChain.reload logs why).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';

/** What the reloader needs. */
export interface ReloadOptions {
  /**
   * Reads the config again and reloads the plugins (PluginChain.reload,
   * Agent.reloadPlugins); reports its own failures. May return the files to
   * watch from then on (a reload that points the config at new plugin files);
   * undefined keeps the current list.
   */
  reload: () => Promise<string[] | void | unknown>;
  /** Files whose change triggers a reload (plugin .wasm files, the YAML). */
  watchFiles: string[];
  log: Logger;
  /** Quiet period before reloading after a change, ms (default 200). */
  debounceMs?: number;
}

/**
 * Watches files through their directories, so a file replaced by rename (how
 * editors and `cp`-then-`mv` deployments save) keeps triggering: a watch on
 * the file itself follows the old inode and goes quiet after the first rename.
 */
class FileWatchSet {
  private readonly dirs = new Map<string, { watcher: FSWatcher; names: Set<string> }>();

  constructor(
    private readonly onChange: (file: string) => void,
    private readonly log: Logger,
  ) {}

  /** Watches exactly `files` (absolute or relative to the cwd) from now on. */
  set(files: string[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const abs = resolve(f);
      const dir = dirname(abs);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(basename(abs));
    }
    for (const [dir, w] of this.dirs) {
      if (wanted.has(dir)) continue;
      w.watcher.close();
      this.dirs.delete(dir);
    }
    for (const [dir, names] of wanted) {
      const have = this.dirs.get(dir);
      if (have) {
        have.names = names;
        continue;
      }
      try {
        const entry = { names, watcher: undefined as unknown as FSWatcher };
        entry.watcher = watch(dir, (_event, name) => {
          const file = name === null ? undefined : String(name);
          if (file === undefined || entry.names.has(file)) this.onChange(resolve(dir, file ?? '.'));
        });
        entry.watcher.on('error', (err) => this.log.warn({ dir }, `stopped watching ${dir} for plugin reload: ${err.message}`));
        this.dirs.set(dir, entry);
      } catch (err) {
        this.log.warn({ dir, files: [...names] }, `cannot watch ${dir} for plugin reload: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** The directories watched (for tests and logs). */
  watched(): string[] {
    return [...this.dirs.keys()];
  }

  close(): void {
    for (const w of this.dirs.values()) w.watcher.close();
    this.dirs.clear();
  }
}

/** Installs the triggers; returns a function that removes them. */
export function watchPluginReload(opts: ReloadOptions): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  const trigger = (why: string) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        opts.log.info({ why }, 'reloading plugins');
        try {
          const next = await opts.reload();
          if (!closed && Array.isArray(next)) files.set(next as string[]);
        } catch (err) {
          opts.log.error({ err: err instanceof Error ? err.message : String(err) }, 'plugin reload failed before loading: the previous plugins keep running');
        }
      });
    }, opts.debounceMs ?? 200);
  };
  const files = new FileWatchSet((f) => trigger(`${f} changed`), opts.log);
  files.set(opts.watchFiles);
  const onHup = () => trigger('SIGHUP');
  process.on('SIGHUP', onHup);
  return () => {
    closed = true;
    process.off('SIGHUP', onHup);
    files.close();
    if (timer) clearTimeout(timer);
  };
}

/**
 * `procflow run`: the agent. Loads the config (embedded defaults, overlaid by
 * --config FILE and the flags), runs until --duration ends or SIGINT/SIGTERM,
 * then emits the final partial interval and flushes every sink.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent } from '../agent/agent.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ERRORS, ProcflowError } from '../errors.js';
import type { PluginsConfig } from '../plugins/config.js';
import { watchPluginReload } from '../plugins/reload.js';
import { describeRedaction, prepareRedaction, withDefaultRedaction } from '../redact/setup.js';
import type { Logger } from '../log.js';
import type { HookMode } from '../sources/bpf/hooks.js';

/** Flags of `procflow run` (each overrides the config file). */
export interface RunOptions {
  configPath?: string;
  hooks?: HookMode;
  flushIntervalMs?: number;
  /** Adds a file sink writing to this path. */
  output?: string;
  argsCap?: number;
  /** Stop cleanly after this many ms; default: until a signal. */
  durationMs?: number;
}

/** The effective config: file (or embedded defaults) overlaid by the flags. */
export function effectiveConfig(opts: RunOptions): LoadedConfig {
  const config = loadConfig(opts.configPath);
  // With routes, redaction is added per route (host/routing/redaction.ts) so each route's own masking policy applies.
  config.plugins = config.routes ? (config.plugins ?? { chain: [] }) : withDefaultRedaction(config.plugins);
  // policy JSON and the hash-mode key (from its 0600 file) for every redact-args entry, routes' chains included
  config.plugins = prepareRedaction(config.plugins, config.dataDir);
  if (config.routes) {
    const prep = (chain: PluginsConfig['chain']) => prepareRedaction({ chain }, config.dataDir).chain;
    config.routes = {
      ...config.routes,
      tenants: config.routes.tenants.map((t) => ({ ...t, chain: prep(t.chain) })),
      ...(config.routes.default ? { default: { ...config.routes.default, chain: prep(config.routes.default.chain) } } : {}),
    };
  }
  if (opts.hooks) config.hooks = opts.hooks;
  if (opts.flushIntervalMs !== undefined) config.flushInterval = opts.flushIntervalMs;
  if (opts.argsCap !== undefined) config.argsCap = opts.argsCap;
  if (opts.output) {
    config.sinks = [...config.sinks, { type: 'file', path: opts.output, maxFileSizeMB: 100, maxFiles: 5 }];
    // With routes, --output receives the default route's records (the records no tenant route matched).
    const name = `file-${config.sinks.length - 1}`;
    if (config.routes) config.routes = { ...config.routes, default: { chain: config.routes.default?.chain ?? [], sinks: [...(config.routes.default?.sinks ?? []), name] } };
  }
  return config;
}

/** Runs the agent until stopped; resolves with the exit code. */
export async function runAgent(opts: RunOptions, log: Logger): Promise<number> {
  const config = effectiveConfig(opts);
  log.info(describeRedaction(config.plugins));
  const agent = await Agent.start(config, log); // checks privileges and kernel before anything is written
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    await agent.stop();
    throw new ProcflowError(ERRORS.SINK_OPEN, { path: config.dataDir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  for (const s of config.sinks) {
    if (s.type === 'file') log.info({ path: resolve(s.path) }, `flow logs go to ${resolve(s.path)}`);
    else if (s.type === 'stdout') log.info('flow logs go to stdout');
    else log.info({ sink: s.type }, `flow logs go to a ${s.type} sink (spooled under ${resolve(config.dataDir, 'spool')})`);
  }
  const unwatch = watchForReload(opts, config, log, (next) => agent.reloadPlugins(next));
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      clearTimeout(timer);
      unwatch();
      done();
    };
    const timer = opts.durationMs === undefined ? undefined : setTimeout(stop, opts.durationMs);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log.info('stopping: emitting the final interval and flushing sinks');
  await agent.stop();
  log.info({ intervals: agent.stats.intervals, records: agent.stats.records }, 'stopped');
  return 0;
}

/** Plugin files of a config (not built in): a change to one reloads the plugins. */
function pluginFiles(config: LoadedConfig): string[] {
  const entries = [...(config.plugins?.chain ?? []), ...(config.routes?.tenants.flatMap((t) => t.chain) ?? []), ...(config.routes?.default?.chain ?? [])];
  return [...new Set(entries.filter((e) => !e.path.startsWith('builtin:')).map((e) => resolve(e.path)))];
}

/** What a reload trigger watches: the config file and the plugin files it names. */
function watchList(opts: RunOptions, config: LoadedConfig): string[] {
  return [...(opts.configPath ? [resolve(opts.configPath)] : []), ...pluginFiles(config)];
}

/**
 * Hot reload: SIGHUP, or a change to the config file or a plugin file, reads
 * the config again and reloads every chain's plugins (Agent.reloadPlugins).
 * A config that no longer loads is reported and changes nothing.
 */
function watchForReload(opts: RunOptions, config: LoadedConfig, log: Logger, reload: (next: LoadedConfig) => Promise<unknown>): () => void {
  return watchPluginReload({
    log,
    watchFiles: watchList(opts, config),
    reload: async () => {
      let next: LoadedConfig;
      try {
        next = effectiveConfig(opts);
      } catch (err) {
        log.error({ code: (err as ProcflowError).code }, `plugin reload skipped, the config does not load (the previous plugins keep running): ${(err as Error).message}`);
        return;
      }
      await reload(next);
      return watchList(opts, next); // plugin files the new config names are watched from now on
    },
  });
}

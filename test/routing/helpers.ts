/** Routing tests: a validated config built into the real routing stage (real plugin chains, real sinks). */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../host/config/load.js';
import { resolveBuiltin } from '../../host/plugins/builtin.js';
import { PluginChain } from '../../host/plugins/chain.js';
import type { PluginEntry } from '../../host/plugins/config.js';
import { prepareRedaction } from '../../host/redact/setup.js';
import { buildRouting, type Routing, type RoutingConfig } from '../../host/routing/setup.js';
import { createSink } from '../../host/sinks/index.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR } from '../plugins/helpers.js';

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'procflow-routing-'));
}

/** Validates `raw` like a config file and prepares it as procflow run does (for buildRouting or Routing.reload). */
export function routingConfig(raw: Record<string, unknown>, dataDir: string): RoutingConfig {
  const config = validateConfig({ dataDir, ...raw });
  const plugins = prepareRedaction({ chain: [], ...config.plugins, cacheDir: CACHE_DIR }, dataDir);
  // As procflow run does: masking policies handed to redact-args as JSON, in every route's chain.
  const prep = (chain: PluginEntry[]) => prepareRedaction({ chain }, dataDir).chain;
  const routes = config.routes && {
    ...config.routes,
    tenants: config.routes.tenants.map((t) => ({ ...t, chain: prep(t.chain) })),
    default: config.routes.default && { ...config.routes.default, chain: prep(config.routes.default.chain) },
  };
  return { ...config, plugins, routes };
}

/** Validates `raw` like a config file and builds its routing stage as procflow run does; `dataDir` holds spools. */
export async function startRouting(raw: Record<string, unknown>, dataDir: string): Promise<Routing> {
  return buildRouting(routingConfig(raw, dataDir), {
    chain: (cfg) => PluginChain.create(cfg, { log: testLog, resolveBuiltin }),
    sink: (cfg, i) => createSink(cfg, i, { dataDir, log: testLog }),
  }, testLog);
}

/** Closes the sinks and chains of a routing stage. */
export async function stopRouting(r: Routing | undefined): Promise<void> {
  if (!r) return;
  await Promise.all(r.sinks.map((s) => s.close()));
  await Promise.all(r.chains.map((c) => c.close()));
}

/** The non-empty lines of a file ([] when it does not exist). */
export function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

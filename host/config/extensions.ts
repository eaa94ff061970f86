/**
 * Top-level keys owned by other modules: `plugins:` belongs to the plugin
 * host (host/plugins/config.ts); its validator runs here so plugin problems
 * are reported with every other problem of the file.
 */
import { isProcflowError } from '../errors.js';
import { validatePluginsConfig, type PluginsConfig } from '../plugins/config.js';
import { checkRoutesAgainst, routesChecker, type RoutesConfig } from '../routing/config.js';
import { INVALID, type Checker } from './fields.js';
import type { ConfigProblem } from './problems.js';
import type { SinkConfig } from './settings.js';

/** The plugin host's validator, reporting its problem with the file's others. */
const pluginsChecker: Checker<PluginsConfig> = (value, path, problems) => {
  try {
    return validatePluginsConfig(value, path.join('.') || 'plugins');
  } catch (err) {
    if (!isProcflowError(err)) throw err;
    problems.push({ path, message: err.message });
    return INVALID;
  }
};

/** Extra top-level keys and their checkers; their values are passed through on the loaded config. */
export const EXTENSIONS: Readonly<Record<string, Checker<unknown>>> = {
  plugins: pluginsChecker,
  routes: routesChecker as Checker<unknown>,
};

/** Checks that need several keys at once (routes against sinks and plugins); run after every key checked fine. */
export const CROSS_CHECKS: readonly ((config: ExtensionValues & { sinks: SinkConfig[] }, problems: ConfigProblem[]) => void)[] = [
  checkRoutesAgainst,
];

/** The loaded config: AgentConfig plus the extension keys that were given. */
export interface ExtensionValues {
  /** The plugin chain (docs/plugins.md): enrichers and redactors run on every interval's records before the sinks. */
  plugins?: PluginsConfig;
  /** Multi-tenant routing (host/routing/config.ts): per-route plugin chains and named sinks. */
  routes?: RoutesConfig;
}

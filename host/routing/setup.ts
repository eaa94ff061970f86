/**
 * Builds the routing stage of a config: the shared chain (`plugins.chain`,
 * run before routing when `routes:` is set), one chain per route (routes with
 * identical chains share one), the named sinks, and the Router.
 *
 * Without `routes:` there is one default route: `plugins.chain` is its chain
 * and every sink is its sink — what procflow did before routing existed,
 * byte for byte when the chain has no formatter.
 */
import type { SinkConfig } from '../config/settings.js';
import type { Logger } from '../log.js';
import type { PluginEntry, PluginsConfig } from '../plugins/config.js';
import type { Sink } from '../sinks/sink.js';
import { DEFAULT_ROUTE, sinkName, type RoutesConfig } from './config.js';
import { Matcher } from './match.js';
import { isRedactArgs } from '../redact/setup.js';
import { defaultRedactionOff, withDefaultRedaction } from './redaction.js';
import { Router, type Route, type RouteChain } from './router.js';

/** A chain the setup created (closed with the agent; reloaded in place on SIGHUP). */
export type OwnedChain = RouteChain & {
  close(): Promise<void>;
  stats?(): unknown;
  /** The chain's worker pool counters (PluginChain.poolStats). */
  poolStats?(): unknown;
  reload?(cfg: PluginsConfig): Promise<{ ok: true } | { ok: false; error: Error }>;
};

/** How the setup makes chains and sinks (the agent passes PluginChain.create and createSink). */
export interface RoutingFactories {
  chain(cfg: PluginsConfig): Promise<OwnedChain>;
  sink(cfg: SinkConfig, index: number): Sink;
}

/** What the routing stage needs from the config. */
export interface RoutingConfig {
  sinks: SinkConfig[];
  plugins?: PluginsConfig;
  routes?: RoutesConfig;
}

/** One route as built, for the agent's start-up log line. */
export interface RouteSummary {
  route: string;
  plugins: string[];
  sinks: string[];
}

/** The built stage. */
export interface Routing {
  /** Runs before routing (routes mode only). */
  shared: OwnedChain | undefined;
  router: Router;
  /** Every sink, once. */
  sinks: Sink[];
  /** Every chain created (shared included), once. */
  chains: OwnedChain[];
  summary: RouteSummary[];
  /** Plugin counters by route (`(before routing)` for the shared chain); routes sharing a chain show the same counters. */
  chainStats(): Record<string, unknown>;
  /** Worker pool counters by route, keyed as `chainStats` (workers spawned and terminated, instantiations, spares). */
  poolStats(): Record<string, unknown>;
  /**
   * Hot reload: loads each route's plugins from `next` beside the running
   * ones and swaps between batches (PluginChain.reload). Routes and sinks are
   * not rebuilt: a config whose routes or chain sharing changed is refused
   * (restart the agent for that). A plugin that fails to load leaves that
   * chain's previous plugins running; `errors` says why.
   */
  reload(next: RoutingConfig): Promise<{ reloaded: number; errors: string[] }>;
}

const SHARED_ROUTE = '(before routing)';

/** The plugin entries of every route (and of the shared chain, with routes), by route name, in build order. */
export function routeEntries(cfg: RoutingConfig): [string, PluginEntry[]][] {
  const r = cfg.routes;
  if (!r) return [[DEFAULT_ROUTE, cfg.plugins?.chain ?? []]];
  const sharedEntries = cfg.plugins?.chain ?? [];
  const sharedRedacts = sharedEntries.some(isRedactArgs);
  const off = defaultRedactionOff(cfg.plugins);
  const out: [string, PluginEntry[]][] = [[SHARED_ROUTE, sharedEntries]];
  for (const t of r.tenants) out.push([t.name, withDefaultRedaction(t.chain, sharedRedacts, off)]);
  if (r.default) out.push([DEFAULT_ROUTE, withDefaultRedaction(r.default.chain, sharedRedacts, off)]);
  return out;
}

async function reloadRoutes(cfg: RoutingConfig, next: RoutingConfig, chainOf: Map<string, OwnedChain | undefined>): Promise<{ reloaded: number; errors: string[] }> {
  const entries = new Map(routeEntries(next));
  const names = [...chainOf.keys()];
  if (entries.size !== names.length || names.some((n) => !entries.has(n))) {
    return { reloaded: 0, errors: [`the routes changed (${[...entries.keys()].join(', ')} instead of ${names.join(', ')}): plugins were not reloaded; restart procflow to rebuild routes`] };
  }
  const plan = new Map<OwnedChain, PluginEntry[]>();
  for (const [name, chain] of chainOf) {
    const e = entries.get(name)!;
    if (!chain) {
      if (e.length > 0) return { reloaded: 0, errors: [`route ${name} had no plugins and now has some: restart procflow to add a chain`] };
      continue;
    }
    const seen = plan.get(chain);
    if (seen && JSON.stringify(seen) !== JSON.stringify(e)) return { reloaded: 0, errors: [`routes sharing one chain now differ: restart procflow to split it`] };
    if (e.length === 0) return { reloaded: 0, errors: [`route ${name} has no plugins any more: restart procflow to remove its chain`] };
    plan.set(chain, e);
  }
  const errors: string[] = [];
  let reloaded = 0;
  for (const [chain, e] of plan) {
    if (!chain.reload) continue;
    const res = await chain.reload({ ...next.plugins, chain: e });
    if (res.ok) reloaded++;
    else errors.push(res.error.message);
  }
  cfg.plugins = next.plugins;
  return { reloaded, errors };
}

/** Builds the stage; on failure closes whatever it created and rethrows. */
export async function buildRouting(cfg: RoutingConfig, make: RoutingFactories, log: Logger): Promise<Routing> {
  const chains: OwnedChain[] = [];
  const sinks = new Map<string, Sink>();
  try {
    const sinkByName = (name: string): Sink => {
      let s = sinks.get(name);
      if (s) return s;
      const idx = cfg.sinks.findIndex((c, i) => sinkName(c, i) === name);
      if (idx < 0) throw new Error(`route refers to unknown sink ${name}`); // the validator reports this first
      s = make.sink(cfg.sinks[idx]!, idx);
      sinks.set(name, s);
      return s;
    };
    const byChain = new Map<string, Promise<OwnedChain>>();
    const chainFor = (entries: PluginEntry[]): Promise<OwnedChain> | undefined => {
      if (entries.length === 0) return undefined;
      const key = JSON.stringify(entries);
      let p = byChain.get(key);
      if (!p) {
        p = make.chain({ ...cfg.plugins, chain: entries }).then((c) => (chains.push(c), c));
        byChain.set(key, p);
      }
      return p;
    };
    const summary: RouteSummary[] = [];
    const byRoute: [string, OwnedChain][] = [];
    const chainOf = new Map<string, OwnedChain | undefined>();
    const done = (shared: OwnedChain | undefined, router: Router): Routing => ({
      shared, router, sinks: [...sinks.values()], chains, summary,
      chainStats: () => Object.fromEntries(byRoute.map(([n, c]) => [n, c.stats?.()])),
      poolStats: () => Object.fromEntries(byRoute.map(([n, c]) => [n, c.poolStats?.()])),
      reload: (next) => reloadRoutes(cfg, next, chainOf),
    });
    const route = async (name: string, entries: PluginEntry[], sinkNames: string[], match?: Route['match']): Promise<Route> => {
      summary.push({ route: name, plugins: entries.map((e) => `${e.stage}:${e.name}`), sinks: sinkNames });
      const chain = await chainFor(entries);
      chainOf.set(name, chain);
      if (chain) byRoute.push([name, chain]);
      // With routes the route's name is the tenant its plugins see (`tenants:` overrides, even in a shared chain).
      return { name, match, chain, tenant: cfg.routes ? name : undefined, sinks: sinkNames.map(sinkByName) };
    };

    // Route names are unique (the validator checks it; SHARED_ROUTE is no valid name).
    const entries = new Map(routeEntries(cfg));
    const r = cfg.routes;
    if (!r) {
      const all = cfg.sinks.map((c, i) => sinkName(c, i));
      const fallback = await route(DEFAULT_ROUTE, entries.get(DEFAULT_ROUTE)!, all);
      return done(undefined, new Router([], fallback, log));
    }
    const sharedEntries = entries.get(SHARED_ROUTE)!;
    const shared = await chainFor(sharedEntries);
    chainOf.set(SHARED_ROUTE, shared);
    if (shared) byRoute.push([SHARED_ROUTE, shared]);
    const tenants: Route[] = [];
    for (const t of r.tenants) tenants.push(await route(t.name, entries.get(t.name)!, t.sinks, { key: t.key, matcher: new Matcher(t.match) }));
    const fallback = r.default ? await route(DEFAULT_ROUTE, entries.get(DEFAULT_ROUTE)!, r.default.sinks) : undefined;
    if (sharedEntries.length > 0) summary.unshift({ route: SHARED_ROUTE, plugins: sharedEntries.map((e) => `${e.stage}:${e.name}`), sinks: [] });
    return done(shared, new Router(tenants, fallback, log));
  } catch (err) {
    await Promise.allSettled([...[...sinks.values()].map((s) => s.close()), ...chains.map((c) => c.close())]);
    throw err;
  }
}

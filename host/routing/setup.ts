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
import { DEFAULT_ROUTE, formatterOf, sinkName, type RoutesConfig } from './config.js';
import { Matcher } from './match.js';
import { isRedactArgs } from '../redact/setup.js';
import { defaultRedactionOff, withDefaultRedaction } from './redaction.js';
import { Router, type Route, type RouteChain } from './router.js';

/** A chain the setup created (closed with the agent). */
export type OwnedChain = RouteChain & { close(): Promise<void>; stats?(): unknown };

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
    const done = (shared: OwnedChain | undefined, router: Router): Routing => ({
      shared, router, sinks: [...sinks.values()], chains, summary,
      chainStats: () => Object.fromEntries(byRoute.map(([n, c]) => [n, c.stats?.()])),
    });
    const route = async (name: string, entries: PluginEntry[], sinkNames: string[], match?: Route['match']): Promise<Route> => {
      summary.push({ route: name, plugins: entries.map((e) => `${e.stage}:${e.name}`), sinks: sinkNames });
      const chain = await chainFor(entries);
      if (chain) byRoute.push([name, chain]);
      // With routes the route's name is the tenant its plugins see (`tenants:` overrides, even in a shared chain).
      return { name, match, chain, tenant: cfg.routes ? name : undefined, formatted: formatterOf(entries) !== undefined, sinks: sinkNames.map(sinkByName) };
    };

    const r = cfg.routes;
    if (!r) {
      const all = cfg.sinks.map((c, i) => sinkName(c, i));
      const fallback = await route(DEFAULT_ROUTE, cfg.plugins?.chain ?? [], all);
      return done(undefined, new Router([], fallback, log));
    }
    const sharedEntries = cfg.plugins?.chain ?? [];
    const shared = await chainFor(sharedEntries);
    if (shared) byRoute.push(['(before routing)', shared]);
    const sharedRedacts = sharedEntries.some(isRedactArgs);
    const off = defaultRedactionOff(cfg.plugins);
    const tenants: Route[] = [];
    for (const t of r.tenants) {
      tenants.push(await route(t.name, withDefaultRedaction(t.chain, sharedRedacts, off), t.sinks, { key: t.key, matcher: new Matcher(t.match) }));
    }
    const fallback = r.default ? await route(DEFAULT_ROUTE, withDefaultRedaction(r.default.chain, sharedRedacts, off), r.default.sinks) : undefined;
    if (sharedEntries.length > 0) summary.unshift({ route: '(before routing)', plugins: sharedEntries.map((e) => `${e.stage}:${e.name}`), sinks: [] });
    return done(shared, new Router(tenants, fallback, log));
  } catch (err) {
    await Promise.allSettled([...[...sinks.values()].map((s) => s.close()), ...chains.map((c) => c.close())]);
    throw err;
  }
}

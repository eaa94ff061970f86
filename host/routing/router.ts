/**
 * The router: the stage between the plugin chain and the sinks. Each
 * interval's records are matched against the tenant routes (a record may go
 * to several, each getting its own copy through its own chain); records no
 * route matched go to the default route, or are counted as unrouted. A route
 * runs its plugin chain (masking policy, formatter), then hands the result to
 * its sinks: formatted items to be framed (Sink.writeItems), or records for
 * the sink's own encoding when the route has no formatter.
 */
import { ERRORS, ProcflowError } from '../errors.js';
import type { FlowRecord } from '../flows/record.js';
import type { ChainResult } from '../plugins/chain.js';
import type { Logger } from '../log.js';
import { SinkFormatError, type Sink } from '../sinks/sink.js';
import { keyText } from './fields.js';
import type { Matcher } from './match.js';

/** What a route's chain returns: PluginChain.process's result. */
export type RouteChainResult = ChainResult;

/** A route's plugin chain: PluginChain, seen through the one call the router makes. */
export interface RouteChain {
  process(flows: FlowRecord[], tenant?: string): Promise<RouteChainResult>;
}

/** One route, ready to run. */
export interface Route {
  name: string;
  /** The tenant key and its match; absent for the default route. */
  match?: { key: string; matcher: Matcher };
  /** Its chain; absent when it has no plugins (records go to the sinks as they are). */
  chain?: RouteChain;
  /** The tenant its chain's plugins see (`tenants:` overrides): the route's name with routes, none without. */
  tenant?: string;
  sinks: Sink[];
}

/** Counters of one route. */
export interface RouteCounters {
  /** Records the route matched. */
  matched: number;
  /** Records handed to its sinks (after its chain). */
  shipped: number;
  /** Records its redactors' `drop` policy dropped. */
  dropped: number;
  /** Records a sink refused to carry (PROCFLOW_E_SINK_FORMAT), per write. */
  formatRefused: number;
  /** Failed sink writes. */
  sinkErrors: number;
  /** Failed chain runs (the route's records of that interval were not shipped). */
  chainErrors: number;
}

/** Everything the router counted. */
export interface RouterStats {
  routes: Record<string, RouteCounters>;
  /** Records no route matched while there is no default route. */
  unrouted: number;
}

/** Routes records to routes, runs their chains and writes their sinks. */
export class Router {
  private readonly counters = new Map<string, RouteCounters>();
  private unrouted = 0;

  constructor(
    private readonly tenants: readonly Route[],
    private readonly fallback: Route | undefined,
    private readonly log: Logger,
  ) {
    for (const r of [...tenants, ...(fallback ? [fallback] : [])]) {
      this.counters.set(r.name, { matched: 0, shipped: 0, dropped: 0, formatRefused: 0, sinkErrors: 0, chainErrors: 0 });
    }
  }

  /** Every sink of every route, once. */
  get sinks(): Sink[] {
    return [...new Set([...this.tenants, ...(this.fallback ? [this.fallback] : [])].flatMap((r) => r.sinks))];
  }

  /** Splits records by route: a record goes to every tenant route that matches it, else to the default route. */
  split(records: readonly FlowRecord[]): Map<Route, FlowRecord[]> {
    const out = new Map<Route, FlowRecord[]>();
    const add = (r: Route, rec: FlowRecord) => {
      const l = out.get(r);
      if (l) l.push(rec);
      else out.set(r, [rec]);
    };
    for (const rec of records) {
      let hit = false;
      for (const t of this.tenants) {
        const v = keyText(rec, t.match!.key);
        if (v !== undefined && t.match!.matcher.test(v)) {
          add(t, rec);
          hit = true;
        }
      }
      if (hit) continue;
      if (this.fallback) add(this.fallback, rec);
      else this.unrouted++;
    }
    return out;
  }

  /**
   * Routes one interval's records and writes every route's sinks. Chains run
   * concurrently; sink writes run one after another (a sink shared by routes
   * never sees two writes at once). Resolves with what each route shipped.
   */
  async route(records: readonly FlowRecord[]): Promise<Map<string, FlowRecord[]>> {
    const parts = [...this.split(records)];
    const results = await Promise.all(parts.map(([route, recs]) => this.runChain(route, recs)));
    const shipped = new Map<string, FlowRecord[]>();
    for (let i = 0; i < parts.length; i++) {
      const route = parts[i]![0];
      const res = results[i];
      if (!res) continue;
      shipped.set(route.name, res.flows);
      if (res.flows.length > 0) await this.write(route, res);
    }
    return shipped;
  }

  private async runChain(route: Route, recs: FlowRecord[]): Promise<RouteChainResult | undefined> {
    const c = this.counters.get(route.name)!;
    c.matched += recs.length;
    if (!route.chain) return { flows: recs, items: [], formatted: false, contentType: '', dropped: 0 };
    try {
      const res = await route.chain.process(recs, route.tenant);
      c.dropped += res.dropped;
      return res;
    } catch (err) {
      // Never ship records a chain did not finish with: they may be unredacted.
      c.chainErrors++;
      this.log.error({ route: route.name, records: recs.length, code: (err as ProcflowError).code, err: (err as Error).message }, 'route chain failed; its records of this interval were not shipped');
      return undefined;
    }
  }

  private async write(route: Route, res: RouteChainResult): Promise<void> {
    const c = this.counters.get(route.name)!;
    c.shipped += res.flows.length;
    // Per batch (a reload may add or remove the formatter). Items of mixed types (part of the batch
    // fell back to the built-in JSON) go in runs, each with its own content type.
    const runs: [FlowRecord[], Uint8Array[] | undefined, string][] = [];
    if (!res.formatted) runs.push([res.flows, undefined, '']);
    else if (!res.runs) runs.push([res.flows, res.items, res.contentType]);
    else {
      let at = 0;
      for (const [type, n] of res.runs) {
        runs.push([res.flows.slice(at, at + n), res.items.slice(at, at + n), type]);
        at += n;
      }
    }
    for (const sink of route.sinks) {
      for (const [flows, items, contentType] of runs) {
        try {
          if (items) await sink.writeItems(flows, items, contentType);
          else await sink.write(flows);
        } catch (err) {
          if (err instanceof SinkFormatError) {
            c.formatRefused += flows.length;
            const e = new ProcflowError(ERRORS.SINK_FORMAT, { sink: sink.name, contentType: err.contentType, route: route.name, reason: err.message, count: flows.length });
            this.log.error({ route: route.name, sink: sink.name, code: e.code, records: flows.length }, e.message);
          } else {
            c.sinkErrors++;
            this.log.error({ route: route.name, sink: sink.name, records: flows.length, err: (err as Error).message }, 'sink write failed');
          }
        }
      }
    }
  }

  /** Per-route counters and the unrouted count (the agent's stats line). */
  stats(): RouterStats {
    return { routes: Object.fromEntries([...this.counters].map(([k, v]) => [k, { ...v }])), unrouted: this.unrouted };
  }
}

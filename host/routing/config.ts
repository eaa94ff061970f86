/**
 * The `routes:` section (mounted by the config loader like `plugins:`):
 * multi-tenant routing. A tenant key (a record field, or one an enricher of
 * `plugins.chain` sets) picks, per record, the routes whose `match` hits its
 * value; each route has its own plugin chain (masking policy, formatter) and
 * its named sinks; `default` takes the records no route matched.
 *
 *   routes:
 *     key: source_namespace
 *     overlap: error            # or copy: a record matching several routes goes to each
 *     tenants:
 *       - name: team-a
 *         match: { values: [team-a], globs: ["team-a-*"] }
 *         chain: [ { name: json, stage: formatter, path: "builtin:json-lines" } ]
 *         sinks: [team-a-file]
 *       - name: internal
 *         key: dest_ip
 *         match: { cidrs: [10.0.0.0/8] }
 *         sinks: [siem]
 *     default:
 *       sinks: [flows]
 *
 * Checked here: the shape of every key (with field paths). Checked against
 * the rest of the file by checkRoutesAgainst: sink names, the key's field,
 * overlaps, reachability, formats per sink.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suggest } from '../config/aliases.js';
import { INVALID, isMapping, rejectUnknownKeys, type Checker } from '../config/fields.js';
import { describe, formatPath, type ConfigProblem, type FieldPath } from '../config/problems.js';
import type { SinkConfig } from '../config/settings.js';
import { isProcflowError } from '../errors.js';
import { isJsonContentType } from '../sinks/common/items.js';
import { builtinNames, builtinSourceDir } from '../plugins/builtin-names.js';
import { validatePluginsConfig, type PluginEntry, type PluginsConfig } from '../plugins/config.js';
import { ENUM_FIELDS, IP_FIELDS, NUMBER_FIELDS, RECORD_FIELDS } from './fields.js';
import { ipBits, Matcher, parseCidr, type RouteMatch } from './match.js';

/** What happens to a record that several tenant routes match. */
export type OverlapPolicy = 'error' | 'copy';

/** One tenant route. */
export interface TenantRoute {
  /** Name in logs and counters; also the tenant name its chain's plugins see (`tenants:` overrides). */
  name: string;
  /** The field matched (the route's own `key`, else `routes.key`). */
  key: string;
  /** Values, globs and CIDRs; any hit sends the record to this route. */
  match: RouteMatch;
  /** Enrichers, redactors and at most one formatter (last), as in `plugins.chain`. */
  chain: PluginEntry[];
  /** Names of the sinks (from `sinks:`) this route writes to. */
  sinks: string[];
}

/** The route of records no tenant route matched. */
export interface DefaultRoute {
  chain: PluginEntry[];
  sinks: string[];
}

/** The `routes:` section. */
export interface RoutesConfig {
  /** The tenant key of every route without its own `key`. */
  key: string | undefined;
  /** `error` (default): routes that can match the same record are refused; `copy`: such a record goes to each of them. */
  overlap: OverlapPolicy;
  /** The tenant routes, in order. */
  tenants: TenantRoute[];
  /** Where unmatched records go; without it they are counted (`unrouted`) and not shipped. */
  default: DefaultRoute | undefined;
}

/** The name the default route has in logs and counters (no tenant route may take it). */
export const DEFAULT_ROUTE = 'default';

const TOP_KEYS = ['key', 'overlap', 'tenants', 'default'];
const TENANT_KEYS = ['name', 'key', 'match', 'chain', 'sinks'];
const DEFAULT_KEYS = ['chain', 'sinks'];
const MATCH_KEYS = ['values', 'globs', 'cidrs'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function problem(problems: ConfigProblem[], path: FieldPath, message: string): typeof INVALID {
  problems.push({ path, message });
  return INVALID;
}

function keyField(v: unknown, path: FieldPath, problems: ConfigProblem[]): string | typeof INVALID {
  if (typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v)) return v;
  return problem(problems, path, `found ${describe(v)}; expected a record field name such as source_namespace, dest_ip or a field an enricher sets`);
}

function stringList(v: unknown, path: FieldPath, problems: ConfigProblem[], what: string, example: string): string[] | typeof INVALID {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number') || v.length === 0) {
    return problem(problems, path, `found ${Array.isArray(v) ? (v.length === 0 ? 'an empty list' : 'a list with non-text items') : describe(v)}; expected a list of ${what}, e.g. ${example}`);
  }
  return v.map(String);
}

function checkMatch(v: unknown, path: FieldPath, problems: ConfigProblem[]): RouteMatch | typeof INVALID {
  if (!isMapping(v)) return problem(problems, path, `found ${describe(v)}; expected a mapping such as {values: [team-a], globs: ["team-*"], cidrs: [10.0.0.0/8]}`);
  const before = problems.length;
  rejectUnknownKeys(v, MATCH_KEYS, path, problems);
  const out: RouteMatch = {};
  if (v.values !== undefined) {
    const l = stringList(v.values, [...path, 'values'], problems, 'exact values', '[team-a, "443"]');
    if (l !== INVALID) out.values = l;
  }
  if (v.globs !== undefined) {
    const l = stringList(v.globs, [...path, 'globs'], problems, 'globs (* any run, ? one character)', '["team-*"]');
    if (l !== INVALID) out.globs = l;
  }
  if (v.cidrs !== undefined) {
    const l = stringList(v.cidrs, [...path, 'cidrs'], problems, 'CIDRs', '[10.0.0.0/8, "fd00::/8"]');
    if (l !== INVALID) {
      l.forEach((c, i) => {
        if (!parseCidr(c)) problem(problems, [...path, 'cidrs', i], `found ${JSON.stringify(c)}; expected an IPv4 or IPv6 prefix such as 10.0.0.0/8 or fd00::/8`);
      });
      out.cidrs = l;
    }
  }
  if (problems.length === before && !out.values && !out.globs && !out.cidrs) {
    return problem(problems, path, 'matches nothing; give at least one of values, globs, cidrs');
  }
  return problems.length === before ? out : INVALID;
}

/** Validates a chain with the plugin host's validator (one problem naming the exact field). */
function checkChain(v: unknown, path: FieldPath, problems: ConfigProblem[]): PluginEntry[] | typeof INVALID {
  if (v === undefined || v === null) return [];
  try {
    return validatePluginsConfig({ chain: v }, formatPath(path.slice(0, -1))).chain;
  } catch (err) {
    if (!isProcflowError(err)) throw err;
    return problem(problems, path, err.message);
  }
}

function sinkNames(v: unknown, path: FieldPath, problems: ConfigProblem[]): string[] | typeof INVALID {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    return problem(problems, path, 'a route needs at least one sink: list sink names from sinks: (a sink\'s `name`, or TYPE-INDEX such as file-0)');
  }
  return stringList(v, path, problems, 'sink names', '[flows-file, siem]');
}

/** Checks the shape of `routes:` (cross-checks come later, in checkRoutesAgainst). */
export const routesChecker: Checker<RoutesConfig> = (v, path, problems) => {
  if (!isMapping(v)) return problem(problems, path, `found ${describe(v)}; expected a mapping with key, tenants and default (docs/config.md, routes)`);
  const before = problems.length;
  rejectUnknownKeys(v, TOP_KEYS, path, problems);
  const out: RoutesConfig = { key: undefined, overlap: 'error', tenants: [], default: undefined };
  if (v.key !== undefined) {
    const k = keyField(v.key, [...path, 'key'], problems);
    if (k !== INVALID) out.key = k;
  }
  if (v.overlap !== undefined) {
    if (v.overlap === 'error' || v.overlap === 'copy') out.overlap = v.overlap;
    else problem(problems, [...path, 'overlap'], `found ${describe(v.overlap)}; expected error (routes that can match the same record are refused) or copy (such a record goes to each)`);
  }
  const tenants = v.tenants ?? [];
  if (!Array.isArray(tenants)) problem(problems, [...path, 'tenants'], `found ${describe(tenants)}; expected a list of routes (- name: team-a …)`);
  else {
    const names = new Map<string, number>();
    tenants.forEach((t: unknown, i: number) => {
      const at = [...path, 'tenants', i];
      if (!isMapping(t)) return void problem(problems, at, `found ${describe(t)}; expected a mapping with name, match and sinks`);
      rejectUnknownKeys(t, TENANT_KEYS, at, problems);
      let name = '';
      if (typeof t.name !== 'string' || !NAME.test(t.name)) problem(problems, [...at, 'name'], `found ${describe(t.name)}; expected a name of 1 to 64 letters, digits, '.', '_' or '-'`);
      else if (t.name === DEFAULT_ROUTE) problem(problems, [...at, 'name'], `"${DEFAULT_ROUTE}" names the default route; give this tenant route another name, or move it to routes.default`);
      else if (names.has(t.name)) problem(problems, [...at, 'name'], `"${t.name}" is already the name of routes.tenants[${names.get(t.name)}]; give each route its own name`);
      else names.set((name = t.name), i);
      const key = t.key === undefined ? v.key === undefined ? undefined : out.key : keyField(t.key, [...at, 'key'], problems);
      if (key === undefined) problem(problems, [...at, 'key'], 'missing; set routes.key (the tenant key of every route) or this route\'s own key, e.g. key: source_namespace');
      const match = t.match === undefined ? problem(problems, [...at, 'match'], 'missing; a tenant route needs a match, e.g. match: {values: [team-a]} (records no route matches go to routes.default)') : checkMatch(t.match, [...at, 'match'], problems);
      const chain = checkChain(t.chain, [...at, 'chain'], problems);
      const sinks = sinkNames(t.sinks, [...at, 'sinks'], problems);
      if (key !== undefined && key !== INVALID && match !== INVALID && chain !== INVALID && sinks !== INVALID && name !== '') {
        out.tenants.push({ name, key, match, chain, sinks });
      }
    });
  }
  if (v.default !== undefined && v.default !== null) {
    const at = [...path, 'default'];
    if (!isMapping(v.default)) problem(problems, at, `found ${describe(v.default)}; expected a mapping with sinks (and optionally chain)`);
    else {
      rejectUnknownKeys(v.default, DEFAULT_KEYS, at, problems);
      const chain = checkChain(v.default.chain, [...at, 'chain'], problems);
      const sinks = sinkNames(v.default.sinks, [...at, 'sinks'], problems);
      if (chain !== INVALID && sinks !== INVALID) out.default = { chain, sinks };
    }
  }
  if (problems.length === before && out.tenants.length === 0 && !out.default) {
    return problem(problems, path, 'no route: give tenants, default, or both (or remove routes: to send every record to every sink)');
  }
  return problems.length === before ? out : INVALID;
};

/** A sink's name in routes: its `name`, else TYPE-INDEX (the same default that names its spool). */
export function sinkName(s: SinkConfig, index: number): string {
  const n = (s as { name?: string }).name;
  return n ?? `${s.type}-${index}`;
}

/** The formatter of a chain, or undefined (the sinks' own flows.log-based encoding). */
export function formatterOf(chain: readonly PluginEntry[]): PluginEntry | undefined {
  return chain.find((e) => e.stage === 'formatter');
}

/** A formatter's identity for "same format": path, pin and the config the route's tenant gets. */
function formatIdentity(f: PluginEntry | undefined, tenant: string): string {
  if (!f) return '(sink format)';
  const eff = { ...f.config, ...f.tenants?.[tenant] };
  return JSON.stringify([f.path, f.sha256 ?? '', Object.keys(eff).sort().map((k) => [k, eff[k]])]);
}

/** The MIME type a built-in formatter declares (plugins/builtin/NAME/plugin.json), when known before loading. */
export function builtinContentType(path: string): string | undefined {
  const dir = path.startsWith('builtin:') ? builtinSourceDir(path.slice(8)) : undefined;
  if (!dir) return undefined;
  try {
    const m = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8')) as { contentType?: string };
    return m.contentType ?? 'application/json';
  } catch {
    return undefined;
  }
}

/** The part of the loaded config the routes are checked against. */
export interface RoutedConfig {
  sinks: SinkConfig[];
  plugins?: PluginsConfig;
  routes?: RoutesConfig;
}

/**
 * Checks `routes` against the sinks and the shared plugin chain; pushes one
 * problem per finding (each naming its field path and the fix).
 */
export function checkRoutesAgainst(c: RoutedConfig, problems: ConfigProblem[]): void {
  const names = new Map<string, number>();
  c.sinks.forEach((s, i) => {
    const n = sinkName(s, i);
    const earlier = names.get(n);
    if (earlier !== undefined) problem(problems, ['sinks', i, 'name'], `"${n}" is already the name of sinks[${earlier}]; give each sink its own name (routes refer to sinks by name)`);
    else names.set(n, i);
  });
  const r = c.routes;
  const shared = c.plugins?.chain ?? [];
  if (!r) {
    // Without routes a formatter in plugins.chain formats for every sink.
    const f = formatterOf(shared);
    const type = f ? builtinContentType(f.path) : undefined;
    c.sinks.forEach((s, i) => {
      if (s.type === 'elasticsearch' && type !== undefined && !isJsonContentType(type)) {
        problem(problems, ['sinks', i], `an elasticsearch sink indexes JSON documents, but plugins.chain's formatter ${f!.name} writes ${type}; use a JSON formatter, or routes: to give this sink a route of its own`);
      }
    });
    return;
  }
  const sharedFormatter = shared.findIndex((e) => e.stage === 'formatter');
  if (sharedFormatter >= 0) {
    problem(problems, ['plugins', 'chain', sharedFormatter], 'a formatter in plugins.chain: with routes, plugins.chain runs before routing (enrichers, redactors for every route) and each route picks its format; move the formatter to the chain of the routes that want it');
  }
  const enriched = shared.some((e) => e.stage === 'enricher');
  const routes: { path: FieldPath; name: string; chain: PluginEntry[]; sinks: string[] }[] = [
    ...r.tenants.map((t, i) => ({ path: ['routes', 'tenants', i] as FieldPath, name: t.name, chain: t.chain, sinks: t.sinks })),
    ...(r.default ? [{ path: ['routes', 'default'] as FieldPath, name: DEFAULT_ROUTE, chain: r.default.chain, sinks: r.default.sinks }] : []),
  ];

  // Sinks: known, used, one format each.
  const used = new Map<string, { route: string; format: string; at: FieldPath }>();
  for (const route of routes) {
    for (const e of route.chain) checkBuiltin(e, route.path, route.chain.indexOf(e), problems);
    const f = formatterOf(route.chain);
    const format = formatIdentity(f, route.name);
    const type = f ? builtinContentType(f.path) : undefined;
    route.sinks.forEach((s, j) => {
      const at = [...route.path, 'sinks', j];
      const idx = names.get(s);
      if (idx === undefined) {
        const hint = suggest(s, [...names.keys()]);
        return void problem(problems, at, `unknown sink "${s}"${hint ? ` (${hint})` : ''}; sinks are named by their name: key or TYPE-INDEX, here: ${[...names.keys()].join(', ')}`);
      }
      const prev = used.get(s);
      if (prev && prev.format !== format) {
        problem(problems, at, `sink "${s}" already receives ${formatPath(prev.at)}'s format (route ${prev.route}); one sink writes one format (a file, an index or an endpoint readers parse one way): give this route its own sink, or the same formatter and config`);
      } else if (!prev) used.set(s, { route: route.name, format, at: [...route.path, 'chain'] });
      const sink = c.sinks[idx]!;
      if (sink.type === 'elasticsearch' && type !== undefined && !isJsonContentType(type)) {
        problem(problems, at, `sink "${s}" is an elasticsearch sink, which indexes JSON documents, but this route's formatter ${f!.name} writes ${type}; send it to a file, http or syslog sink, or use a JSON formatter`);
      }
    });
  }
  c.sinks.forEach((s, i) => {
    const n = sinkName(s, i);
    if (!used.has(n)) problem(problems, ['sinks', i], `sink "${n}" is used by no route; add it to a route's sinks (routes.default.sinks for unmatched records) or remove it`);
  });

  // Keys: a field the records have, or one an enricher of plugins.chain can set.
  const matchers = r.tenants.map((t) => new Matcher(t.match));
  r.tenants.forEach((t, i) => {
    const at: FieldPath = ['routes', 'tenants', i];
    const keyAt: FieldPath = t.key === r.key ? ['routes', 'key'] : [...at, 'key'];
    if (!RECORD_FIELDS.includes(t.key) && !enriched) {
      const hint = suggest(t.key, RECORD_FIELDS);
      problem(problems, keyAt, `"${t.key}" is not a flow record field${hint ? ` (${hint})` : ''}, and plugins.chain has no enricher that could set it, so route ${t.name} could never match; use a record field or add the enricher that sets it`);
    }
    neverHits(t, [...at, 'match'], problems);
  });

  // Overlaps between tenant routes, and a catch-all that starves the default route.
  for (let i = 0; i < r.tenants.length; i++) {
    const a = r.tenants[i]!;
    if (r.default && matchers[i]!.matchesEverything(IP_FIELDS.has(a.key))) {
      problem(problems, ['routes', 'default'], `unreachable: route ${a.name} (routes.tenants[${i}]) matches every value of ${a.key}, so no record is left for the default route; narrow that match or remove routes.default`);
    }
    if (r.overlap === 'copy') continue;
    for (let j = i + 1; j < r.tenants.length; j++) {
      const b = r.tenants[j]!;
      const why = a.key !== b.key ? `they match different keys (${a.key}, ${b.key}), so one record can hit both` : matchers[i]!.overlapWith(matchers[j]!);
      if (why) {
        problem(problems, ['routes', 'tenants', j, 'match'], `overlaps route ${a.name} (routes.tenants[${i}]): ${why}; make the matches disjoint, or set routes.overlap: copy to send such records to each route`);
      }
    }
  }
}

/** Refuses `builtin:NAME` entries naming no built-in plugin. */
function checkBuiltin(e: PluginEntry, routePath: FieldPath, i: number, problems: ConfigProblem[]): void {
  if (!e.path.startsWith('builtin:') || builtinSourceDir(e.path.slice(8))) return;
  const known = builtinNames();
  const hint = suggest(e.path.slice(8), known);
  problem(problems, [...routePath, 'chain', i, 'path'], `unknown plugin "${e.path}"${hint ? ` (${hint})` : ''}; built-in plugins: ${known.map((k) => `builtin:${k}`).join(', ')}`);
}

/** A match that can never hit its key's values: CIDRs on a non-IP field, non-numbers on a numeric one, words outside an enum. */
function neverHits(t: TenantRoute, at: FieldPath, problems: ConfigProblem[]): void {
  const k = t.key;
  if (t.match.cidrs && RECORD_FIELDS.includes(k) && !IP_FIELDS.has(k)) {
    problem(problems, [...at, 'cidrs'], `${k} never holds an IP address, so these CIDRs can never match; match ${[...IP_FIELDS].join(' or ')} with CIDRs, or use values/globs`);
  }
  (t.match.values ?? []).forEach((v, i) => {
    if (NUMBER_FIELDS.has(k) && !/^-?\d+(\.\d+)?$/.test(v)) problem(problems, [...at, 'values', i], `${k} holds numbers, so ${JSON.stringify(v)} can never match; write the number, e.g. "443"`);
    const allowed = ENUM_FIELDS[k];
    if (allowed && !allowed.includes(v)) problem(problems, [...at, 'values', i], `${k} is one of ${allowed.join(', ')}, so ${JSON.stringify(v)} can never match`);
    if (IP_FIELDS.has(k) && !ipBits(v)) problem(problems, [...at, 'values', i], `${k} holds IP addresses, so ${JSON.stringify(v)} can never match; write an address, or use cidrs`);
  });
}

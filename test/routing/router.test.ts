/**
 * The router on real sinks (file sinks in a temporary directory) and real
 * plugin chains: matching by field value, glob, CIDR and number; a record on
 * several routes; the default route; unrouted records counted; redaction on
 * every route by default, off only when the operator says so.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import type { Routing } from '../../host/routing/setup.js';
import { entry, flow } from '../plugins/helpers.js';
import { lines, routingConfig, startRouting, stopRouting, tempDir } from './helpers.js';

let routing: Routing | undefined;
afterEach(async () => {
  await stopRouting(routing);
  routing = undefined;
});

/** Records of several tenants and destinations; the tenant is in source_namespace, the id says which. */
function records(): FlowRecord[] {
  return [
    flow(1, { id: 'a-1', source_namespace: 'team-a', dest_ip: '10.1.2.3', dest_port: 5432 }),
    flow(2, { id: 'a-2', source_namespace: 'team-a-batch', dest_ip: '192.168.1.9', dest_port: 443 }),
    flow(3, { id: 'b-1', source_namespace: 'team-b', dest_ip: '10.200.0.1', dest_port: 443 }),
    flow(4, { id: 'c-1', source_namespace: 'other', dest_ip: '8.8.8.8', dest_port: 53 }),
    flow(5, { id: 'v6-1', source_namespace: 'other', dest_ip: 'fd00::17', dest_port: 53 }),
    flow(6, { id: 'none-1', source_namespace: '-', dest_ip: null, dest_port: null }),
  ];
}

/** The ids a file sink received: process_args carry no id, so the test puts it in bytes_in's twin, process_id. */
function idsIn(path: string): string[] {
  return lines(path).map((l) => (JSON.parse(l) as { process_id: string }).process_id).sort();
}

/** Stores each record's id in process_id so that the flows.log line (which has no id) says which record it is. */
function tagged(recs: FlowRecord[]): FlowRecord[] {
  return recs.map((r) => ({ ...r, process_id: r.id }));
}


describe('matching', () => {
  it('by exact value and glob on a field; the default route takes the rest', async () => {
    const dir = tempDir();
    routing = await startRouting({
      plugins: { defaultRedaction: false },
      sinks: [{ type: 'file', name: 'a', path: join(dir, 'a.log') }, { type: 'file', name: 'b', path: join(dir, 'b.log') }, { type: 'file', name: 'rest', path: join(dir, 'rest.log') }],
      routes: {
        key: 'source_namespace',
        tenants: [
          { name: 'team-a', match: { values: ['team-a'], globs: ['team-a-*'] }, sinks: ['a'] },
          { name: 'team-b', match: { values: ['team-b'] }, sinks: ['b'] },
        ],
        default: { sinks: ['rest'] },
      },
    }, dir);
    await routing.router.route(tagged(records()));
    expect(idsIn(join(dir, 'a.log'))).toEqual(['a-1', 'a-2']);
    expect(idsIn(join(dir, 'b.log'))).toEqual(['b-1']);
    expect(idsIn(join(dir, 'rest.log'))).toEqual(['c-1', 'none-1', 'v6-1']);
    expect(routing.router.stats()).toEqual({
      routes: {
        'team-a': expect.objectContaining({ matched: 2, shipped: 2 }),
        'team-b': expect.objectContaining({ matched: 1, shipped: 1 }),
        default: expect.objectContaining({ matched: 3, shipped: 3 }),
      },
      unrouted: 0,
    });
  });

  it('by CIDR (IPv4 and IPv6) and by number; a record matching two routes goes to both (overlap: copy); no default: unrouted counted', async () => {
    const dir = tempDir();
    routing = await startRouting({
      plugins: { defaultRedaction: false },
      sinks: [{ type: 'file', name: 'private', path: join(dir, 'private.log') }, { type: 'file', name: 'https', path: join(dir, 'https.log') }],
      routes: {
        overlap: 'copy',
        tenants: [
          { name: 'private', key: 'dest_ip', match: { cidrs: ['10.0.0.0/8', 'fd00::/8'] }, sinks: ['private'] },
          { name: 'https', key: 'dest_port', match: { values: ['443'] }, sinks: ['https'] },
        ],
      },
    }, dir);
    await routing.router.route(tagged(records()));
    expect(idsIn(join(dir, 'private.log'))).toEqual(['a-1', 'b-1', 'v6-1']);
    expect(idsIn(join(dir, 'https.log'))).toEqual(['a-2', 'b-1']);
    expect(routing.router.stats().unrouted).toBe(2); // c-1 (8.8.8.8:53) and none-1 (no address)
  });

  it('without routes: one default route, every sink, the records as the sinks encode them', async () => {
    const dir = tempDir();
    routing = await startRouting({ plugins: { chain: [] }, sinks: [{ type: 'file', path: join(dir, 'x.log') }, { type: 'file', path: join(dir, 'y.log') }] }, dir);
    expect(routing.shared).toBeUndefined();
    await routing.router.route(tagged(records()));
    expect(idsIn(join(dir, 'x.log'))).toHaveLength(6);
    expect(idsIn(join(dir, 'y.log'))).toHaveLength(6);
  });
});

describe('redaction on every route', () => {
  it('a route with no redactor gets builtin:redact-args; one with its own keeps only its own; identical chains are shared', async () => {
    const dir = tempDir();
    routing = await startRouting({
      sinks: [{ type: 'file', name: 'a', path: join(dir, 'a.log') }, { type: 'file', name: 'b', path: join(dir, 'b.log') }, { type: 'file', name: 'rest', path: join(dir, 'rest.log') }],
      routes: {
        key: 'source_namespace',
        tenants: [
          { name: 'team-a', match: { values: ['team-a'] }, sinks: ['a'] },
          { name: 'team-b', match: { values: ['team-b'] }, chain: [{ name: 'strict', stage: 'redactor', path: 'builtin:redact-args', config: { mode: 'drop-args' } }], sinks: ['b'] },
        ],
        default: { sinks: ['rest'] },
      },
    }, dir);
    expect(routing.summary).toEqual([
      { route: 'team-a', plugins: ['redactor:redact-args'], sinks: ['a'] },
      { route: 'team-b', plugins: ['redactor:strict'], sinks: ['b'] },
      { route: 'default', plugins: ['redactor:redact-args'], sinks: ['rest'] },
    ]);
    expect(routing.chains).toHaveLength(2); // team-a and default run the same chain
    await routing.router.route(records());
    const all = ['a.log', 'b.log', 'rest.log'].map((f) => lines(join(dir, f)).join('\n')).join('\n');
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('s3cret');
    expect(JSON.parse(lines(join(dir, 'a.log'))[0]!).process_args[0]).toBe('-h db.internal --password=[REDACTED] -U app');
    expect(JSON.parse(lines(join(dir, 'b.log'))[0]!).process_args).toEqual(['[REDACTED]', '[REDACTED]']); // drop-args: a list with a secret is replaced
  });

  it('an operator\'s own redactor runs after redact-args, not instead of it', async () => {
    const dir = tempDir();
    const own = await entry('fixtures/trap');
    routing = await startRouting({
      sinks: [{ type: 'file', name: 'a', path: join(dir, 'a.log') }],
      routes: { default: { chain: [own], sinks: ['a'] } },
    }, dir);
    expect(routing.summary).toEqual([{ route: 'default', plugins: ['redactor:redact-args', 'redactor:trap'], sinks: ['a'] }]);
  });

  it('a redactor in the shared plugins.chain covers every route; plugins.defaultRedaction: false turns the default off', async () => {
    const dir = tempDir();
    routing = await startRouting({
      plugins: { chain: [{ name: 'shared-redact', stage: 'redactor', path: 'builtin:redact-args' }] },
      sinks: [{ type: 'file', name: 'a', path: join(dir, 'a.log') }],
      routes: { default: { sinks: ['a'] } },
    }, dir);
    expect(routing.summary.map((s) => s.plugins)).toEqual([['redactor:shared-redact'], []]);
    await stopRouting(routing);
    routing = await startRouting({ plugins: { defaultRedaction: false }, sinks: [{ type: 'file', name: 'a', path: join(dir, 'b.log') }], routes: { default: { sinks: ['a'] } } }, dir);
    expect(routing.summary).toEqual([{ route: 'default', plugins: [], sinks: ['a'] }]);
    await routing.router.route(records());
    expect(lines(join(dir, 'b.log')).join('\n')).toContain('hunter2'); // the operator turned it off explicitly
  });
});

describe('route names are tenants', () => {
  it('two routes share one chain; its plugins\' `tenants:` overrides pick by route name', async () => {
    const dir = tempDir();
    const chain = [{ name: 'mask', stage: 'redactor', path: 'builtin:redact-args', tenants: { 'team-b': { replacement: '[B]' } } }];
    routing = await startRouting({
      sinks: [{ type: 'file', name: 'a', path: join(dir, 'a.log') }, { type: 'file', name: 'b', path: join(dir, 'b.log') }],
      routes: { key: 'source_namespace', tenants: [{ name: 'team-a', match: { values: ['team-a'] }, chain, sinks: ['a'] }, { name: 'team-b', match: { values: ['team-b'] }, chain, sinks: ['b'] }] },
    }, dir);
    expect(routing.chains).toHaveLength(1);
    await routing.router.route(records());
    expect(JSON.parse(lines(join(dir, 'a.log'))[0]!).process_args[0]).toBe('-h db.internal --password=[REDACTED] -U app');
    expect(JSON.parse(lines(join(dir, 'b.log'))[0]!).process_args[0]).toBe('-h db.internal --password=[B] -U app');
  });
});

describe('formatter items reach the sinks', () => {
  it('a route with a formatter: the file sink writes its items, one per line; a route without one: the sink\'s own format', async () => {
    const dir = tempDir();
    routing = await startRouting({
      plugins: { defaultRedaction: false },
      sinks: [{ type: 'file', name: 'cef', path: join(dir, 'cef.log') }, { type: 'file', name: 'json', path: join(dir, 'json.log') }],
      routes: {
        key: 'source_namespace',
        tenants: [{ name: 'siem', match: { values: ['team-a'] }, chain: [{ name: 'cef', stage: 'formatter', path: 'builtin:cef' }], sinks: ['cef'] }],
        default: { sinks: ['json'] },
      },
    }, dir);
    await routing.router.route(records());
    const cef = lines(join(dir, 'cef.log'));
    expect(cef).toHaveLength(1);
    expect(cef[0]).toMatch(/^CEF:0\|/);
    expect(cef[0]).toContain('a-1');
    expect(lines(join(dir, 'json.log')).map((l) => JSON.parse(l).source_namespace)).toEqual(['team-a-batch', 'team-b', 'other', 'other', '-']);
  });
});

describe('formatter added or removed by a reload', () => {
  it('takes effect from the next batch: items framed while a formatter runs, records encoded by the sink otherwise', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.log');
    const raw = (chain: unknown[]) => ({
      sinks: [{ type: 'file', name: 'out', path: out }],
      routes: { key: 'source_namespace', tenants: [{ name: 't', match: { globs: ['*'] }, chain, sinks: ['out'] }] },
    });
    routing = await startRouting(raw([]), dir);
    await routing.router.route([flow(1, { id: 'r1' })]);
    const reload = async (chain: unknown[]) => expect(await routing!.reload(routingConfig(raw(chain), dir))).toEqual({ reloaded: 1, errors: [] });
    await reload([{ name: 'cef', stage: 'formatter', path: 'builtin:cef' }]);
    await routing.router.route([flow(2, { id: 'r2' })]);
    await reload([]);
    await routing.router.route([flow(3, { id: 'r3' })]);
    const got = lines(out);
    expect(got).toHaveLength(3);
    expect(JSON.parse(got[0]).process_args[0]).toContain('[REDACTED]'); // the file sink's own JSON
    expect(got[1]).toMatch(/^CEF:0\|/); // the formatter's item
    expect(got[1]).toContain('[REDACTED]');
    expect(JSON.parse(got[2]).process_args[0]).toContain('[REDACTED]');
  });
});

describe('a formatter failing on part of a batch', () => {
  it('the part it formatted keeps its content type, the fallback part is framed as JSON', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.log');
    const hog = await entry('fixtures/memory-hog', { memoryMiB: 16 });
    routing = await startRouting({
      plugins: { defaultRedaction: false, batchSize: 2 },
      // An Elasticsearch sink takes JSON items only (nothing listens there: accepted items wait in its spool).
      sinks: [{ type: 'file', name: 'out', path: out }, { type: 'elasticsearch', name: 'es', url: 'http://127.0.0.1:9', spool: { fsync: false } }],
      routes: { key: 'source_namespace', tenants: [{ name: 't', match: { globs: ['*'] }, chain: [hog], sinks: ['out', 'es'] }] },
    }, dir);
    // Batch parts of 2: the first is formatted (text/plain: the id), the second hits the memory cap.
    await routing.router.route([flow(1, { id: 'p1' }), flow(2, { id: 'p2' }), flow(3, { id: 'p3', host: 'hog' }), flow(4, { id: 'p4' })]);
    const got = lines(out);
    expect(got.slice(0, 2)).toEqual(['p1', 'p2']);
    expect(got.slice(2).map((l) => (JSON.parse(l) as { host: string }).host)).toEqual(['hog', 'node-1']);
    // Elasticsearch refused the two text/plain items and took the two JSON ones (labelled by the last part, all four went in before).
    expect(routing.router.stats().routes.t).toMatchObject({ shipped: 4, formatRefused: 2, sinkErrors: 0 });
  });
});

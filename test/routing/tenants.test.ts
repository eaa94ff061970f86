/**
 * Two tenants with different masking policies and formats to different
 * sinks: team-a's records are masked by redact-args' default policy and
 * written as calico-json to a file; team-b's by a stricter policy (an extra
 * secret flag, its own replacement) and sent as ECS documents to an http
 * sink (msgpack bodies, through its disk spool) on a loopback server; the
 * rest go to the default route. Each destination sees only its tenant's
 * records, in its format, masked by its policy.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import type { Routing } from '../../host/routing/setup.js';
import { waitFor } from '../helpers/flow-records.js';
import { flow } from '../plugins/helpers.js';
import { startCollector, type Collector } from '../servers/collector.js';
import { lines, startRouting, stopRouting, tempDir } from './helpers.js';

let routing: Routing | undefined;
let collector: Collector | undefined;
afterEach(async () => {
  await stopRouting(routing);
  await collector?.close();
  routing = collector = undefined;
});

const ARGS = [['--password=hunter2', '--customer', 'acme-corp', '--region', 'eu-1']];

function tenantRecords(): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let i = 0; i < 5; i++) out.push(flow(i, { id: `a-${i}`, source_namespace: 'team-a', process_args: ARGS }));
  for (let i = 0; i < 7; i++) out.push(flow(10 + i, { id: `b-${i}`, source_namespace: 'team-b', process_args: ARGS }));
  for (let i = 0; i < 3; i++) out.push(flow(20 + i, { id: `c-${i}`, source_namespace: 'kube-system', process_args: ARGS }));
  return out;
}

describe('two tenants', () => {
  it('each sees only its records, in its format, masked by its policy', async () => {
    collector = await startCollector();
    const dir = tempDir();
    routing = await startRouting({
      sinks: [
        { type: 'file', name: 'team-a-file', path: join(dir, 'team-a.log') },
        { type: 'http', name: 'team-b-http', url: collector.url, format: 'msgpack', retryInitial: '10ms', spool: { fsync: false } },
        { type: 'file', name: 'rest', path: join(dir, 'rest.log') },
      ],
      routes: {
        key: 'source_namespace',
        tenants: [
          {
            name: 'team-a', match: { values: ['team-a'] }, sinks: ['team-a-file'],
            chain: [{ name: 'mask', stage: 'redactor', path: 'builtin:redact-args' }, { name: 'json', stage: 'formatter', path: 'builtin:calico-json' }],
          },
          {
            name: 'team-b', match: { globs: ['team-b*'] }, sinks: ['team-b-http'],
            chain: [
              { name: 'mask', stage: 'redactor', path: 'builtin:redact-args', config: { replacement: '[MASKED-B]' }, policy: { flags: ['--customer'] } },
              { name: 'ecs', stage: 'formatter', path: 'builtin:ecs' },
            ],
          },
        ],
        default: { sinks: ['rest'] },
      },
    }, dir);
    expect(routing.summary).toEqual([
      { route: 'team-a', plugins: ['redactor:mask', 'formatter:json'], sinks: ['team-a-file'] },
      { route: 'team-b', plugins: ['redactor:mask', 'formatter:ecs'], sinks: ['team-b-http'] },
      { route: 'default', plugins: ['redactor:redact-args'], sinks: ['rest'] }, // redaction on by default here too
    ]);

    await routing.router.route(tenantRecords());

    // team-a: flows.log JSON lines in its file, default policy (the password masked, the customer kept).
    const a = lines(join(dir, 'team-a.log')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toHaveLength(5);
    for (const r of a) {
      expect(r).toMatchObject({ source_namespace: 'team-a', process_args: ['--password=[REDACTED] --customer acme-corp --region eu-1'] });
      expect(r.ecs).toBeUndefined();
    }

    // team-b: ECS documents at its http endpoint (decoded from the msgpack body), stricter policy.
    await waitFor(() => collector!.records.length >= 7, 'team-b records at the collector');
    const b = collector.records as { ecs?: { version: string }; event: { id: string }; procflow: { source_namespace: string }; process: { args: string[] } }[];
    expect(b).toHaveLength(7);
    expect(b.map((r) => r.event.id).sort()).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6']);
    for (const r of b) {
      expect(r.ecs?.version).toMatch(/^\d+\.\d+/);
      expect(r.procflow.source_namespace).toBe('team-b');
      expect(r.process.args).toContain('--password=[MASKED-B]');
      expect(r.process.args).toContain('eu-1');
      expect(JSON.stringify(r)).not.toContain('acme-corp');
    }
    expect(collector.requests.every((q) => q.headers['content-type'] === 'application/msgpack')).toBe(true);

    // The rest: the default route's file, masked by the default redactor.
    const rest = lines(join(dir, 'rest.log')).map((l) => JSON.parse(l) as { source_namespace: string; process_args: string[] });
    expect(rest.map((r) => r.source_namespace)).toEqual(['kube-system', 'kube-system', 'kube-system']);
    expect(rest[0]!.process_args).toEqual(['--password=[REDACTED] --customer acme-corp --region eu-1']);

    // No secret anywhere, and the counters say where everything went.
    const everything = [lines(join(dir, 'team-a.log')), lines(join(dir, 'rest.log')), JSON.stringify(collector.records)].join('\n');
    expect(everything).not.toContain('hunter2');
    expect(routing.router.stats()).toEqual({
      routes: {
        'team-a': { matched: 5, shipped: 5, dropped: 0, formatRefused: 0, sinkErrors: 0, chainErrors: 0 },
        'team-b': { matched: 7, shipped: 7, dropped: 0, formatRefused: 0, sinkErrors: 0, chainErrors: 0 },
        default: { matched: 3, shipped: 3, dropped: 0, formatRefused: 0, sinkErrors: 0, chainErrors: 0 },
      },
      unrouted: 0,
    });
  });
});

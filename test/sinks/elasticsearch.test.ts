/** The elasticsearch sink against the stand-in: per-item results, dead letter, retries, _id and index names, auth, TLS with a custom CA. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../host/config/load.js';
import { renderFlowLog } from '../../host/flows/record.js';
import { indexName } from '../../host/sinks/elasticsearch/encoder.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecord, flowRecords, waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { makePki, type TestPki } from '../helpers/tls.js';
import { startEsServer, type EsTestServer } from '../servers/elasticsearch.js';

const es = (raw: Record<string, unknown>) => validateConfig({ sinks: [{ type: 'elasticsearch', retryInitial: '10ms', retryMax: '50ms', ...raw }] }).sinks[0]!;
const dataDir = () => mkdtempSync(join(tmpdir(), 'procflow-es-'));

let srv: EsTestServer;
let pki: TestPki;
beforeAll(async () => {
  srv = await startEsServer();
  pki = makePki();
});
afterAll(() => srv.close());

describe('elasticsearch sink', () => {
  it('indexes each record under its id in the index of its end_time date, with the flows.log document', async () => {
    const dir = dataDir();
    const sink = createSink(es({ url: srv.url }), 0, { dataDir: dir, log: testLog });
    const r = flowRecord(1, 'idx', { end_time: 1_795_737_599 }); // 2026-11-26T23:59:59Z
    await sink.write([r]);
    await sink.close();
    const doc = srv.docs.get(`procflow-flows-2026.11.26/${r.id}`);
    expect(doc?.source).toEqual(JSON.parse(JSON.stringify(renderFlowLog(r))));
    expect(indexName('flows-%Y.%m.%d', 1_795_737_600)).toBe('flows-2026.11.27');
  });

  it('a resend overwrites by _id instead of duplicating', async () => {
    const sink = createSink(es({ url: srv.url }), 0, { dataDir: dataDir(), log: testLog });
    const recs = flowRecords(5, 'dup');
    await sink.write(recs);
    await sink.write(recs);
    await sink.close();
    const docs = [...srv.docs.values()].filter((d) => d.id.startsWith('dup-'));
    expect(docs.map((d) => [d.id, d.version])).toEqual(recs.map((r) => [r.id, 2]));
  });

  it('reads per-item results: mapping errors go to the dead-letter file (0600) and are counted, 429 items are retried, the rest are not resent', async () => {
    await fetch(`${srv.url}/_index_template/procflow`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ index_patterns: ['mapped-*'], template: { mappings: { properties: { dest_port: { type: 'long' }, process_id: { type: 'keyword' } } } } }),
    });
    const dir = dataDir();
    const sink = createSink(es({ url: srv.url, index: 'mapped-%Y', name: 'm' }), 0, { dataDir: dir, log: testLog });
    const recs = flowRecords(10, 'map');
    const bad = [2, 7];
    for (const i of bad) (recs[i] as unknown as { dest_port: unknown }).dest_port = 'https';
    srv.itemRejectionsLeft = 3; // the first three items answered 429 once
    const before = srv.itemsReceived;
    await sink.write(recs);
    await sink.close();
    expect(sink.metrics()).toMatchObject({ received: 10, sent: 8, deadLettered: 2, queued: 0 });
    expect(srv.itemsReceived - before).toBe(13); // 10 + the 3 rejected with 429 resent; nothing else resent
    const dl = join(dir, 'dead-letter', 'm.ndjson');
    expect(statSync(dl).mode & 0o777).toBe(0o600);
    const lines = readFileSync(dl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; reason: string; item: string });
    expect(lines.map((l) => l.id).sort()).toEqual(bad.map((i) => recs[i]!.id).sort());
    const first = lines.find((l) => l.id === 'map-2')!;
    expect(first.reason).toMatch(/^400 document_parsing_exception: .*dest_port.*long/);
    expect(first.item).toContain('"_id":"map-2"');
    for (const [i, r] of recs.entries()) expect(srv.ids().has(r.id), r.id).toBe(!bad.includes(i));
  });

  it('retries a whole-request 429 and 503 with backoff', async () => {
    const sink = createSink(es({ url: srv.url }), 0, { dataDir: dataDir(), log: testLog });
    srv.failNext = [429, 503, 502];
    const recs = flowRecords(20, 'busy');
    await sink.write(recs);
    await sink.close();
    expect(sink.metrics()).toMatchObject({ sent: 20, errors: 3, retries: 3 });
    for (const r of recs) expect(srv.ids().has(r.id)).toBe(true);
  });

  it('authenticates with an API key or basic auth; refused credentials keep the records queued', async () => {
    const secured = await startEsServer({ auth: { apiKey: 'a2V5OnNlY3JldA==' } });
    try {
      const ok = createSink(es({ url: secured.url, apiKey: 'a2V5OnNlY3JldA==' }), 0, { dataDir: dataDir(), log: testLog });
      await ok.write(flowRecords(3, 'key'));
      expect(await ok.close()).toEqual({ remaining: 0, flushed: true });
      expect(secured.ids().size).toBe(3);

      const dir = dataDir();
      const wrong = createSink(es({ url: secured.url, username: 'elastic', password: 'changeme', flushTimeout: '200ms', name: 'b' }), 0, { dataDir: dir, log: testLog });
      await wrong.write(flowRecords(4, 'basic'));
      await waitFor(() => wrong.metrics().errors >= 2, 'refused requests');
      expect(await wrong.close()).toEqual({ remaining: 4, flushed: false });
      secured.auth = { username: 'elastic', password: 'changeme' };
      const again = createSink(es({ url: secured.url, username: 'elastic', password: 'changeme', name: 'b' }), 0, { dataDir: dir, log: testLog });
      await waitFor(() => secured.ids().size === 7, 'the queued records once the credentials are right');
      await again.close();
    } finally {
      await secured.close();
    }
  });

  it('shutdown does not wait for a destination that never answers: the batch in flight stays in the spool', async () => {
    const { createServer } = await import('node:http');
    const hung = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (hung.address() as { port: number }).port;
      const sink = createSink(es({ url: `http://127.0.0.1:${port}`, timeout: '1h', flushTimeout: '200ms' }), 0, { dataDir: dataDir(), log: testLog });
      await sink.write(flowRecords(3, 'hung'));
      expect(await sink.close()).toEqual({ remaining: 3, flushed: false }); // resolves (a 1h request timeout would outlast the test's)
    } finally {
      hung.closeAllConnections();
      hung.close();
    }
  });

  it('speaks TLS to a server whose certificate is signed by a custom CA (tls.ca), and refuses it without that CA', async () => {
    const secure = await startEsServer({ tls: { key: pki.key, cert: pki.cert } });
    try {
      const sink = createSink(es({ url: secure.url, tls: { ca: pki.caPath } }), 0, { dataDir: dataDir(), log: testLog });
      await sink.write(flowRecords(5, 'tls'));
      expect(await sink.close()).toEqual({ remaining: 0, flushed: true });
      expect(secure.ids().size).toBe(5);

      const untrusted = createSink(es({ url: secure.url, flushTimeout: '200ms' }), 0, { dataDir: dataDir(), log: testLog });
      await untrusted.write(flowRecords(2, 'untrusted'));
      await waitFor(() => untrusted.metrics().errors >= 1, 'a refused certificate');
      expect((await untrusted.close()).remaining).toBe(2);
    } finally {
      await secure.close();
    }
  });
});

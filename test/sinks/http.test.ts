/** The http sink against a collector: NDJSON and msgpack, gzip, headers and bearer token, 5xx/429 retried, 4xx dead-lettered. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../host/config/load.js';
import { renderFlowLog } from '../../host/flows/record.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecords } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { startCollector, type Collector } from '../servers/collector.js';

const http = (raw: Record<string, unknown>) => validateConfig({ sinks: [{ type: 'http', retryInitial: '10ms', retryMax: '50ms', ...raw }] }).sinks[0]!;
const dataDir = () => mkdtempSync(join(tmpdir(), 'procflow-http-'));

let col: Collector;
beforeAll(async () => {
  col = await startCollector('t0ken');
});
afterAll(() => col.close());

describe('http sink', () => {
  for (const format of ['ndjson', 'msgpack'] as const) {
    for (const gzip of [false, true]) {
      it(`POSTs ${format}${gzip ? ' gzipped' : ''} batches with the configured headers and bearer token`, async () => {
        const before = col.requests.length;
        const sink = createSink(http({ url: col.url, format, gzip, bearerToken: 't0ken', headers: { 'X-Tenant': 'ops' }, batchMaxRecords: 4 }), 0, { dataDir: dataDir(), log: testLog });
        const recs = flowRecords(10, `${format}${gzip}`);
        await sink.write(recs);
        expect(await sink.close()).toEqual({ remaining: 0, flushed: true });
        const reqs = col.requests.slice(before);
        expect(reqs.map((r) => r.count)).toEqual([4, 4, 2]);
        expect(reqs[0]!.headers['x-tenant']).toBe('ops');
        expect(reqs[0]!.headers['content-encoding']).toBe(gzip ? 'gzip' : undefined);
        const got = col.records.filter((r) => String(r.id).startsWith(`${format}${gzip}-`));
        expect(got).toEqual(recs.map((r) => JSON.parse(JSON.stringify({ ...renderFlowLog(r), id: r.id }))));
      });
    }
  }

  it('retries 5xx and 429; a 400 sends the batch to the dead-letter file without resending', async () => {
    const dir = dataDir();
    const sink = createSink(http({ url: col.url, bearerToken: 't0ken', name: 'h' }), 0, { dataDir: dir, log: testLog });
    col.failNext = [503, 429];
    await sink.write(flowRecords(3, 'retry'));
    await sink.close();
    expect(sink.metrics()).toMatchObject({ sent: 3, retries: 2 });
    const again = createSink(http({ url: col.url, bearerToken: 't0ken', name: 'h' }), 0, { dataDir: dir, log: testLog });
    col.failNext = [400];
    await again.write(flowRecords(2, 'refused'));
    await again.close();
    expect(again.metrics()).toMatchObject({ sent: 0, deadLettered: 2, queued: 0 });
    expect(readFileSync(join(dir, 'dead-letter', 'h.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['refused-0', 'refused-1']);
  });
});

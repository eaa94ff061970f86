/**
 * Formatter items reaching the sinks: each sink frames a pre-encoded item
 * (SinkService.frame) instead of encoding the record — file/stdout a line,
 * elasticsearch an index action with `_id` and the item as document (JSON
 * only), fluent-forward `[time, map]`, http an NDJSON line or a msgpack map,
 * syslog the item as MSG. A type a sink cannot carry is refused, counted and
 * logged by the router, and the route's other sinks still get the records.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../host/config/load.js';
import type { ElasticsearchSinkConfig, SinkConfig, SyslogSinkConfig } from '../../host/config/settings.js';
import { Matcher } from '../../host/routing/match.js';
import { Router } from '../../host/routing/router.js';
import { ElasticsearchService } from '../../host/sinks/elasticsearch/service.js';
import { FileService } from '../../host/sinks/file/service.js';
import { encodeItemEntry } from '../../host/sinks/fluent-forward/encoder.js';
import { frameItem } from '../../host/sinks/http/encoder.js';
import { createSink } from '../../host/sinks/index.js';
import { SinkFormatError, type Sink } from '../../host/sinks/sink.js';
import { SyslogEncoder } from '../../host/sinks/syslog/encoder.js';
import { flowRecord, waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { startEsServer, type EsTestServer } from '../servers/elasticsearch.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const sinkConfig = (raw: Record<string, unknown>): SinkConfig => validateConfig({ sinks: [raw] }).sinks[0]!;
const item = (s: string) => new Uint8Array(Buffer.from(s));
const rec = flowRecord(7, 'frame');
const JSON_DOC = '{"@timestamp":"2026-11-26T00:00:00Z","msg":"é \\"q\\""}';
const CEF = 'CEF:0|procflow|procflow|0.1.0|flow|Network flow with process|1|src=10.0.0.5 externalId=frame-7';

let es: EsTestServer | undefined;
const sinks: Sink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await es?.close();
  es = undefined;
});

describe('frame, per sink', () => {
  it('file: the item and a newline', async () => {
    const f = new FileService(sinkConfig({ type: 'file', path: join(mkdtempSync(join(tmpdir(), 'procflow-frame-')), 'x.log') }) as never);
    expect(f.frame(item(CEF)).toString()).toBe(`${CEF}\n`);
    await f.close();
  });

  it('elasticsearch: index action with the record id as _id, the JSON item as document; other types refused', async () => {
    const s = new ElasticsearchService(sinkConfig({ type: 'elasticsearch', url: 'http://127.0.0.1:9', index: 'flows-%Y' }) as ElasticsearchSinkConfig);
    const out = s.frame(item(JSON_DOC), rec, 'application/json').toString();
    const year = new Date(rec.end_time * 1000).getUTCFullYear();
    expect(out).toBe(`{"index":{"_index":"flows-${year}","_id":"frame-7"}}\n${JSON_DOC}\n`);
    expect(s.frame(item(JSON_DOC), rec, 'application/vnd.ocsf+json; charset=utf-8').toString()).toContain(JSON_DOC);
    expect(() => s.frame(item(CEF), rec, 'text/plain')).toThrow(SinkFormatError);
    await s.close();
  });

  it('fluent-forward: [end_time, map] from a JSON object item; anything else carried as {message}', () => {
    expect(unpackr.unpack(encodeItemEntry(rec, item(JSON_DOC), 'application/json'))).toEqual([rec.end_time, JSON.parse(JSON_DOC)]);
    expect(unpackr.unpack(encodeItemEntry(rec, item(CEF), 'text/plain'))).toEqual([rec.end_time, { message: CEF }]);
    expect(unpackr.unpack(encodeItemEntry(rec, item('[1,2]'), 'application/json'))).toEqual([rec.end_time, { message: '[1,2]' }]);
    expect(unpackr.unpack(encodeItemEntry(rec, item('{broken'), 'application/json'))).toEqual([rec.end_time, { message: '{broken' }]);
  });

  it('http: an NDJSON line, or a msgpack map decoded from a JSON item', () => {
    expect(frameItem('ndjson', item(JSON_DOC), 'application/json').toString()).toBe(`${JSON_DOC}\n`);
    expect(unpackr.unpack(frameItem('msgpack', item(JSON_DOC), 'application/json'))).toEqual(JSON.parse(JSON_DOC));
    expect(unpackr.unpack(frameItem('msgpack', item(CEF), 'text/plain'))).toEqual({ message: CEF });
  });

  it('syslog: the item is the MSG, with the header and the record id of every message; octet counting on tcp', () => {
    const c = sinkConfig({ type: 'syslog', host: '127.0.0.1', transport: 'tcp', hostname: 'node-1' }) as SyslogSinkConfig;
    const framed = new SyslogEncoder(c).encodeItem(rec, item(CEF)).toString();
    const [len, ...rest] = framed.split(' ');
    const msg = rest.join(' ');
    expect(Number(len)).toBe(Buffer.byteLength(msg));
    expect(msg).toMatch(/^<134>1 \S+ node-1 procflow \d+ flow \[procflow@32473 id="frame-7"\] \uFEFFCEF:0\|/);
    expect(msg.endsWith(CEF)).toBe(true);
  });
});

describe('a type the sink cannot carry', () => {
  it('is refused by that sink (counted, logged), while the route\'s other sink and the JSON route still deliver', async () => {
    es = await startEsServer();
    const dir = mkdtempSync(join(tmpdir(), 'procflow-frame-'));
    const esSink = createSink(sinkConfig({ type: 'elasticsearch', url: es.url, retryInitial: '10ms', spool: { fsync: false } }), 0, { dataDir: dir, log: testLog });
    const file = createSink(sinkConfig({ type: 'file', path: join(dir, 'cef.log') }), 1, { dataDir: dir, log: testLog });
    sinks.push(esSink, file);
    const recs = [flowRecord(1, 'x', { source_namespace: 'cef' }), flowRecord(2, 'x', { source_namespace: 'json' })];
    // Chains stand in for formatter plugins whose type is only known once they run (an external component).
    const fmt = (ct: string, body: (id: string) => string) => ({
      process: async (flows: typeof recs) => ({ flows, items: flows.map((f) => item(body(f.id))), formatted: true, contentType: ct, dropped: 0 }),
    });
    const router = new Router([
      { name: 'cef', match: { key: 'source_namespace', matcher: new Matcher({ values: ['cef'] }) }, chain: fmt('text/plain', (id) => `CEF:0|x|${id}`), sinks: [esSink, file] },
      { name: 'json', match: { key: 'source_namespace', matcher: new Matcher({ values: ['json'] }) }, chain: fmt('application/json', (id) => `{"doc":"${id}"}`), sinks: [esSink] },
    ], undefined, testLog);
    await router.route(recs);
    expect(readFileSync(join(dir, 'cef.log'), 'utf8')).toBe('CEF:0|x|x-1\n');
    await waitFor(() => es!.docs.size === 1, 'the JSON route\'s document in elasticsearch');
    expect([...es.docs.values()].map((d) => [d.id, d.source])).toEqual([['x-2', { doc: 'x-2' }]]);
    expect(router.stats().routes.cef).toMatchObject({ matched: 1, shipped: 1, formatRefused: 1, sinkErrors: 0 });
    expect(esSink.metrics().received).toBe(1);
  });
});

/** The fluent-forward sink against the fluentd stand-in: modes, ack timeouts, shared key and user auth, TLS. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../host/config/load.js';
import { renderFlowLog } from '../../host/flows/record.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecords, waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { makePki, type TestPki } from '../helpers/tls.js';
import { startFluentd, type FluentdOptions } from '../servers/fluentd.js';

const ff = (raw: Record<string, unknown>) => validateConfig({ sinks: [{ type: 'fluent-forward', host: '127.0.0.1', retryInitial: '10ms', retryMax: '50ms', ...raw }] }).sinks[0]!;
const dataDir = () => mkdtempSync(join(tmpdir(), 'procflow-ff-'));

async function roundTrip(server: FluentdOptions, sinkCfg: Record<string, unknown>, n = 20) {
  const fd = await startFluentd(server);
  try {
    const sink = createSink(ff({ port: fd.port, ...sinkCfg }), 0, { dataDir: dataDir(), log: testLog });
    const recs = flowRecords(n, `ff${fd.port}`);
    await sink.write(recs);
    const report = await sink.close();
    return { fd, recs, report, metrics: sink.metrics() };
  } finally {
    await fd.close();
  }
}

let pki: TestPki;
beforeAll(() => {
  pki = makePki();
});

describe('fluent-forward sink', () => {
  it('sends PackedForward chunks with acks: tag, time = end_time, the flows.log record plus its id', async () => {
    const { fd, recs, report } = await roundTrip({}, { tag: 'flows.test' });
    expect(report).toEqual({ remaining: 0, flushed: true });
    expect(fd.events.map((e) => [e.tag, e.mode, e.time])).toEqual(recs.map((r) => ['flows.test', 'PackedForward', r.end_time]));
    expect(fd.events[0]!.record).toEqual({ ...JSON.parse(JSON.stringify(renderFlowLog(recs[0]!))), id: recs[0]!.id });
  });

  it('sends CompressedPackedForward with compress: gzip', async () => {
    const { fd, recs } = await roundTrip({}, { compress: 'gzip' });
    expect(fd.events.map((e) => e.mode)).toEqual(recs.map(() => 'CompressedPackedForward'));
  });

  it('passes the shared-key handshake with user authentication', async () => {
    const { fd, report } = await roundTrip({ sharedKey: 's3cret', users: { procflow: 'pw' } }, { sharedKey: 's3cret', username: 'procflow', password: 'pw' });
    expect(report.remaining).toBe(0);
    expect(fd.events).toHaveLength(20);
  });

  it('with the wrong shared key: the handshake is refused, records stay queued, nothing is stored', async () => {
    const { fd, report, metrics } = await roundTrip({ sharedKey: 'right' }, { sharedKey: 'wrong', flushTimeout: '300ms' }, 5);
    expect(fd.refusals).toContain('shared_key mismatch');
    expect(fd.events).toHaveLength(0);
    expect(report).toEqual({ remaining: 5, flushed: false });
    expect(metrics.errors).toBeGreaterThan(0);
  });

  it('resends a chunk whose ack did not come within ackTimeout (at-least-once)', async () => {
    const fd = await startFluentd({});
    try {
      fd.dropNextChunks = 1;
      const sink = createSink(ff({ port: fd.port, ackTimeout: '200ms' }), 0, { dataDir: dataDir(), log: testLog });
      const recs = flowRecords(10, 'ack');
      await sink.write(recs);
      await waitFor(() => fd.events.length === 10, 'the resent chunk');
      await sink.close();
      expect(fd.chunks).toBe(2);
      expect(sink.metrics()).toMatchObject({ sent: 10, errors: 1, retries: 1 });
    } finally {
      await fd.close();
    }
  });

  it('connects over TLS with a custom CA', async () => {
    const { fd, report } = await roundTrip({ tls: { key: pki.key, cert: pki.cert }, sharedKey: 'k' }, { tls: { ca: pki.caPath }, sharedKey: 'k' });
    expect(report.remaining).toBe(0);
    expect(fd.events).toHaveLength(20);
  });
});

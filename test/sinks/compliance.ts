/**
 * The sink compliance harness (after Vector's components test util): every
 * sink runs the same checks against its destination over real sockets —
 * batching, retry, backpressure, metrics and the shutdown flush — and the
 * counters it must keep (received, sent, retries, errors, queued) are
 * asserted by rule, so no sink can drop a record without counting it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkConfig } from '../../host/config/settings.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecords, waitFor } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';

/** A destination started for the harness. */
export interface Destination {
  /** The sink's config pointing at this destination, with the harness's settings merged in. */
  config(common: Record<string, unknown>): SinkConfig;
  /** Ids received so far (resends collapse). */
  received(): Set<string>;
  /** Requests (batches, chunks) received so far, with the records each held; undefined when the protocol has no batches (syslog). */
  batchSizes: (() => number[]) | undefined;
  /** Makes the next `n` requests fail in a retryable way (n = Infinity: until failNext(0)). */
  failNext(n: number): void | Promise<void>;
  close(): Promise<void>;
}

/** A sink under test: how to start its destination, and what it supports. */
export interface SinkCase {
  name: string;
  start(): Promise<Destination>;
  /** Network sinks: spool, retry, backpressure. */
  spooled: boolean;
}

/** Ids of `recs` the destination has not received. */
function missing(recs: readonly { id: string }[], dest: Destination): string[] {
  const got = dest.received();
  return recs.filter((r) => !got.has(r.id)).map((r) => r.id);
}
const allIn = (recs: readonly { id: string }[], dest: Destination) => missing(recs, dest).length === 0;

const COMMON = { batchMaxRecords: 10, retryInitial: '10ms', retryMax: '50ms', flushTimeout: '10s', timeout: '2s' };

/** Registers the compliance suite of one sink. */
export function complianceSuite(c: SinkCase): void {
  describe(`sink compliance: ${c.name}`, () => {
    let dest: Destination;
    let n = 0;
    const dataDir = () => mkdtempSync(join(tmpdir(), 'procflow-sink-'));
    const prefix = () => `${c.name}-${n++}`;
    beforeAll(async () => {
      dest = await c.start();
    });
    afterAll(() => dest.close());

    it('batching: sends every record, in batches no larger than batchMaxRecords; metrics count them', async () => {
      const sink = createSink(dest.config(COMMON), 0, { dataDir: dataDir(), log: testLog });
      const before = dest.batchSizes?.().length ?? 0;
      const recs = flowRecords(25, prefix());
      await sink.write(recs);
      const closed = await sink.close();
      expect(closed).toEqual({ remaining: 0, flushed: true });
      await waitFor(() => allIn(recs, dest), 'every record at the destination'); // syslog servers write asynchronously
      expect(missing(recs, dest)).toEqual([]);
      const sizes = dest.batchSizes?.().slice(before);
      if (c.spooled && sizes) {
        expect(sizes.length).toBeGreaterThanOrEqual(3);
        for (const s of sizes) expect(s).toBeLessThanOrEqual(10);
      }
      expect(sink.metrics()).toMatchObject({ received: 25, sent: 25, errors: 0, deadLettered: 0, dropped: 0, queued: 0 });
    });

    it('shutdown flush: close() delivers what was written and says nothing remained', async () => {
      const sink = createSink(dest.config(COMMON), 0, { dataDir: dataDir(), log: testLog });
      const recs = flowRecords(200, prefix());
      await sink.write(recs);
      expect(await sink.close()).toEqual({ remaining: 0, flushed: true });
      await waitFor(() => allIn(recs, dest), 'every record at the destination');
      expect(missing(recs, dest)).toEqual([]);
    });

    if (!c.spooled) return;

    it('retry: failed requests are retried with backoff until they succeed, counted as errors and retries', async () => {
      const sink = createSink(dest.config(COMMON), 0, { dataDir: dataDir(), log: testLog });
      await dest.failNext(3);
      const recs = flowRecords(15, prefix());
      await sink.write(recs);
      await waitFor(() => allIn(recs, dest), 'every record after the failures');
      await sink.close();
      const m = sink.metrics();
      expect(m.errors).toBeGreaterThanOrEqual(3);
      expect(m.retries).toBeGreaterThanOrEqual(3);
      expect(m).toMatchObject({ received: 15, sent: 15, queued: 0, dropped: 0 });
    });

    it('backpressure: with the destination down, write() waits once the spool is full, and resumes when it is back', async () => {
      const cfg = dest.config({ ...COMMON, batchMaxRecords: 200, spool: { maxSizeMB: 1 } });
      const sink = createSink(cfg, 0, { dataDir: dataDir(), log: testLog });
      await dest.failNext(Infinity);
      const recs = flowRecords(3000, prefix()); // ~2.5 MB of items: more than the 1 MB spool
      let done = false;
      const writing = sink.write(recs).then(() => (done = true));
      await waitFor(() => sink.metrics().queuedBytes > 512 * 1024 && sink.metrics().errors >= 2, 'a full spool and failing sends');
      expect(done).toBe(false);
      expect(sink.metrics().queuedBytes).toBeLessThanOrEqual(1024 * 1024);
      await dest.failNext(0);
      await writing;
      await waitFor(() => allIn(recs, dest), 'every record once the destination is back', 30_000);
      await sink.close();
      expect(sink.metrics()).toMatchObject({ received: 3000, sent: 3000, dropped: 0, queued: 0 });
    });

    it('shutdown with the destination down: close() gives up at flushTimeout, says what remained, and the next start sends it', async () => {
      const dir = dataDir();
      const cfg = dest.config({ ...COMMON, flushTimeout: '300ms', name: 'restart' });
      const sink = createSink(cfg, 0, { dataDir: dir, log: testLog });
      await dest.failNext(Infinity);
      const recs = flowRecords(40, prefix());
      await sink.write(recs);
      const report = await sink.close();
      expect(report.flushed).toBe(false);
      expect(report.remaining).toBeGreaterThan(0);
      await dest.failNext(0);
      const again = createSink(cfg, 0, { dataDir: dir, log: testLog });
      await waitFor(() => allIn(recs, dest), 'the records left in the spool, after restart');
      expect(await again.close()).toEqual({ remaining: 0, flushed: true });
      expect(again.metrics().sent).toBe(report.remaining);
    });
  });
}

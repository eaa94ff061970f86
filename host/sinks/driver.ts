/**
 * The sink driver: what every sink runs between the pipeline and its service.
 *
 * Without a spool (file, stdout) write() encodes and delivers at once. With a
 * spool (every network sink) write() resolves once the records are on disk;
 * a delivery loop reads batches from the spool, sends them, retries failures
 * with exponential backoff and jitter, sends refused items to the dead-letter
 * file, and confirms each batch to the spool only after that. close() flushes
 * within the flush timeout and says what remained (it stays in the spool).
 */
import { ERRORS, ProcflowError } from '../errors.js';
import type { FlowRecord } from '../flows/record.js';
import type { Logger } from '../log.js';
import type { DiskSpool, ItemWriter, SpoolBatch } from '../spool/spool.js';
import { backoffDelay, sleep } from './backoff.js';
import type { DeadLetterFile } from './dead-letter.js';
import { SinkSendError, type CloseReport, type Sink, type SinkItem, type SinkMetrics, type SinkService } from './sink.js';

/** How a driver batches, retries and flushes. */
export interface DriverOptions {
  /** Records per request at most. */
  batchMaxItems: number;
  /** Bytes per request at most (a single larger record is sent alone). */
  batchMaxBytes: number;
  /** First retry delay; doubled on every failure up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** How long close() waits for the destination to confirm what is queued. */
  flushTimeoutMs: number;
  /** The disk spool (network sinks); without it write() delivers directly. */
  spool?: DiskSpool;
  /** Where refused records go. */
  deadLetter?: DeadLetterFile;
  log: Logger;
}

/** At shutdown, how long an in-flight request and the service's close may take after flushTimeout. */
const STOP_GRACE_MS = 1000;

/** Logs the same failure at most this often while an outage lasts. */
const LOG_EVERY_MS = 10_000;

/** Runs one sink service (see the module comment). */
export class SinkDriver implements Sink {
  readonly name: string;
  private readonly m: SinkMetrics = { received: 0, sent: 0, retries: 0, errors: 0, deadLettered: 0, dropped: 0, queued: 0, queuedBytes: 0 };
  private readonly stopSignal = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<CloseReport> | undefined;
  private lastLog = 0;
  private failing = false;
  private reportedDropped = 0;

  /** The service's encodeInto, bound (spooled sinks whose service has one). */
  private readonly encodeInto: ItemWriter<FlowRecord> | undefined;

  constructor(private readonly service: SinkService, private readonly opts: DriverOptions) {
    this.name = service.name;
    this.encodeInto = service.encodeInto?.bind(service);
    const spool = opts.spool;
    if (spool) {
      spool.onAppend = () => this.kick();
      if (spool.recovery.items > 0 || spool.recovery.tornBytes > 0) {
        opts.log.info({ sink: this.name, queued: spool.recovery.items, tornBytes: spool.recovery.tornBytes }, 'spool: resending records queued by a previous run');
      }
      this.loop = this.run(spool);
    }
  }

  async write(records: readonly FlowRecord[]): Promise<void> {
    if (this.closing) throw new ProcflowError(ERRORS.SPOOL_CLOSED, { dir: this.name });
    if (records.length === 0) return;
    const spool = this.opts.spool;
    if (spool && this.encodeInto) {
      // Encoded straight into the spool's frame: no item objects, no Buffer per record.
      this.m.received += records.length;
      await spool.appendEncoded(records, this.encodeInto);
      this.reportDrops();
      return;
    }
    this.m.received += records.length;
    await this.accept(records.map((r): SinkItem => ({ id: r.id, data: this.service.encode(r) })));
  }

  async writeItems(records: readonly FlowRecord[], items: readonly Uint8Array[], contentType: string): Promise<void> {
    if (this.closing) throw new ProcflowError(ERRORS.SPOOL_CLOSED, { dir: this.name });
    if (records.length === 0) return;
    // Framed before counting: a type the destination cannot carry refuses the whole batch, received stays exact.
    const framed = records.map((r, i): SinkItem => ({ id: r.id, data: this.service.frame(items[i]!, r, contentType) }));
    this.m.received += records.length;
    await this.accept(framed);
  }

  /** Spools the encoded items (network sinks) or delivers them at once. */
  private async accept(items: SinkItem[]): Promise<void> {
    if (this.opts.spool) {
      await this.opts.spool.append(items);
      this.reportDrops();
      return;
    }
    for (const batch of batches(items, this.opts.batchMaxItems, this.opts.batchMaxBytes)) {
      try {
        const rep = await this.service.send(batch);
        this.settle(batch.length, rep.rejected);
        if (rep.retry.length > 0) throw new SinkSendError(`${rep.retry.length} records not accepted`, true);
      } catch (err) {
        this.m.errors++;
        throw err;
      }
    }
  }

  metrics(): SinkMetrics {
    const spool = this.opts.spool;
    if (spool) {
      this.m.queued = spool.pendingItems;
      this.m.queuedBytes = spool.diskBytes;
      this.m.dropped = spool.droppedItems;
    }
    return { ...this.m };
  }

  /** Resolves when the spool has nothing left to send (tests, bench). */
  drained(): Promise<void> {
    if (!this.opts.spool || this.opts.spool.pendingItems === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  close(): Promise<CloseReport> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<CloseReport> {
    const spool = this.opts.spool;
    let flushed = true;
    if (spool && this.loop) {
      const deadline = new Promise<boolean>((r) => {
        const t = setTimeout(() => r(false), this.opts.flushTimeoutMs);
        void this.drained().then(() => {
          clearTimeout(t);
          r(true);
        });
      });
      flushed = await deadline;
      this.stopSignal.abort();
      this.kick();
      // A request still in flight (a destination that hangs) is not waited for beyond a short grace:
      // its batch is unconfirmed and stays in the spool.
      await Promise.race([this.loop, sleep(STOP_GRACE_MS)]);
    }
    const remaining = spool ? spool.pendingItems : 0;
    if (!flushed || remaining > 0) {
      const err = new ProcflowError(ERRORS.SINK_FLUSH_TIMEOUT, {
        sink: this.name, remaining, timeoutMs: this.opts.flushTimeoutMs,
        where: 'They stay in the spool and are sent at the next start; raise flushTimeout to wait longer at shutdown.',
      });
      this.opts.log.warn({ sink: this.name, code: err.code, remaining }, err.message);
    }
    spool?.close();
    this.opts.deadLetter?.close();
    await Promise.race([this.service.close(), sleep(STOP_GRACE_MS)]);
    return { remaining, flushed: flushed && remaining === 0 };
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async run(spool: DiskSpool): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      let batch: SpoolBatch | undefined;
      try {
        batch = spool.read(this.opts.batchMaxItems, this.opts.batchMaxBytes);
      } catch (err) {
        this.opts.log.error({ sink: this.name, code: (err as ProcflowError).code, err: (err as Error).message }, 'spool read failed; delivery stopped');
        return;
      }
      if (!batch) {
        if (spool.pendingItems === 0) this.notifyIdle();
        await new Promise<void>((r) => {
          this.wake = r;
          if (spool.hasUnread() || signal.aborted) this.kick();
        });
        continue;
      }
      if (await this.deliver(batch.items, signal)) spool.ack(batch);
      else return; // stopping: the unconfirmed batch stays in the spool
      this.reportDrops();
    }
  }

  /** Sends until every item is confirmed or dead-lettered; false when stopped first. */
  private async deliver(items: readonly SinkItem[], signal: AbortSignal): Promise<boolean> {
    let pending = items;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        this.m.retries++;
        await sleep(backoffDelay(attempt - 1, this.opts.retryInitialMs, this.opts.retryMaxMs), signal);
        if (signal.aborted) return false;
      }
      try {
        const rep = await this.service.send(pending);
        this.settle(pending.length - rep.retry.length, rep.rejected);
        if (this.failing) {
          this.failing = false;
          this.opts.log.info({ sink: this.name }, 'sink delivering again');
        }
        if (rep.retry.length === 0) return true;
        pending = rep.retry;
      } catch (err) {
        this.m.errors++;
        if (err instanceof SinkSendError && !err.retryable) {
          this.settle(pending.length, pending.map((item) => ({ item, reason: err.message })));
          return true;
        }
        this.logFailure(pending.length, err as Error);
      }
      if (signal.aborted) return false;
    }
  }

  /** Counts `done` items as handled: the rejected among them go to the dead-letter file, the rest were sent. */
  private settle(done: number, rejected: readonly { item: SinkItem; reason: string }[]): void {
    this.m.sent += done - rejected.length;
    if (rejected.length === 0) return;
    this.m.deadLettered += rejected.length;
    this.opts.deadLetter?.write(rejected);
    const err = new ProcflowError(ERRORS.SINK_REJECTED, {
      sink: this.name, count: rejected.length, reason: rejected[0]!.reason, path: this.opts.deadLetter?.path ?? '(none configured)',
    });
    this.opts.log.warn({ sink: this.name, code: err.code, count: rejected.length, deadLettered: this.m.deadLettered }, err.message);
  }

  private logFailure(count: number, err: Error): void {
    const now = Date.now();
    if (this.failing && now - this.lastLog < LOG_EVERY_MS) return;
    this.failing = true;
    this.lastLog = now;
    const code = (err as ProcflowError).code ?? ERRORS.SINK_DELIVERY.code;
    const message = err instanceof ProcflowError ? err.message
      : new ProcflowError(ERRORS.SINK_DELIVERY, { sink: this.name, count, reason: err.message, fix: 'Check that the destination is up and reachable; nothing is lost meanwhile.' }).message;
    this.opts.log.warn({ sink: this.name, code, queued: this.opts.spool?.pendingItems }, message);
  }

  private reportDrops(): void {
    const spool = this.opts.spool;
    if (!spool || spool.droppedItems === this.reportedDropped) return;
    const err = new ProcflowError(ERRORS.SPOOL_DROPPED, {
      sink: this.name, maxBytes: spool.maxBytes, count: spool.droppedItems - this.reportedDropped, total: spool.droppedItems,
    });
    this.reportedDropped = spool.droppedItems;
    this.opts.log.warn({ sink: this.name, code: err.code, dropped: spool.droppedItems }, err.message);
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}

/** Splits items into batches of at most maxItems and (beyond the first item) maxBytes. */
export function* batches(items: readonly SinkItem[], maxItems: number, maxBytes: number): Generator<SinkItem[]> {
  let cur: SinkItem[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= maxItems || bytes + it.data.length > maxBytes)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.data.length;
  }
  if (cur.length > 0) yield cur;
}

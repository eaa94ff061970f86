/**
 * The common sink interface. A sink is split the same way for every
 * destination (file, stdout, elasticsearch, fluent-forward, http, syslog):
 *
 * - an encoder turns each record into one item (`SinkItem`: the record id and
 *   the bytes the destination wants for it), so a spool can keep items by id;
 * - a service delivers a batch of items and says, per item, what happened;
 * - the driver (driver.ts) ties them to the pipeline: batching, retry with
 *   backoff, the disk spool for network sinks, dead letters, metrics and the
 *   shutdown flush.
 *
 * The agent sees only `Sink` (write a batch of records, read metrics, close).
 */
import type { FlowRecord } from '../flows/record.js';

/** One record encoded for one destination. `id` is the record's id (also the Elasticsearch `_id`). */
export interface SinkItem {
  readonly id: string;
  readonly data: Buffer;
}

/** An item the destination refused for good (it would be refused again): it goes to the dead-letter file. */
export interface RejectedItem {
  readonly item: SinkItem;
  readonly reason: string;
}

/** What a service did with a batch: items neither retried nor rejected were delivered. */
export interface DeliveryReport {
  /** Items to send again after a backoff (e.g. per-item 429 in a bulk response). */
  readonly retry: readonly SinkItem[];
  /** Items refused for good (e.g. an Elasticsearch mapping error). */
  readonly rejected: readonly RejectedItem[];
}

/** Every item delivered. */
export const DELIVERED: DeliveryReport = Object.freeze({ retry: [], rejected: [] });

/** A failed send. `retryable` false means the whole batch would be refused again (it is dead-lettered). */
export class SinkSendError extends Error {
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SinkSendError';
  }
}

/** A formatter's item type the destination cannot carry (the router reports it as PROCFLOW_E_SINK_FORMAT). */
export class SinkFormatError extends Error {
  constructor(readonly sink: string, readonly contentType: string, reason: string) {
    super(reason);
    this.name = 'SinkFormatError';
  }
}

/** The destination side of a sink: what each sink type implements. */
export interface SinkService {
  /** A short name for logs and stats, e.g. `elasticsearch:https://es:9200`. */
  readonly name: string;
  /** Encodes one record into this destination's item bytes. Pure and deterministic (a resend is identical). */
  encode(record: FlowRecord): Buffer;
  /**
   * Optional: encode()'s bytes written at `O` of `B`, not past `END`; returns
   * the offset after them, or -1 when they do not fit (the caller retries with
   * more room). Lets a spooled sink encode straight into the spool's frame.
   */
  encodeInto?(record: FlowRecord, B: Buffer, O: number, END: number): number;
  /**
   * Frames one item a route's formatter already encoded (`contentType`, for
   * `record`) into this destination's item bytes. Throws SinkFormatError when
   * the destination cannot carry that type (elasticsearch: JSON only).
   */
  frame(item: Uint8Array, record: FlowRecord, contentType: string): Buffer;
  /** Delivers a batch; resolves once the destination confirmed it. Throws SinkSendError when it could not. */
  send(items: readonly SinkItem[]): Promise<DeliveryReport>;
  /** Releases connections and files. */
  close(): Promise<void>;
}

/** Counters every sink keeps (checked by the compliance harness). Items are records. */
export interface SinkMetrics {
  /** Records handed to the sink by the pipeline. */
  received: number;
  /** Records the destination confirmed. */
  sent: number;
  /** Batches sent again after a failure or a partial refusal. */
  retries: number;
  /** Failed sends (each attempt counts). */
  errors: number;
  /** Records refused for good and written to the dead-letter file. */
  deadLettered: number;
  /** Records dropped by the spool's drop-oldest policy when it was full. */
  dropped: number;
  /** Records waiting in the spool (0 for sinks without one). */
  queued: number;
  /** Bytes the spool holds on disk. */
  queuedBytes: number;
}

/** What remained when a sink was closed. */
export interface CloseReport {
  /** Records not confirmed by the destination (kept in the spool for the next start, if there is one). */
  remaining: number;
  /** Whether the flush finished before the deadline. */
  flushed: boolean;
}

/** Where flow records go: what the agent calls. */
export interface Sink {
  /** A short name for logs and stats. */
  readonly name: string;
  /**
   * Accepts a batch. Resolves once the records are delivered (sinks without a
   * spool) or safely on disk in the spool (network sinks); waits while the
   * spool is full under the `block` policy (backpressure on the pipeline).
   */
  write(records: readonly FlowRecord[]): Promise<void>;
  /**
   * Like write, for records a formatter already encoded: `items[i]` is
   * `records[i]`'s item, of `contentType`; the sink only frames each one.
   */
  writeItems(records: readonly FlowRecord[], items: readonly Uint8Array[], contentType: string): Promise<void>;
  /** Current counters. */
  metrics(): SinkMetrics;
  /** Flushes within the sink's flush timeout, then releases the destination; says what remained. */
  close(): Promise<CloseReport>;
}

/**
 * The elasticsearch sink's service: POST /_bulk over an undici keep-alive
 * pool, reading the per-item results. Items refused for good (a mapping
 * error, any other 4xx) are reported as rejected (dead letter); items with 429
 * or 5xx are retried; the others are confirmed and never resent. A 429 or 5xx
 * for the whole request, or a network error, retries the batch; 401/403 too
 * (records wait in the spool until the credentials are fixed).
 */
import type { Pool } from 'undici';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { FlowRecord } from '../../flows/record.js';
import { isJsonContentType } from '../common/items.js';
import { itemsBody } from '../common/join.js';
import { keepAlivePool } from '../common/pool.js';
import { DELIVERED, SinkFormatError, SinkSendError, type DeliveryReport, type RejectedItem, type SinkItem, type SinkService } from '../sink.js';
import type { ElasticsearchSinkConfig } from './config.js';
import { BulkEncoder } from './encoder.js';

/** One entry of a _bulk response's `items`. */
interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** The parts of a _bulk response procflow reads. */
interface BulkResponse {
  errors: boolean;
  items: Record<string, BulkItemResult>[];
}

/** The `Authorization` header for the configured credentials. */
export function authorization(c: Pick<ElasticsearchSinkConfig, 'apiKey' | 'username' | 'password'>): string | undefined {
  if (c.apiKey) return `ApiKey ${c.apiKey}`;
  if (c.username !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** Sends _bulk requests to one cluster. */
export class ElasticsearchService implements SinkService {
  readonly name: string;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly encoder: BulkEncoder;

  constructor(private readonly config: ElasticsearchSinkConfig) {
    const u = new URL(config.url);
    this.name = `elasticsearch:${u.origin}`;
    this.path = `${u.pathname.replace(/\/+$/, '')}/_bulk`;
    this.encoder = new BulkEncoder(config.index);
    this.pool = keepAlivePool(u.origin, this.name, config);
    this.headers = { 'content-type': 'application/x-ndjson', accept: 'application/json' };
    const auth = authorization(config);
    if (auth) this.headers.authorization = auth;
  }

  encode(record: FlowRecord): Buffer {
    return this.encoder.encode(record);
  }

  encodeInto(record: FlowRecord, B: Buffer, O: number, END: number): number {
    return this.encoder.encodeInto(record, B, O, END);
  }

  /** A JSON item becomes the document of an `index` action with `_id` = the record id; other types are refused. */
  frame(item: Uint8Array, record: FlowRecord, contentType: string): Buffer {
    if (!isJsonContentType(contentType)) throw new SinkFormatError(this.name, contentType, 'Elasticsearch indexes JSON documents');
    return this.encoder.frame(record, item);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({ path: this.path, method: 'POST', headers: this.headers, body: itemsBody(items) });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new SinkSendError(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim(), true, { cause: err });
    }
    if (status === 401 || status === 403) {
      throw new SinkSendError(new ProcflowError(ERRORS.SINK_AUTH, { sink: this.name, reason: `HTTP ${status}: ${text.slice(0, 200)}`, fields: 'apiKey, or username and password' }).message, true);
    }
    if (status === 429 || status >= 500) throw new SinkSendError(`HTTP ${status}: ${text.slice(0, 200)}`, true);
    if (status === 413) throw new SinkSendError(`HTTP 413 request too large: lower batchMaxKB (now ${this.config.batchMaxKB}) below the cluster's http.max_content_length`, false);
    if (status < 200 || status >= 300) throw new SinkSendError(`HTTP ${status}: ${text.slice(0, 300)}`, false);
    // Elasticsearch writes `took` then `errors` first: when nothing failed there is nothing else to read.
    if (/^\{"took":\d+,"errors":false[,}]/.test(text.slice(0, 48))) return DELIVERED;
    let res: BulkResponse;
    try {
      res = JSON.parse(text) as BulkResponse;
    } catch {
      throw new SinkSendError(`HTTP ${status} with a body that is not a _bulk response: ${text.slice(0, 200)}`, true);
    }
    if (!res.errors) return DELIVERED;
    if (!Array.isArray(res.items) || res.items.length !== items.length) {
      throw new SinkSendError(`_bulk response has ${res.items?.length ?? 0} items for ${items.length} sent`, true);
    }
    const retry: SinkItem[] = [];
    const rejected: RejectedItem[] = [];
    res.items.forEach((entry, i) => {
      const r = Object.values(entry)[0];
      if (!r || (r.status >= 200 && r.status < 300)) return;
      if (r.status === 429 || r.status >= 500) retry.push(items[i]!);
      else rejected.push({ item: items[i]!, reason: `${r.status} ${r.error?.type ?? 'error'}: ${r.error?.reason ?? ''}${r.error?.caused_by?.reason ? ` (${r.error.caused_by.reason})` : ''}` });
    });
    return { retry, rejected };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

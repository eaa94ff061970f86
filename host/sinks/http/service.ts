/**
 * The http sink's service: POST one batch per request over an undici
 * keep-alive pool. 2xx confirms the batch; 429, 5xx and network errors retry
 * it; 401/403 too (records wait until the token is fixed); any other status
 * refuses it for good (dead letter).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { Pool } from 'undici';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { FlowRecord } from '../../flows/record.js';
import { keepAlivePool } from '../common/pool.js';
import { DELIVERED, SinkSendError, type DeliveryReport, type SinkItem, type SinkService } from '../sink.js';
import type { HttpSinkConfig } from './config.js';
import { body, encodeMsgpack, encodeNdjson, frameItem } from './encoder.js';

const gzip = promisify(gzipCb);

/** POSTs batches to one endpoint. */
export class HttpService implements SinkService {
  readonly name: string;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly config: HttpSinkConfig) {
    const u = new URL(config.url);
    this.name = `http:${u.origin}${u.pathname}`;
    this.path = `${u.pathname}${u.search}`;
    this.pool = keepAlivePool(u.origin, this.name, config);
    this.headers = {
      ...config.headers,
      'content-type': config.format === 'ndjson' ? 'application/x-ndjson' : 'application/msgpack',
      ...(config.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...(config.bearerToken ? { authorization: `Bearer ${config.bearerToken}` } : {}),
    };
  }

  encode(record: FlowRecord): Buffer {
    return this.config.format === 'ndjson' ? encodeNdjson(record) : encodeMsgpack(record);
  }

  /** A formatter's item as one NDJSON line or one msgpack map of the body (see frameItem). */
  frame(item: Uint8Array, _record: FlowRecord, contentType: string): Buffer {
    return frameItem(this.config.format, item, contentType);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    const raw = body(this.config.format, items.map((i) => i.data));
    const payload = this.config.gzip ? await gzip(raw) : raw;
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({ path: this.path, method: 'POST', headers: this.headers, body: payload });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new SinkSendError(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim(), true, { cause: err });
    }
    if (status >= 200 && status < 300) return DELIVERED;
    if (status === 401 || status === 403) {
      throw new SinkSendError(new ProcflowError(ERRORS.SINK_AUTH, { sink: this.name, reason: `HTTP ${status}: ${text.slice(0, 200)}`, fields: 'bearerToken, headers' }).message, true);
    }
    if (status === 429 || status >= 500) throw new SinkSendError(`HTTP ${status}: ${text.slice(0, 200)}`, true);
    throw new SinkSendError(`HTTP ${status}: ${text.slice(0, 300)}`, false);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

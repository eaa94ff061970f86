/**
 * The fluent-forward sink's service: one TCP (or TLS) connection to fluentd's
 * in_forward, the shared-key handshake when a key is configured, then one
 * PackedForward chunk per batch, each confirmed by the server's ack
 * (`{ack: chunk}`). No ack within ackTimeout, or a lost connection, makes the
 * batch retryable (fluentd dedups nothing: delivery is at-least-once, the
 * record `id` lets the destination tell resends apart).
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { FlowRecord } from '../../flows/record.js';
import { tlsOptions } from '../common/config.js';
import { DELIVERED, SinkSendError, type DeliveryReport, type SinkItem, type SinkService } from '../sink.js';
import type { FluentForwardSinkConfig } from './config.js';
import { encodeEntry, encodeEntryInto, encodeItemEntry, packedForward, packr } from './encoder.js';
import { ClientHandshake } from './handshake.js';
import { MessageReader } from './reader.js';

/** A connection ready to carry chunks. */
interface Conn {
  sock: Socket;
  /** Next message from the server (handshake) or the ack awaited. */
  onMessage: ((m: unknown) => void) | undefined;
  onClose: ((err: Error) => void) | undefined;
  closed: boolean;
}

/** Sends PackedForward chunks with acks to one fluentd. */
export class FluentForwardService implements SinkService {
  readonly name: string;
  private conn: Promise<Conn> | undefined;
  private current: Conn | undefined;

  constructor(private readonly config: FluentForwardSinkConfig) {
    this.name = `fluent-forward:${config.host}:${config.port}`;
  }

  encode(record: FlowRecord): Buffer {
    return encodeEntry(record);
  }

  encodeInto(record: FlowRecord, B: Buffer, O: number, END: number): number {
    return encodeEntryInto(record, B, O, END);
  }

  /** A formatter's item as an event `[end_time, map]` (a JSON object item is the map; anything else is `{message}`). */
  frame(item: Uint8Array, record: FlowRecord, contentType: string): Buffer {
    return encodeItemEntry(record, item, contentType);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    const conn = await this.connection();
    const chunk = randomBytes(16).toString('base64');
    const msg = packedForward(this.config.tag, items, chunk, this.config.compress === 'gzip');
    await this.exchange(conn, msg, (m) => typeof m === 'object' && m !== null && (m as { ack?: unknown }).ack === chunk, this.config.ackTimeout, `no ack for chunk ${chunk} within ${this.config.ackTimeout} ms`);
    return DELIVERED;
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (!c) return;
    try {
      const conn = await c;
      conn.sock.end();
      conn.sock.destroy();
    } catch {
      /* never connected */
    }
  }

  private connection(): Promise<Conn> {
    if (this.conn) return this.conn;
    const p = this.open().catch((err: unknown) => {
      if (this.conn === p) this.conn = undefined;
      throw err instanceof SinkSendError ? err : new SinkSendError((err as Error).message, true, { cause: err });
    });
    this.conn = p;
    return p;
  }

  private async open(): Promise<Conn> {
    const c = this.config;
    const useTls = c.tlsEnabled || c.tls !== undefined;
    const sock = await new Promise<Socket>((resolve, reject) => {
      const opts = { host: c.host, port: c.port, timeout: c.timeout };
      const s = useTls
        ? tlsConnect({ ...opts, ...tlsOptions(this.name, c.tls), ...(isIP(c.host) || c.tls?.serverName ? {} : { servername: c.host }) }, () => resolve(s))
        : netConnect(opts, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(Math.min(c.timeout, 10_000), () => s.destroy(new Error(`connect timeout after ${Math.min(c.timeout, 10_000)} ms`)));
    });
    sock.setTimeout(0);
    sock.setNoDelay(true);
    const conn: Conn = { sock, onMessage: undefined, onClose: undefined, closed: false };
    const reader = new MessageReader();
    sock.on('data', (d: Buffer) => {
      let msgs: unknown[];
      try {
        msgs = reader.push(d);
      } catch (err) {
        sock.destroy(err as Error);
        return;
      }
      for (const m of msgs) conn.onMessage?.(m);
    });
    const lost = (err?: Error) => {
      if (conn.closed) return;
      conn.closed = true;
      if (this.current === conn) {
        this.current = undefined;
        this.conn = undefined;
      }
      conn.onClose?.(err ?? new Error('connection closed by the server'));
    };
    sock.on('error', lost);
    sock.on('close', () => lost());
    this.current = conn;
    if (c.sharedKey !== undefined) await this.handshake(conn, c.sharedKey);
    return conn;
  }

  private async handshake(conn: Conn, sharedKey: string): Promise<void> {
    const hs = new ClientHandshake({ selfHostname: this.config.selfHostname, sharedKey, username: this.config.username, password: this.config.password });
    const helo = await this.next(conn, 'HELO');
    const pong = await this.exchangeRaw(conn, packr.pack(hs.ping(helo)), 'PONG');
    const why = hs.checkPong(pong);
    if (why) {
      conn.sock.destroy();
      throw new SinkSendError(new ProcflowError(ERRORS.SINK_AUTH, { sink: this.name, reason: why, fields: 'sharedKey, username, password' }).message, true);
    }
  }

  private next(conn: Conn, what: string): Promise<unknown> {
    return this.exchangeRaw(conn, undefined, what);
  }

  private exchangeRaw(conn: Conn, msg: Buffer | undefined, what: string): Promise<unknown> {
    let got: unknown;
    return this.exchange(conn, msg, (m) => ((got = m), true), this.config.ackTimeout, `no ${what} from the server within ${this.config.ackTimeout} ms`).then(() => got);
  }

  /** Writes `msg` (if any) and waits for the first message `accept` takes; rejects (retryable) on timeout or a lost connection. */
  private exchange(conn: Conn, msg: Buffer | Buffer[] | undefined, accept: (m: unknown) => boolean, timeoutMs: number, timeoutText: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (conn.closed) return reject(new SinkSendError('connection closed by the server', true));
      const done = (err?: Error) => {
        clearTimeout(timer);
        conn.onMessage = undefined;
        conn.onClose = undefined;
        if (!err) return resolve();
        reject(err instanceof SinkSendError ? err : new SinkSendError(err.message, true, { cause: err }));
      };
      const timer = setTimeout(() => {
        done(new SinkSendError(timeoutText, true));
        conn.sock.destroy(); // a late ack must not confirm a resent chunk
      }, timeoutMs);
      conn.onMessage = (m) => {
        if (accept(m)) done();
      };
      conn.onClose = (err) => done(err);
      if (Array.isArray(msg)) {
        conn.sock.cork(); // one writev for the parts
        for (const part of msg) conn.sock.write(part);
        conn.sock.uncork();
      } else if (msg) conn.sock.write(msg);
    });
  }
}

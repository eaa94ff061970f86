/**
 * The syslog sink's service. TCP and TLS: one connection, octet-counted
 * frames, a batch is confirmed once the kernel accepted it (syslog has no
 * application-level acknowledgement); a broken connection retries the batch
 * on a new one (at-least-once). UDP: one datagram per record, confirmed when
 * sent; a datagram lost on the way is not seen — use tcp or tls when every
 * record must arrive.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FlowRecord } from '../../flows/record.js';
import { tlsOptions } from '../common/config.js';
import { DELIVERED, SinkSendError, type DeliveryReport, type SinkItem, type SinkService } from '../sink.js';
import type { SyslogSinkConfig } from './config.js';
import { SyslogEncoder } from './encoder.js';

/** Sends RFC 5424 messages to one syslog server. */
export class SyslogService implements SinkService {
  readonly name: string;
  private readonly encoder: SyslogEncoder;
  private sock: Promise<Socket> | undefined;
  private udp: UdpSocket | undefined;

  constructor(private readonly config: SyslogSinkConfig) {
    this.name = `syslog:${config.transport}://${config.host}:${config.port}`;
    this.encoder = new SyslogEncoder(config);
  }

  encode(record: FlowRecord): Buffer {
    return this.encoder.encode(record);
  }

  /** A formatter's item as the message's MSG (header and record id as for every message). */
  frame(item: Uint8Array, record: FlowRecord): Buffer {
    return this.encoder.encodeItem(record, item);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    if (this.config.transport === 'udp') return this.sendUdp(items);
    const sock = await this.connection();
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new SinkSendError('connection closed by the server', true));
      sock.once('close', onClose);
      sock.write(Buffer.concat(items.map((i) => i.data)), (err) => {
        sock.off('close', onClose);
        if (err) {
          this.drop(sock);
          reject(new SinkSendError(err.message, true, { cause: err }));
        } else resolve();
      });
    });
    return DELIVERED;
  }

  private async sendUdp(items: readonly SinkItem[]): Promise<DeliveryReport> {
    this.udp ??= createSocket(isIP(this.config.host) === 6 ? 'udp6' : 'udp4');
    const udp = this.udp;
    await Promise.all(items.map((i) => new Promise<void>((resolve, reject) => {
      udp.send(i.data, this.config.port, this.config.host, (err) => (err ? reject(new SinkSendError(err.message, true, { cause: err })) : resolve()));
    })));
    return DELIVERED;
  }

  private connection(): Promise<Socket> {
    if (this.sock) return this.sock;
    const c = this.config;
    const p = new Promise<Socket>((resolve, reject) => {
      const opts = { host: c.host, port: c.port };
      const s = c.transport === 'tls'
        ? tlsConnect({ ...opts, ...tlsOptions(this.name, c.tls), ...(isIP(c.host) || c.tls?.serverName ? {} : { servername: c.host }) }, () => ready())
        : netConnect(opts, () => ready());
      const timer = setTimeout(() => s.destroy(new Error(`connect timeout after ${c.timeout} ms`)), Math.min(c.timeout, 10_000));
      const ready = () => {
        clearTimeout(timer);
        s.off('error', fail);
        s.on('error', () => this.drop(s));
        s.on('close', () => this.drop(s));
        s.on('data', () => {}); // servers send nothing; drain anyway
        resolve(s);
      };
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(new SinkSendError(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim(), true, { cause: err }));
      };
      s.once('error', fail);
    });
    this.sock = p;
    p.catch(() => {
      if (this.sock === p) this.sock = undefined;
    });
    return p;
  }

  private drop(s: Socket): void {
    s.destroy();
    void this.sock?.then((cur) => {
      if (cur === s) this.sock = undefined;
    }, () => {});
  }

  async close(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    const p = this.sock;
    this.sock = undefined;
    if (!p) return;
    try {
      const s = await p;
      await new Promise<void>((r) => s.end(() => r()));
      s.destroy();
    } catch {
      /* never connected */
    }
  }
}

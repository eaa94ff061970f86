/**
 * A fluentd in_forward stand-in for tests (fluentd cannot be installed on the
 * test machines), implementing Forward Protocol Specification v1 over real
 * TCP or TLS sockets:
 *
 * - event modes Message `[tag, time, record, option?]`, Forward
 *   `[tag, [[time, record]…], option?]`, PackedForward `[tag, bin, option?]`
 *   and CompressedPackedForward (`option.compressed: "gzip"`); time an integer
 *   or EventTime (ext type 0);
 * - `option.chunk` answered with `{ack: chunk}` once the events are stored;
 * - with a shared key: HELO `{nonce, auth, keepalive}` on connect, PING checked
 *   (shared-key digest, and user/password digest when users are configured),
 *   PONG with the server's own digest, or PONG false and disconnect.
 *
 * test/servers/fluentd.test.ts validates it with the official Fluent logger
 * for Node (fluent-logger), speaking forward with ack and a shared key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createNet, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTls } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { addExtension, Packr, Unpackr, UnpackrStream } from 'msgpackr';

/** EventTime (ext type 0): seconds and nanoseconds. */
export class EventTime {
  constructor(readonly sec: number, readonly nsec: number) {}
}
// Decoding only (msgpackr cannot register a packer for type 0).
addExtension({
  type: 0,
  unpack: (b: Buffer) => new EventTime(b.readUInt32BE(0), b.readUInt32BE(4)),
});

/** One event received. */
export interface ReceivedEvent {
  tag: string;
  time: number | EventTime;
  record: Record<string, unknown>;
  mode: 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';
}

/** Test controls and what the server saw. */
export interface FluentdTestServer {
  port: number;
  events: ReceivedEvent[];
  /** Chunks received (resends included). */
  chunks: number;
  /** Events of each chunk acked. */
  chunkSizes: number[];
  /** Handshakes refused, with the reason. */
  refusals: string[];
  /** Do not ack (nor store) the next N chunks. */
  dropNextChunks: number;
  /** Connections accepted. */
  connections: number;
  ids(): Set<string>;
  close(): Promise<void>;
}

/** Server options: shared key (and users) enable the handshake; tls wraps the socket. */
export interface FluentdOptions {
  port?: number;
  sharedKey?: string;
  users?: Record<string, string>;
  hostname?: string;
  tls?: { key: Buffer; cert: Buffer };
}

const sha512Hex = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Starts the stand-in on 127.0.0.1. */
export async function startFluentd(opts: FluentdOptions = {}): Promise<FluentdTestServer> {
  const sockets = new Set<Socket>();
  const serverHostname = opts.hostname ?? 'fluentd-test';
  const state: FluentdTestServer = {
    port: 0, events: [], chunks: 0, chunkSizes: [], refusals: [], dropNextChunks: 0, connections: 0,
    ids: () => new Set(state.events.map((e) => String(e.record.id))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const onConnection = (sock: Socket) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    const nonce = randomBytes(16);
    const authSalt = opts.users ? randomBytes(16) : Buffer.alloc(0);
    let established = opts.sharedKey === undefined;
    if (!established) sock.write(packr.pack(['HELO', { nonce, auth: opts.users ? authSalt : '', keepalive: true }]));
    const stream = new UnpackrStream({ useRecords: false, mapsAsObjects: true });
    sock.pipe(stream);
    stream.on('error', () => sock.destroy());
    stream.on('data', (msg: unknown) => {
      if (!Array.isArray(msg)) return sock.destroy();
      if (!established) {
        const why = checkPing(msg, opts, nonce, authSalt);
        const [, , salt] = msg as [string, string, string];
        if (why) {
          state.refusals.push(why);
          sock.end(packr.pack(['PONG', false, why, '', '']));
          return;
        }
        established = true;
        sock.write(packr.pack(['PONG', true, '', serverHostname, sha512Hex(String(salt), serverHostname, nonce, opts.sharedKey!)]));
        return;
      }
      const got = decodeEvents(msg);
      if (!got) return sock.destroy();
      if (got.chunk !== undefined) {
        state.chunks++;
        if (state.dropNextChunks > 0) {
          state.dropNextChunks--;
          return;
        }
      }
      state.events.push(...got.events);
      if (got.chunk !== undefined) {
        state.chunkSizes.push(got.events.length);
        sock.write(packr.pack({ ack: got.chunk }));
      }
    });
  };

  const server: Server = opts.tls ? createTls({ key: opts.tls.key, cert: opts.tls.cert }, onConnection) : createNet(onConnection);
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** Why a PING is refused, or undefined. */
function checkPing(msg: unknown[], opts: FluentdOptions, nonce: Buffer, authSalt: Buffer): string | undefined {
  const [type, hostname, salt, digest, username, passwordDigest] = msg as string[];
  if (type !== 'PING' || msg.length !== 6) return 'expected PING';
  if (digest !== sha512Hex(String(salt), String(hostname), nonce, opts.sharedKey!)) return 'shared_key mismatch';
  if (opts.users) {
    const password = opts.users[String(username)];
    if (password === undefined || passwordDigest !== sha512Hex(authSalt, String(username), password)) return 'username/password mismatch';
  }
  return undefined;
}

/** The events of a Message / Forward / (Compressed)PackedForward message, and its chunk id. */
function decodeEvents(msg: unknown[]): { events: ReceivedEvent[]; chunk: string | undefined } | undefined {
  const tag = msg[0];
  if (typeof tag !== 'string') return undefined;
  const entries = msg[1];
  if (typeof entries === 'number' || entries instanceof EventTime) {
    const option = msg[3] as { chunk?: string } | undefined;
    return { events: [{ tag, time: entries, record: msg[2] as Record<string, unknown>, mode: 'Message' }], chunk: option?.chunk };
  }
  const option = msg[2] as { chunk?: string; compressed?: string; size?: number } | undefined;
  if (Array.isArray(entries)) {
    return { events: entries.map(([time, record]: [number, Record<string, unknown>]) => ({ tag, time, record, mode: 'Forward' as const })), chunk: option?.chunk };
  }
  if (Buffer.isBuffer(entries) || entries instanceof Uint8Array || typeof entries === 'string') {
    let raw = Buffer.isBuffer(entries) ? entries : Buffer.from(entries as Uint8Array | string);
    const compressed = option?.compressed === 'gzip';
    if (compressed) raw = gunzipSync(raw);
    const mode = compressed ? 'CompressedPackedForward' : 'PackedForward';
    const events = (raw.length === 0 ? [] : (unpackr.unpackMultiple(raw) as [number, Record<string, unknown>][])).map(([time, record]) => ({ tag, time, record, mode: mode as ReceivedEvent['mode'] }));
    return { events, chunk: option?.chunk };
  }
  return undefined;
}

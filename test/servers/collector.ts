/**
 * An HTTP collector for the http sink's tests: accepts POSTed batches as
 * NDJSON or msgpack (an array of maps), gzip-encoded or not, checks the bearer
 * token, records headers, and answers statuses the test queues.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** What the collector saw, and its controls. */
export interface Collector {
  url: string;
  records: Record<string, unknown>[];
  requests: { headers: IncomingMessage['headers']; count: number }[];
  /** Statuses for the next requests, consumed in order (records are not stored). */
  failNext: number[];
  /** Required bearer token (401 otherwise). */
  token: string | undefined;
  ids(): Set<string>;
  close(): Promise<void>;
}

export async function startCollector(token?: string): Promise<Collector> {
  const state: Collector = {
    url: '', records: [], requests: [], failNext: [], token,
    ids: () => new Set(state.records.map((r) => String(r.id))),
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const fail = state.failNext.shift();
      if (state.token !== undefined && req.headers.authorization !== `Bearer ${state.token}`) return void res.writeHead(401).end('bad token');
      if (fail !== undefined) return void res.writeHead(fail).end(`injected ${fail}`);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const recs = req.headers['content-type'] === 'application/msgpack'
          ? (unpackr.unpack(body) as Record<string, unknown>[])
          : body.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
        state.records.push(...recs);
        state.requests.push({ headers: req.headers, count: recs.length });
        res.writeHead(204).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  return state;
}

/**
 * A Kibana stand-in for `procflow elastic setup`: POST
 * /api/saved_objects/_import (multipart/form-data, one `file` part of NDJSON
 * saved objects, the `kbn-xsrf` header required as Kibana requires it),
 * answering `{success, successCount}` and keeping the objects.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KibanaStandIn {
  url: string;
  objects: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startKibana(): Promise<KibanaStandIn> {
  const state: KibanaStandIn = { url: '', objects: [], close: () => new Promise((r) => server.close(() => r())) };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || !req.url?.startsWith('/api/saved_objects/_import')) return reply(404, { statusCode: 404, error: 'Not Found' });
      if (!req.headers['kbn-xsrf']) return reply(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
      if (!boundary) return reply(415, { statusCode: 415, error: 'Unsupported Media Type' });
      const body = Buffer.concat(chunks).toString('utf8');
      const part = body.split(`--${boundary[1] ?? boundary[2]}`).find((p) => /name="file"/.test(p));
      if (!part) return reply(400, { statusCode: 400, error: 'Bad Request', message: '[request body.file]: expected value of type [Stream]' });
      const content = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
      const objs = content.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      state.objects.push(...objs);
      reply(200, { success: true, successCount: objs.length, successResults: objs.map((o) => ({ type: o.type, id: o.id })) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

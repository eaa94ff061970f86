/**
 * Loopback destinations for bench/sinks.ts, run in their own process so the
 * sink's CPU is measured alone: `node dist/bench/lib/sink-servers.js es|fluent`
 * prints `port N`, then serves until killed.
 *
 * - es: POST /_bulk, counts the actions (every other line) and answers a
 *   _bulk response with one `index` item (201) per action, `errors: false`;
 * - fluent: Forward protocol: decodes each message, counts the PackedForward
 *   entries (option.size) and acks each chunk.
 */
import { createServer as createHttp } from 'node:http';
import { createServer as createNet, type AddressInfo } from 'node:net';
import { Packr, UnpackrStream } from 'msgpackr';

const kind = process.argv[2];
let received = 0;

if (kind === 'es') {
  const server = createHttp((req, res) => {
    let lines = 0;
    req.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    });
    req.on('end', () => {
      const n = lines >> 1;
      received += n;
      const item = '{"index":{"_index":"procflow-flows","_id":"x","_version":1,"result":"created","status":201}}';
      const body = `{"took":1,"errors":false,"items":[${new Array<string>(n).fill(item).join(',')}]}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
} else if (kind === 'fluent') {
  const packr = new Packr({ useRecords: false });
  const server = createNet((sock) => {
    sock.setNoDelay(true);
    const stream = new UnpackrStream({ useRecords: false, mapsAsObjects: true });
    sock.pipe(stream);
    stream.on('data', (msg: [string, Buffer, { chunk?: string; size?: number }]) => {
      const opt = msg[2];
      received += opt?.size ?? 0;
      if (opt?.chunk) sock.write(packr.pack({ ack: opt.chunk }));
    });
    sock.on('error', () => sock.destroy());
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
} else {
  process.stderr.write('usage: sink-servers.js es|fluent\n');
  process.exit(2);
}
process.on('SIGTERM', () => {
  process.stderr.write(`received ${received}\n`);
  process.exit(0);
});

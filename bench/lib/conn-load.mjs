// A long-lived process opening RATE TCP connections per second to a server of its own on
// 127.0.0.1 for SECS seconds; whatever follows on its command line (a planted secret, for
// bench/agent-redaction.sh) is only there to be redacted. Prints {"connections":n} at the end.
import net from 'node:net';

const RATE = Number(process.env.RATE ?? 800);
const SECS = Number(process.env.SECS ?? 60);
const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  let n = 0;
  const t0 = Date.now();
  const tick = setInterval(() => {
    for (let i = 0; i < RATE / 100; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => {});
      c.on('data', () => {});
      c.on('end', () => c.destroy());
      n++;
    }
    if (Date.now() - t0 >= SECS * 1000) {
      clearInterval(tick);
      server.close();
      console.log(JSON.stringify({ connections: n }));
    }
  }, 10);
});

// Network peers of the kernel matrix's guest runner: test/fixtures/net-peer.mjs's exchanges, all
// four in one process per side (node starts in ~1.5 s under emulation: two processes, not eight).
// Each side still has its own pid, which is what the attribution checks need.
//
//   node peers.mjs server [name...]                      → "port <name> <port>" per exchange (default all)
//   node peers.mjs client tcp4=P tcp6=P udp4=P udp6=P    → "local <name> <port>" per exchange
// Both print "done <name>" when an exchange is complete and exit when all are.
// Exchanges: tcp4 (127.0.0.1), tcp6 ([::1]), udp4 (127.0.0.1, unconnected client), udp6 ([::1],
// connected client). The client sends 1000 bytes, the server answers 37.
import net from 'node:net';
import dgram from 'node:dgram';

export const EXCHANGES = [
  { name: 'tcp4', proto: 'tcp', host: '127.0.0.1' },
  { name: 'tcp6', proto: 'tcp', host: '::1' },
  { name: 'udp4', proto: 'udp', host: '127.0.0.1', connected: false },
  { name: 'udp6', proto: 'udp', host: '::1', connected: true },
];
const REQUEST = 1000;
const ANSWER = 37;

const say = (s) => process.stdout.write(`${s}\n`);
let pending = 0;
const finished = (name) => {
  say(`done ${name}`);
  if (--pending === 0) setImmediate(() => process.exit(0));
};

function server(x) {
  if (x.proto === 'tcp') {
    const srv = net.createServer((sock) => {
      let got = 0;
      sock.on('data', (d) => {
        got += d.length;
        if (got === REQUEST) {
          sock.end(Buffer.alloc(ANSWER, 0x62));
          srv.close();
        }
      });
      sock.on('close', () => finished(x.name));
    });
    srv.listen(0, x.host, () => say(`port ${x.name} ${srv.address().port}`));
  } else {
    const s = dgram.createSocket(x.host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (msg.length !== REQUEST) return;
      s.send(Buffer.alloc(ANSWER, 0x62), rinfo.port, rinfo.address, () => {
        s.close();
        finished(x.name);
      });
    });
    s.bind(0, x.host, () => say(`port ${x.name} ${s.address().port}`));
  }
}

function client(x, port) {
  if (x.proto === 'tcp') {
    let got = 0;
    const sock = net.connect(port, x.host, () => {
      say(`local ${x.name} ${sock.localPort}`);
      sock.write(Buffer.alloc(REQUEST, 0x61));
    });
    sock.on('data', (d) => {
      got += d.length;
      if (got === ANSWER) sock.end();
    });
    sock.on('close', () => finished(x.name));
  } else {
    const s = dgram.createSocket(x.host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg) => {
      if (msg.length !== ANSWER) return;
      s.close();
      finished(x.name);
    });
    s.bind(0, () => {
      say(`local ${x.name} ${s.address().port}`);
      const payload = Buffer.alloc(REQUEST, 0x61);
      if (x.connected) s.connect(port, x.host, () => s.send(payload));
      else s.send(payload, port, x.host);
    });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [mode, ...rest] = process.argv.slice(2);
  const given = new Map(rest.map((p) => p.split('=')).map(([n, v]) => [n, Number(v)]));
  const which = EXCHANGES.filter((x) => (mode === 'server' && rest.length === 0) || given.has(x.name));
  pending = which.length;
  if (mode === 'server') which.forEach(server);
  else if (mode === 'client') which.forEach((x) => client(x, given.get(x.name)));
  else {
    console.error(`usage: peers.mjs server | client name=port...`);
    process.exit(2);
  }
}

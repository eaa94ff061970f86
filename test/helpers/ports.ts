/**
 * Ports for test servers that are stopped and started again on the same
 * port. A port from `listen(0)` lies in the kernel's ephemeral range, where
 * any process's outgoing connection or `listen(0)` may take it while the
 * server is down; the server then cannot bind it on restart (rsyslogd only
 * logs that and runs on without the listener). Ports below that range are
 * taken only by explicit picks like this one.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/** The lowest port of the kernel's ephemeral range (32768 when it cannot be read). */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

const tcpFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

const udpFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createSocket('udp4');
  s.once('error', () => { s.close(); resolve(false); });
  s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/**
 * A loopback port below the ephemeral range, free for TCP and for UDP when
 * checked, picked at random (test files run in parallel and pick too).
 */
export async function stablePort(): Promise<number> {
  const high = Math.min(ephemeralLow(), 65536) - 1;
  const low = Math.max(10_000, Math.floor(high / 2));
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
  throw new Error(`no free loopback port for TCP and UDP in ${low}–${high} after 200 tries`);
}

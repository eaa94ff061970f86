/**
 * Socket attribution on the real kernel: TCP and UDP exchanges between two
 * separate processes on 127.0.0.1 and [::1] with asymmetric payloads (1000
 * bytes one way, 37 back). Each end must be attributed to its own pid with
 * exact per-direction byte counts; for both tracepoint families.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect } from 'vitest';
import { isSockRecord, type BpfRecord, type SockRecord } from '../../../host/sources/bpf/decode.js';
import type { Family, LogicalHook } from '../../../host/sources/bpf/hooks.js';
import { BpfCapture } from '../../../host/sources/bpf/loader.js';
import { PROJECT_ROOT } from '../../../host/paths.js';
import { kernelIt, waitFor } from '../../helpers/kernel.js';
import { testLog } from '../../helpers/logger.js';

const PEER = `${PROJECT_ROOT}/test/fixtures/net-peer.mjs`;
const NET_HOOKS: LogicalHook[] = ['tcp_connect', 'tcp_accept', 'tcp_close', 'udp_send', 'udp_recv'];

/** A peer process whose stdout lines can be awaited. */
class Peer {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  constructor(args: string[]) {
    this.child = spawn('node', [PEER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => this.lines.push(l));
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** Waits for a line starting with `prefix`; returns the rest of it. */
  async line(prefix: string, deadlineMs = 15_000): Promise<string> {
    const find = () => this.lines.find((l) => l.startsWith(prefix));
    if (!(await waitFor(() => find() !== undefined, deadlineMs))) throw new Error(`peer ${this.pid}: no "${prefix}" line`);
    return find()!.slice(prefix.length).trim();
  }
  release(): void {
    this.child.stdin!.write('go\n');
  }
  exited(): Promise<void> {
    return this.child.exitCode !== null ? Promise.resolve() : new Promise((r) => this.child.on('exit', () => r()));
  }
}

const open: { cap?: BpfCapture; timer?: NodeJS.Timeout; peers: Peer[] } = { peers: [] };
afterEach(() => {
  clearInterval(open.timer);
  open.cap?.close();
  open.cap = undefined;
  for (const p of open.peers) p.child.kill();
  open.peers = [];
});

/** Captures with one family; accept has no tp_btf variant, so tp_btf runs fall back to tp for it alone. */
function startCapture(family: Family) {
  const families: Family[] = family === 'tp_btf' ? ['tp_btf', 'tp'] : [family];
  const cap = BpfCapture.start({ families, only: NET_HOOKS, ignoreTgid: process.pid }, testLog);
  for (const h of cap.hooks) {
    if (h.hook === 'tcp_accept') expect(h.chosen, h.reason).toBe('tp');
    else if (NET_HOOKS.includes(h.hook)) expect(h.chosen, `${h.hook}: ${h.reason}`).toBe(family);
  }
  const records: BpfRecord[] = [];
  open.cap = cap;
  open.timer = setInterval(() => cap.poll((r) => records.push(r)), 5);
  const socks = (pred: (r: SockRecord) => boolean) => records.filter(isSockRecord).filter(pred);
  return { cap, records, socks };
}

function peer(args: string[]): Peer {
  const p = new Peer(args);
  open.peers.push(p);
  return p;
}

const families: Family[] = ['tp_btf', 'tp'];
const hosts = [['IPv4', '127.0.0.1'], ['IPv6', '::1']] as const;

describe.each(families)('TCP attribution (%s family)', (family) => {
  describe.each(hosts)('%s', (_label, host) => {
    kernelIt('attributes both ends to their own pid with exact bytes per direction', async () => {
      const { cap, socks } = startCapture(family);
      for (const hook of ['tcp_connect', 'tcp_accept', 'tcp_close'] as const) {
        expect(cap.hooks.find((h) => h.hook === hook)?.chosen, hook).toBeDefined();
      }
      const server = peer(['tcp-server', host, '0', '37', '1000']);
      const port = Number(await server.line('port'));
      const client = peer(['tcp-client', host, String(port), '1000', '37']);
      const cport = Number(await client.line('local'));
      await Promise.all([client.exited(), server.exited()]);

      const isClient = (r: SockRecord) => r.lport === cport && r.rport === port;
      const isServer = (r: SockRecord) => r.lport === port && r.rport === cport;
      const ok = await waitFor(() => socks((r) => r.kind === 'close').filter((r) => isClient(r) || isServer(r)).length >= 2, 10_000);
      expect(ok, 'close events for both ends').toBe(true);

      const connect = socks((r) => r.kind === 'connect' && isClient(r));
      expect(connect).toHaveLength(1);
      expect(connect[0]).toMatchObject({ pid: client.pid, proto: 'tcp', family: host === '::1' ? 6 : 4, laddr: host, raddr: host, passive: false });
      const accept = socks((r) => r.kind === 'accept' && isServer(r));
      expect(accept).toHaveLength(1);
      expect(accept[0]).toMatchObject({ pid: server.pid, proto: 'tcp', passive: true });

      const cClose = socks((r) => r.kind === 'close' && isClient(r));
      const sClose = socks((r) => r.kind === 'close' && isServer(r));
      expect(cClose).toHaveLength(1);
      expect(sClose).toHaveLength(1);
      expect(cClose[0]).toMatchObject({ pid: client.pid, cookie: connect[0].cookie, bytesOut: 1000, bytesIn: 37 });
      expect(sClose[0]).toMatchObject({ pid: server.pid, cookie: accept[0].cookie, bytesOut: 37, bytesIn: 1000 });
      expect(cClose[0].segsOut).toBeGreaterThanOrEqual(1);
      expect(cClose[0].segsIn).toBeGreaterThanOrEqual(1);
      expect(cap.counters().tcp_close.dropped).toBe(0);
    });
  });

  kernelIt('shows the bytes of a connection still open in a periodic report (iter_tcp)', async () => {
    const { cap, socks } = startCapture(family);
    const server = peer(['tcp-server', '127.0.0.1', '0', '37', '1000', '--hold']);
    const port = Number(await server.line('port'));
    const client = peer(['tcp-client', '127.0.0.1', String(port), '1000', '37', '--hold']);
    const cport = Number(await client.line('local'));
    await client.line('done');
    await server.line('done');
    const stats: SockRecord[] = [];
    cap.runIterator('iter_tcp', (r) => { if (r.kind === 'tcp_stats') stats.push(r); });
    const c = stats.find((r) => r.lport === cport && r.rport === port);
    const s = stats.find((r) => r.lport === port && r.rport === cport);
    expect(c, 'client socket in the periodic report').toMatchObject({ pid: client.pid, bytesOut: 1000, bytesIn: 37 });
    expect(s, 'server socket in the periodic report').toMatchObject({ pid: server.pid, bytesOut: 37, bytesIn: 1000 });
    expect(socks((r) => r.kind === 'close' && r.lport === cport)).toHaveLength(0); // still open
    client.release();
    server.release();
    await Promise.all([client.exited(), server.exited()]);
  });

  kernelIt('attributes a connection opened before the capture started (iter_task_file + iter_tcp)', async () => {
    const server = peer(['tcp-server', '127.0.0.1', '0', '37', '1000', '--hold']);
    const port = Number(await server.line('port'));
    const client = peer(['tcp-client', '127.0.0.1', String(port), '1000', '37', '--hold']);
    const cport = Number(await client.line('local'));
    await client.line('done');
    const { cap } = startCapture(family);
    const owners: SockRecord[] = [];
    cap.runIterator('iter_task_file', (r) => { if (r.kind === 'sock_owner') owners.push(r); });
    const owner = owners.find((r) => r.pid === client.pid && r.lport === cport && r.rport === port);
    expect(owner, 'client socket owner from the task_file iterator').toBeDefined();
    expect(owner!.cookie).toBeGreaterThan(0);
    const stats: SockRecord[] = [];
    cap.runIterator('iter_tcp', (r) => { if (r.kind === 'tcp_stats') stats.push(r); });
    const live = stats.find((r) => r.cookie === owner!.cookie);
    expect(live, 'same cookie in the tcp iterator').toMatchObject({ lport: cport, rport: port, bytesOut: 1000, bytesIn: 37 });
    client.release();
    server.release();
    await Promise.all([client.exited(), server.exited()]);
  });
});

describe.each(families)('UDP attribution (%s family)', (family) => {
  describe.each(hosts)('%s', (_label, host) => {
    for (const connected of [false, true]) {
      kernelIt(`attributes sender and receiver with exact bytes (${connected ? 'connected' : 'unconnected'} client)`, async () => {
        const { cap, socks } = startCapture(family);
        for (const hook of ['udp_send', 'udp_recv'] as const) expect(cap.hooks.find((h) => h.hook === hook)?.chosen, hook).toBeDefined();
        const server = peer(['udp-server', host, '0', '37', '1000']);
        const port = Number(await server.line('port'));
        const client = peer(['udp-client', host, String(port), '1000', '37', ...(connected ? ['--connected'] : [])]);
        const cport = Number(await client.line('local'));
        await client.line('done');
        await server.line('done');
        const want = [
          { kind: 'udp_send', pid: client.pid, lport: cport, rport: port, bytesOut: 1000, segsOut: 1 },
          { kind: 'udp_recv', pid: server.pid, lport: port, rport: cport, bytesIn: 1000, segsIn: 1 },
          { kind: 'udp_send', pid: server.pid, lport: port, rport: cport, bytesOut: 37, segsOut: 1 },
          { kind: 'udp_recv', pid: client.pid, lport: cport, rport: port, bytesIn: 37, segsIn: 1 },
        ];
        const match = (w: (typeof want)[number]) => socks((r) => r.kind === w.kind && r.pid === w.pid && r.lport === w.lport && r.rport === w.rport);
        const all = await waitFor(() => want.every((w) => match(w).length > 0), 10_000);
        expect(all, `events: ${JSON.stringify(socks(() => true).map((r) => [r.kind, r.pid, r.lport, r.rport, r.bytesOut, r.bytesIn]))}`).toBe(true);
        for (const w of want) {
          const r = match(w)[0];
          expect(r).toMatchObject({ ...w, proto: 'udp', raddr: host });
        }
        // The map holds the same cumulative counters (the tail user space sweeps).
        const flows = cap.udpFlows().filter((r) => r.pid === client.pid);
        expect(flows.find((r) => r.kind === 'udp_send')).toMatchObject({ bytesOut: 1000, rport: port });
      });
    }
  });
});

/**
 * Flow table + aggregation on recorded event fixtures: levels 0–3, process
 * limits, pid reuse, exited-process retention, interval boundaries, and the
 * golden flows.log records (one per reporter and level).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProcessCache } from '../../host/cache/process-cache.js';
import type { AggregationKind } from '../../host/config/settings.js';
import { aggregate } from '../../host/flows/aggregate.js';
import { renderFlowLog, type FlowRecord } from '../../host/flows/record.js';
import { processResolver } from '../../host/flows/resolve.js';
import { FlowTable } from '../../host/flows/table.js';
import type { ExecRecord, SockRecord } from '../../host/sources/bpf/decode.js';
import { exec, exit, sock } from '../helpers/records.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const HOST_ADDRS = new Set(['10.0.0.5', '127.0.0.1', '::1']);

/** A little world: a cache, a table, and a flush with given settings. */
function world(opts: { level?: AggregationKind; processLimit?: number; argsLimit?: number; info?: boolean; path?: 'Enabled' | 'Disabled' } = {}) {
  const cache = new ProcessCache({ maxEntries: 1000, retentionMs: 45_000 });
  const table = new FlowTable(1000, 'evict-idle');
  const { resolve, stats } = processResolver(cache, opts.path ?? 'Enabled');
  let start = T0;
  return {
    cache, table, stats,
    exec: (r: ExecRecord) => cache.onExec(r, T0),
    apply: (r: SockRecord, startup = false) => table.apply(r, T0, startup),
    flush(endMs: number): FlowRecord[] {
      const recs = aggregate(table.flush(start), start, endMs, {
        level: opts.level ?? 0, perFlowProcessLimit: opts.processLimit ?? 2, perFlowProcessArgsLimit: opts.argsLimit ?? 5,
        collectProcessInfo: opts.info ?? true, host: 'node-1', isHostAddress: (a) => HOST_ADDRS.has(a), resolve,
      });
      start = endMs;
      return recs;
    },
  };
}

/** A TCP connection from a local client to a remote server: connect, then close with counters. */
function tcpClient(w: ReturnType<typeof world>, cookie: number, pid: number, startNs: number, lport: number, rport = 443, bytes = [1000, 37]) {
  w.apply(sock('connect', { cookie, pid, startNs, lport, rport }));
  w.apply(sock('close', { cookie, pid, startNs, lport, rport, bytesOut: bytes[0], bytesIn: bytes[1], segsOut: 1, segsIn: 1 }));
}

describe('aggregation levels', () => {
  function twoConns(level: AggregationKind) {
    const w = world({ level });
    w.exec(exec(100, 5e9, '/usr/bin/curl', ['curl', '-s', 'https://example.com']));
    tcpClient(w, 1, 100, 5e9, 40000, 443);
    tcpClient(w, 2, 100, 5e9, 40001, 443);
    tcpClient(w, 3, 100, 5e9, 40002, 8443);
    return w.flush(T0 + 15_000);
  }

  it('level 0 keeps the 5-tuple', () => {
    const recs = twoConns(0);
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({ source_ip: '10.0.0.5', source_port: 40000, dest_ip: '93.184.216.34', dest_port: 443, num_flows: 1 });
  });

  it('level 1 merges source ports', () => {
    const recs = twoConns(1);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ source_port: null, dest_port: 443, num_flows: 2, bytes_out: 2000, bytes_in: 74 });
  });

  it('level 2 merges addresses into this host and pvt/pub', () => {
    const recs = twoConns(2);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      source_ip: null, dest_ip: null, source_type: 'hep', source_name_aggr: 'node-1', dest_type: 'net', dest_name_aggr: 'pub',
      dest_port: 443, num_flows: 2,
    });
  });

  it('level 3 merges destination ports too', () => {
    const recs = twoConns(3);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ dest_port: null, num_flows: 3, num_flows_started: 3, num_flows_completed: 3, bytes_out: 3000 });
  });
});

describe('process fields', () => {
  it('gives each executable its own record up to the limit, then one record with process_name *', () => {
    const w = world({ level: 1 });
    const bins = ['/usr/bin/curl', '/usr/bin/wget', '/usr/bin/python3', '/usr/bin/perl'];
    bins.forEach((b, i) => {
      w.exec(exec(200 + i, (10 + i) * 1e9, b, [b.split('/').pop()!, `arg${i}`]));
      tcpClient(w, 10 + i, 200 + i, (10 + i) * 1e9, 41000 + i);
    });
    const recs = w.flush(T0 + 15_000);
    expect(recs.map((r) => r.process_name)).toEqual(['/usr/bin/curl', '/usr/bin/wget', '*']);
    const star = recs[2];
    expect(star).toMatchObject({ process_id: '*', num_process_names: 2, num_process_ids: 2, num_process_args: 2, num_flows: 2 });
    expect(recs[0]).toMatchObject({ process_id: '200', process_args: [['arg0']], num_process_names: 1, num_process_ids: 1 });
  });

  it('writes process_id * for several pids of one executable, and caps the args lists', () => {
    const w = world({ level: 1, argsLimit: 5 });
    for (let i = 0; i < 6; i++) {
      w.exec(exec(300 + i, (20 + i) * 1e9, '/usr/bin/curl', ['curl', `--n=${i}`]));
      tcpClient(w, 20 + i, 300 + i, (20 + i) * 1e9, 42000 + i);
    }
    const [r] = w.flush(T0 + 15_000);
    expect(r).toMatchObject({ process_name: '/usr/bin/curl', process_id: '*', num_process_ids: 6, num_process_args: 6, num_flows: 6 });
    expect(r.process_args).toHaveLength(5);
  });

  it('attributes a flow to the right incarnation of a reused pid', () => {
    const w = world();
    w.exec(exec(42, 1_000e7, '/usr/bin/first', ['first', 'a']));
    w.apply(sock('connect', { cookie: 5, pid: 42, startNs: 1_000e7, lport: 43000 }));
    w.cache.onExit(exit(42, 1_000e7), T0 + 1);
    w.exec(exec(42, 2_000e7, '/usr/bin/second', ['second', 'b'])); // the pid is reused before the flush
    w.apply(sock('close', { cookie: 5, pid: 42, startNs: 1_000e7, lport: 43000, bytesOut: 10, bytesIn: 20 }));
    const [r] = w.flush(T0 + 15_000);
    expect(r).toMatchObject({ process_name: '/usr/bin/first', process_id: '42', process_args: [['a']] });
  });

  it('keeps a 5 ms client resolvable after it exited (retention)', () => {
    const w = world();
    w.exec(exec(77, 3e9, '/tmp/x/client-abc', ['client-abc', 'nonce-1', '', '\\xff']));
    tcpClient(w, 9, 77, 3e9, 44000);
    w.cache.onExit(exit(77, 3e9), T0 + 5);
    w.cache.sweep(T0 + 14_000);
    const [r] = w.flush(T0 + 15_000);
    expect(r).toMatchObject({ process_name: '/tmp/x/client-abc', process_args: [['nonce-1', '', '\\xff']] });
  });

  it('falls back to the task name when the process is unknown, and to - without owner', () => {
    const w = world();
    tcpClient(w, 1, 555, 9e9, 45000);
    w.apply(sock('close', { cookie: 2, pid: 0, comm: '', lport: 45001, bytesOut: 1 }));
    const recs = w.flush(T0 + 15_000);
    expect(recs.map((r) => [r.process_name, r.process_id, r.process_args])).toEqual([['curl', '555', []], ['-', '-', []]]);
    expect(w.stats).toMatchObject({ commOnly: 1, unattributed: 1 });
  });

  it('honours collectProcessPath: Disabled and collectProcessInfo: false', () => {
    const d = world({ path: 'Disabled' });
    d.exec(exec(100, 5e9, '/usr/bin/curl', ['curl', 'secret']));
    tcpClient(d, 1, 100, 5e9, 40000);
    expect(d.flush(T0 + 1000)[0]).toMatchObject({ process_name: 'curl', process_id: '100', process_args: [] });
    const off = world({ info: false, path: 'Enabled' });
    off.exec(exec(100, 5e9, '/usr/bin/curl', ['curl', 'secret']));
    tcpClient(off, 1, 100, 5e9, 40000);
    expect(off.flush(T0 + 1000)[0]).toMatchObject({
      process_name: '-', process_id: '-', process_args: [], num_process_names: 0, num_process_ids: 0, num_process_args: 0,
    });
  });
});

describe('intervals and reporters', () => {
  it('reports a long-lived connection in every interval with that interval\'s bytes', () => {
    const w = world();
    w.exec(exec(100, 5e9, '/usr/bin/psql', ['psql']));
    w.apply(sock('connect', { cookie: 1, lport: 40000, rport: 5432 }));
    w.apply(sock('tcp_stats', { cookie: 1, lport: 40000, rport: 5432, bytesOut: 1000, bytesIn: 5000, segsOut: 2, segsIn: 4 }));
    const [a] = w.flush(T0 + 15_000);
    expect(a).toMatchObject({ bytes_out: 1000, bytes_in: 5000, packets_out: 2, num_flows: 1, num_flows_started: 1, num_flows_completed: 0 });
    const [idle] = w.flush(T0 + 30_000); // open, silent
    expect(idle).toMatchObject({ bytes_out: 0, bytes_in: 0, num_flows: 1, num_flows_started: 0, num_flows_completed: 0 });
    w.apply(sock('close', { cookie: 1, lport: 40000, rport: 5432, bytesOut: 1500, bytesIn: 5000, segsOut: 3, segsIn: 4 }));
    const [c] = w.flush(T0 + 45_000);
    expect(c).toMatchObject({ bytes_out: 500, bytes_in: 0, packets_out: 1, num_flows_completed: 1, start_time: (T0 + 30_000) / 1000, end_time: (T0 + 45_000) / 1000 });
    expect(w.flush(T0 + 60_000)).toEqual([]); // closed connections are gone
  });

  it('counts a connection that predates the agent from the agent\'s start', () => {
    const w = world();
    w.apply(sock('sock_owner', { cookie: 8, pid: 100, lport: 40000, rport: 22, bytesOut: 9999, bytesIn: 8888 }), true);
    w.apply(sock('tcp_stats', { cookie: 8, lport: 40000, rport: 22, bytesOut: 10_100, bytesIn: 8888 }));
    const [r] = w.flush(T0 + 15_000);
    expect(r).toMatchObject({ bytes_out: 101, bytes_in: 0, num_flows_started: 0 });
  });

  it('writes reporter src for a local connect, dst for a local accept: both for a local-local connection', () => {
    const w = world();
    w.exec(exec(10, 1e9, '/usr/bin/client', ['client', 'x']));
    w.exec(exec(20, 2e9, '/usr/sbin/server', ['server']));
    const c = { laddr: '127.0.0.1', raddr: '127.0.0.1' };
    w.apply(sock('connect', { ...c, cookie: 1, pid: 10, startNs: 1e9, lport: 50000, rport: 8080 }));
    w.apply(sock('accept', { ...c, cookie: 2, pid: 20, startNs: 2e9, lport: 8080, rport: 50000 }));
    w.apply(sock('close', { ...c, cookie: 1, pid: 10, startNs: 1e9, lport: 50000, rport: 8080, bytesOut: 1000, bytesIn: 37 }));
    w.apply(sock('close', { ...c, cookie: 2, pid: 20, startNs: 2e9, lport: 8080, rport: 50000, bytesOut: 37, bytesIn: 1000, passive: true }));
    const recs = w.flush(T0 + 15_000);
    expect(recs.map((r) => [r.reporter, r.process_name, r.source_port, r.dest_port, r.bytes_out, r.bytes_in])).toEqual([
      ['src', '/usr/bin/client', 50000, 8080, 1000, 37],
      ['dst', '/usr/sbin/server', 50000, 8080, 37, 1000],
    ]);
    expect(recs.every((r) => r.source_type === 'hep' && r.dest_type === 'hep')).toBe(true);
  });

  it('aggregates UDP per peer from cumulative send and receive counters', () => {
    const w = world();
    w.exec(exec(10, 1e9, '/usr/bin/dig', ['dig', 'example.com']));
    const u = { proto: 'udp' as const, cookie: 3, pid: 10, startNs: 1e9, lport: 53000, raddr: '8.8.8.8', rport: 53 };
    w.apply(sock('udp_send', { ...u, bytesOut: 40, segsOut: 1 }));
    w.apply(sock('udp_recv', { ...u, passive: true, bytesIn: 512, segsIn: 1 }));
    w.apply(sock('udp_send', { ...u, bytesOut: 80, segsOut: 2 }));
    const [r] = w.flush(T0 + 15_000);
    expect(r).toMatchObject({ proto: 'udp', reporter: 'src', bytes_out: 80, bytes_in: 512, packets_out: 2, packets_in: 1, process_name: '/usr/bin/dig' });
    expect(w.flush(T0 + 30_000)).toEqual([]); // no traffic: the peer is not reported again
  });
});

describe('golden flows.log records', () => {
  // One per reporter and aggregation level. PROCFLOW_UPDATE_GOLDEN=1 rewrites them (review the diff).
  for (const level of [0, 1, 2, 3] as AggregationKind[]) {
    for (const reporter of ['src', 'dst'] as const) {
      it(`level ${level}, reporter ${reporter}`, () => {
        const w = world({ level });
        w.exec(exec(4242, 7e9, '/opt/app/bin/worker', ['worker', '--queue', 'jobs', '']));
        const kind = reporter === 'src' ? 'connect' : 'accept';
        const ends = reporter === 'src'
          ? { laddr: '10.0.0.5', lport: 40100, raddr: '192.168.1.20', rport: 5672 }
          : { laddr: '10.0.0.5', lport: 8443, raddr: '203.0.113.9', rport: 51000 };
        w.apply(sock(kind, { cookie: 1, pid: 4242, startNs: 7e9, ...ends }));
        w.apply(sock('close', { cookie: 1, pid: 4242, startNs: 7e9, ...ends, bytesOut: 1234, bytesIn: 567, segsOut: 3, segsIn: 2 }));
        const lines = w.flush(T0 + 15_000).map(renderFlowLog);
        const file = new URL(`./golden/level${level}-${reporter}.json`, import.meta.url);
        const text = `${JSON.stringify(lines, null, 2)}\n`;
        if (process.env.PROCFLOW_UPDATE_GOLDEN === '1') writeFileSync(file, text);
        expect(existsSync(file), `${file.pathname} missing: run with PROCFLOW_UPDATE_GOLDEN=1 and review it`).toBe(true);
        expect(text).toBe(readFileSync(file, 'utf8'));
        // Typing the schema fixes: process_id is a string, process_args joined strings.
        expect(typeof lines[0].process_id).toBe('string');
        expect(lines[0].process_args).toEqual(['--queue jobs ']);
      });
    }
  }
});

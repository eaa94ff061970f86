/**
 * Aggregation throughput and memory (issue: flow logs end to end).
 *
 * Throughput: recorded-style socket events (connect / tcp_stats / close for
 * TCP, cumulative send/recv for UDP) from a few hundred processes go through
 * FlowTable.apply, then one flush + aggregate per simulated interval, on one
 * core. Goal ≥ 500k socket events/s.
 *
 * Memory: RSS with 10k cached processes (exec records with ~200 B argv) and
 * 100k active flows in the table, after GC. Goal ≤ 200 MB.
 *
 * Usage: npm run bench:aggregate -- [--events 2000000] [--throughput-processes 500] [--processes 10000] [--flows 100000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProcessCache } from '../host/cache/process-cache.js';
import { aggregate } from '../host/flows/aggregate.js';
import { processResolver } from '../host/flows/resolve.js';
import { FlowTable } from '../host/flows/table.js';
import type { ExecRecord, SockRecord } from '../host/sources/bpf/decode.js';
import { numOpt, parseArgs } from './lib/stats.js';

function execRecord(pid: number): ExecRecord {
  const name = `svc-${pid % 97}`;
  return {
    kind: 'exec', hook: 'exec', bootNs: pid * 1e6, pid, tid: pid, ppid: 1, uid: 1000, startNs: pid * 1e7, parentStartNs: 0,
    comm: name, path: `/usr/local/bin/${name}`,
    argv: [name, '--config', `/etc/${name}/config.yaml`, '--listen', `0.0.0.0:${8000 + (pid % 1000)}`, '--log-level', 'info', `--id=${pid}`,
      '--data-dir', `/var/lib/${name}/data-${pid % 13}`, '--peer', `10.0.${pid % 250}.${pid % 200}:7000`],
    truncated: false, pathTruncated: false, noMm: false,
  };
}

function sockEvent(kind: SockRecord['kind'], i: number, pid: number, counters: number): SockRecord {
  const udp = kind === 'udp_send' || kind === 'udp_recv';
  return {
    kind, hook: 'tcp_connect', bootNs: 0, cookie: i + 1, pid, tid: pid, startNs: pid * 1e7, uid: 1000, comm: `svc-${pid % 97}`,
    proto: udp ? 'udp' : 'tcp', family: 4, passive: kind === 'accept', laddr: '10.0.0.5', lport: 30000 + (i % 30000),
    raddr: `10.1.${(i >> 8) & 255}.${i & 255}`, rport: udp ? 53 : 443 + (i % 7), fd: 0,
    bytesOut: counters * 100, bytesIn: counters * 1000, segsOut: counters, segsIn: counters * 2,
  };
}

function throughput(events: number, processes: number): void {
  const cache = new ProcessCache({ maxEntries: processes * 2, retentionMs: 60_000 });
  for (let p = 1; p <= processes; p++) cache.onExec(execRecord(p));
  const table = new FlowTable(1_000_000, 'evict-idle');
  const { resolve } = processResolver(cache, 'Enabled');
  // A recording of 100k events (1 connect, 6 stats, 1 close per TCP connection; UDP peers with 8
  // cumulative updates), replayed with cookies shifted per pass so every pass is new connections.
  // Replaying keeps the live heap small, as events from the ring are (2M pre-built events would
  // make the bench mostly measure old-generation GC).
  const recording: SockRecord[] = [];
  for (let i = 0; recording.length < 100_000; i++) {
    const pid = 1 + (i % processes);
    if (i % 4 === 3) {
      for (let k = 1; k <= 8; k++) recording.push(sockEvent(k % 2 ? 'udp_send' : 'udp_recv', i, pid, k));
    } else {
      recording.push(sockEvent('connect', i, pid, 0));
      for (let k = 1; k <= 6; k++) recording.push(sockEvent('tcp_stats', i, pid, k));
      recording.push(sockEvent('close', i, pid, 7));
    }
  }
  const baseCookies = recording.map((r) => r.cookie);
  const passes = Math.ceil(events / recording.length);
  let records = 0;
  let start = 0;
  let n = 0;
  const aggOpts = {
    level: 2 as const, perFlowProcessLimit: 2, perFlowProcessArgsLimit: 5, collectProcessInfo: true, host: 'bench',
    isHostAddress: (a: string) => a === '10.0.0.5', resolve,
  };
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let pass = 0; pass < passes; pass++) {
    const shift = pass * 1_000_000;
    for (let i = 0; i < recording.length; i++) {
      const r = recording[i];
      r.cookie = baseCookies[i] + shift;
      table.apply(r, n++);
    }
    // One flush interval per pass: flush + aggregate + (UDP peers idle out next pass).
    records += aggregate(table.flush(start), start, n, aggOpts).length;
    start = n;
  }
  const stream = { length: n };
  const intervalEvery = recording.length;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(`throughput: ${stream.length.toLocaleString('en-US')} socket events, ${processes.toLocaleString('en-US')} processes, ` +
    `flush+aggregate every ${intervalEvery.toLocaleString('en-US')} events (level 2) → ${records.toLocaleString('en-US')} records`);
  console.log(`  ${Math.round(stream.length / secs).toLocaleString('en-US')} socket events/s wall, ` +
    `${((cpu.user + cpu.system) / stream.length).toFixed(3)} µs CPU per event (one thread; goal ≥ 500,000/s)`);
}

function memory(processes: number, flows: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('memory: run with node --expose-gc for an RSS figure after GC');
    return;
  }
  gc();
  const before = process.memoryUsage();
  const cache = new ProcessCache({ maxEntries: processes * 2, retentionMs: 60_000 });
  for (let p = 1; p <= processes; p++) cache.onExec(execRecord(p));
  const table = new FlowTable(flows * 2, 'evict-idle');
  for (let i = 0; i < flows; i++) {
    const pid = 1 + (i % processes);
    table.apply(sockEvent('connect', i, pid, 0), 0);
    table.apply(sockEvent('tcp_stats', i, pid, 3), 0);
  }
  gc();
  const after = process.memoryUsage();
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
  console.log(`memory: ${processes.toLocaleString('en-US')} cached processes + ${flows.toLocaleString('en-US')} active flows ` +
    `(cache size ${cache.stats().size}, table size ${table.stats().size})`);
  console.log(`  RSS ${mb(after.rss)} (process baseline ${mb(before.rss)}), heap used ${mb(after.heapUsed)} (baseline ${mb(before.heapUsed)}); goal RSS ≤ 200 MB`);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.has('memory-only')) {
  memory(numOpt(opts, 'processes', 10_000), numOpt(opts, 'flows', 100_000));
} else {
  console.log(`aggregate bench; node ${process.version}; ${new Date().toISOString()}`);
  throughput(numOpt(opts, 'events', 2_000_000), numOpt(opts, 'throughput-processes', 500));
  // Memory in a fresh process: the throughput run's garbage would inflate RSS.
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--memory-only', ...process.argv.slice(2)], { encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
}

/**
 * Sink throughput (issue 6): records/s through
 *
 * - the disk spool alone (append in pipeline-sized batches, then read + ack),
 * - the elasticsearch sink (encode → spool → _bulk over undici) to a loopback _bulk responder,
 * - the fluent-forward sink (encode → spool → PackedForward with acks) to a loopback forward server,
 *
 * each destination in its own process, so the figure is this process's work.
 * Prints wall-clock records/s and records per CPU-second of this process
 * (the "one core" figure). Goal ≥ 100k records/s each.
 *
 * Each case first makes --warmup runs (default 1) that are not counted but printed: the first
 * run of a process also pays the JIT compiling the encoders (~0.3 s of CPU for the first ~10k
 * records), a one-time cost, not a per-record one.
 *
 * Usage: npm run bench:sinks -- [--records 200000] [--batch 1000] [--request N] [--runs 3] [--warmup 1] [--fsync] [--only spool|es|fluent]
 * (--batch: records per pipeline write; --request: the sinks' batchMaxRecords, default the sink default)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../host/config/load.js';
import type { FlowRecord } from '../host/flows/record.js';
import { createLogger } from '../host/log.js';
import { createSink } from '../host/sinks/index.js';
import { DiskSpool } from '../host/spool/spool.js';
import { int, median, numOpt, parseArgs } from './lib/stats.js';

const opts = parseArgs(process.argv.slice(2));
const RECORDS = numOpt(opts, 'records', 200_000);
const BATCH = numOpt(opts, 'batch', 1000);
const RUNS = numOpt(opts, 'runs', 3);
const WARMUP = numOpt(opts, 'warmup', 1);
const FSYNC = opts.get('fsync') === 'true';
/** Records per request (the sinks' batchMaxRecords); the sink default when not given. */
const REQUEST = opts.has('request') ? { batchMaxRecords: numOpt(opts, 'request', 1000) } : {};
const log = createLogger('error');

function record(i: number): FlowRecord {
  return {
    id: `bench-${i.toString(36)}`, start_time: 1_795_694_400, end_time: 1_795_694_415, host: 'node-1', action: 'allow', reporter: 'src', proto: 'tcp',
    source_ip: null, source_port: null, source_name: '-', source_name_aggr: 'node-1', source_namespace: '-', source_type: 'hep', source_labels: '-',
    dest_ip: null, dest_port: 443, dest_name: '-', dest_name_aggr: 'pub', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
    dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
    bytes_in: 10_000 + i, bytes_out: 2000 + i, packets_in: 12, packets_out: 9, num_flows: 3, num_flows_started: 2, num_flows_completed: 2,
    process_name: '/usr/bin/curl', process_id: String(4000 + (i % 500)),
    process_args: [['-sS', '--max-time', '5', `https://api.example.com/v1/items/${i % 1000}`], ['-sS', 'https://api.example.com/health']],
    num_process_names: 1, num_process_ids: 1, num_process_args: 2,
  };
}

/** A full GC, when node runs with --expose-gc (npm run bench:sinks does). */
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Runs `fn`, returns wall and CPU (this process) seconds. The heap is collected first (not
 * counted): a run does not pay for the garbage its set-up or an earlier case left (the spool
 * case's items, ~180 MB per run) — only for its own.
 */
async function measure(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function startServer(kind: 'es' | 'fluent'): Promise<{ port: number; stop: () => void }> {
  const script = fileURLToPath(new URL('./lib/sink-servers.js', import.meta.url));
  const child = spawn(process.execPath, [script, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l.split(' ')[1])));
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

const records = Array.from({ length: RECORDS }, (_, i) => record(i));
const batches: FlowRecord[][] = [];
for (let i = 0; i < RECORDS; i += BATCH) batches.push(records.slice(i, i + BATCH));

async function spoolRun(): Promise<{ wall: number; cpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'procflow-bench-spool-'));
  const spool = DiskSpool.open({ dir, maxBytes: 2 ** 31, whenFull: 'block', fsync: FSYNC });
  // Items as the elasticsearch encoder makes them (~900 B).
  const items = batches.map((b) => b.map((r) => ({ id: r.id, data: Buffer.from(`{"index":{"_index":"procflow-flows-2026.11.26","_id":"${r.id}"}}\n${JSON.stringify(r)}\n`) })));
  const m = await measure(async () => {
    for (const b of items) await spool.append(b);
    for (let got = spool.read(BATCH, 5 << 20); got; got = spool.read(BATCH, 5 << 20)) spool.ack(got);
  });
  spool.close();
  rmSync(dir, { recursive: true, force: true });
  return m;
}

async function sinkRun(kind: 'es' | 'fluent'): Promise<{ wall: number; cpu: number }> {
  const server = await startServer(kind);
  const dir = mkdtempSync(join(tmpdir(), 'procflow-bench-sink-'));
  const raw = kind === 'es'
    ? { type: 'elasticsearch', url: `http://127.0.0.1:${server.port}`, ...REQUEST }
    : { type: 'fluent-forward', host: '127.0.0.1', port: server.port, ...REQUEST };
  const config = validateConfig({ sinks: [{ ...raw, spool: { maxSizeMB: 4096, fsync: FSYNC } }] }).sinks[0]!;
  const sink = createSink(config, 0, { dataDir: dir, log });
  const m = await measure(async () => {
    for (const b of batches) await sink.write(b);
    await sink.drained();
  });
  const report = await sink.close();
  server.stop();
  rmSync(dir, { recursive: true, force: true });
  if (report.remaining !== 0 || sink.metrics().sent !== RECORDS) throw new Error(`${kind}: ${report.remaining} records not delivered`);
  return m;
}

const cases: [string, () => Promise<{ wall: number; cpu: number }>][] = [
  ['spool (append + read + ack)', spoolRun],
  ['elasticsearch sink → loopback _bulk', () => sinkRun('es')],
  ['fluent-forward sink → loopback forward', () => sinkRun('fluent')],
];
const only = opts.get('only'); // spool | es | fluent
const selected = cases.filter((_, i) => only === undefined || only === ['spool', 'es', 'fluent'][i]);
console.log(`${int(RECORDS)} records per run, pipeline batches of ${BATCH}, requests of at most ${REQUEST.batchMaxRecords ?? 'the sink default (batchMaxRecords)'} records, ${WARMUP} warm-up + ${RUNS} runs${gc ? '' : ' (no --expose-gc: runs may pay for earlier garbage)'}, spool fsync ${FSYNC ? 'on (per pipeline batch)' : 'off (spool.fsync: false; --fsync for the default)'}; node ${process.version}`);
console.log('case                                     records/s (wall, median)   records per CPU-second (median; runs min–max; warm-up runs)');
for (const [name, run] of selected) {
  const warm: number[] = [];
  for (let i = 0; i < WARMUP; i++) warm.push(RECORDS / (await run()).cpu);
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = await run();
    walls.push(RECORDS / m.wall);
    cpus.push(RECORDS / m.cpu);
  }
  const range = `${int(Math.min(...cpus))}–${int(Math.max(...cpus))}`;
  console.log(`${name.padEnd(40)} ${int(median(walls)).padStart(12)}               ${int(median(cpus)).padStart(12)}   (${range}; warm-up ${warm.map(int).join(', ') || 'none'})`);
}

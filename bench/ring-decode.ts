/**
 * bench/ring-decode — ring buffer read + decode throughput of the agent's read
 * path (RingReader + decodeRecord on a setInterval timer).
 *
 * A synthetic BPF producer (bench/bpf/ringbench.bpf.c) attached to
 * sys_enter_getppid writes `--per-call` records per getppid() of a separate
 * producer process (bench/bpf/build/ringbench-producer) into its own ring.
 * This process only reads and decodes, so its CPU time is the consumer's.
 *
 * For each record shape (small pf_sock, exec-sized pf_exec + ~1 KiB argv) and
 * each poll interval it runs the producer paced at a target rate, then flat
 * out (where the ring overflows and the decoded rate is the consumer's
 * ceiling). Prints records/s decoded, produced, dropped (kernel-side) and
 * consumer CPU µs per record. Figures only: nothing is asserted.
 *
 * usage: node dist/bench/ring-decode.js [--seconds 5] [--per-call 64]
 *        [--intervals 5,1] [--small-rate 500000] [--exec-rate 300000]
 *        [--ring-mb 16] [--shapes small,exec] [--no-flat-out] [--no-raw] [--split-argv]
 *
 * Exec records keep argv as one decoded string split on first use (most exec'd
 * processes never open a connection). By default the bench reads path and comm
 * only; --split-argv also splits argv on every record, the worst case.
 *
 * RAW runs walk the ring and read each record's type only (no decodeRecord):
 * they separate the ring reader's cost from the decoder's.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeRecord } from '../host/sources/bpf/decode.js';
import { BENCH_BUILD, buildBenchHelpers } from './lib/paths.js';
import { RingBench, type RecordShape } from './lib/ringbench.js';
import { int, numOpt, parseArgs } from './lib/stats.js';

/** One measured run. */
export interface RingRun {
  shape: RecordShape;
  intervalMs: number;
  /** Target records/s of the producer; 0 = flat out. */
  targetRate: number;
  seconds: number;
  decoded: number;
  produced: number;
  dropped: number;
  malformed: number;
  calls: number;
  /** Consumer (this process) CPU time, user + system, µs. */
  cpuUs: number;
  /** Bytes of one record as written (header word excluded). */
  recordBytes: number;
  /** The first decoded record matched what the producer wrote. */
  contentOk: boolean;
  /** Ring walk only (header read, no decodeRecord): the reader's own ceiling. */
  raw: boolean;
}

/** Whether exec records' argv is split on every record (--split-argv). */
let splitArgv = false;

/** Filler argv (~1 KiB in total with argv[0]) for the exec-shaped records. */
function fillerArgs(): string[] {
  const args: string[] = [];
  for (let i = 0; args.join(' ').length < 960; i++) args.push(`--bench-option-${String(i).padStart(2, '0')}=value-abcdefghij`);
  return args;
}

function waitExit(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code ?? -1));
  });
}

/** Runs one producer/consumer pass and returns its figures. */
export async function runOnce(
  objectPath: string, shape: RecordShape, intervalMs: number, targetRate: number, seconds: number, perCall: number,
  ringBytes: number, raw = false,
): Promise<RingRun> {
  const producerPath = join(BENCH_BUILD, 'ringbench-producer');
  const filler = fillerArgs();
  const callsPerSec = targetRate === 0 ? 0 : Math.max(1, Math.round(targetRate / perCall));
  const producer = spawn(producerPath, [String(seconds * 1000), String(callsPerSec), ...filler], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  producer.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = waitExit(producer);
  const bench = RingBench.load(objectPath, { tgid: producer.pid!, shape, perCall, ringBytes });
  let decoded = 0;
  let malformed = 0;
  let recordBytes = 0;
  let contentOk = false;
  let checked = false;
  let sink = 0;
  const expectedArgv = [producerPath, String(seconds * 1000), String(callsPerSec), ...filler];
  const onRaw = (dv: DataView, _u8: Uint8Array, off: number, len: number) => {
    decoded++;
    sink += dv.getUint16(off, true) + len;
    if (!checked) {
      checked = true;
      recordBytes = len;
      contentOk = dv.getUint16(off, true) === (shape === 'exec' ? 1 : 8);
    }
  };
  const onRecord = (dv: DataView, u8: Uint8Array, off: number, len: number) => {
    const rec = decodeRecord(dv, u8, off, len);
    if (!rec) {
      malformed++;
      return;
    }
    decoded++;
    // Touch the decoded fields so the work cannot be optimised away.
    if (rec.kind === 'exec') sink += (splitArgv ? rec.argv.length : rec.comm.length) + rec.path.length;
    else if (rec.kind === 'tcp_stats') sink += rec.lport + rec.laddr.length;
    if (!checked) {
      checked = true;
      recordBytes = len;
      contentOk = rec.pid === producer.pid && (shape === 'exec'
        ? rec.kind === 'exec' && rec.path === producerPath && JSON.stringify(rec.argv) === JSON.stringify(expectedArgv)
        : rec.kind === 'tcp_stats' && rec.laddr === '127.0.0.1' && rec.rport === 8080);
    }
  };
  const poll = () => bench.reader.poll(raw ? onRaw : onRecord);
  let cpu0: NodeJS.CpuUsage;
  let st: ReturnType<RingBench['stats']>;
  try {
    const timer = setInterval(poll, intervalMs);
    cpu0 = process.cpuUsage();
    producer.stdin!.end('go\n');
    const code = await exited;
    clearInterval(timer);
    while (bench.reader.pending() > 0 && poll() > 0);
    st = bench.stats();
    if (code !== 0) throw new Error(`producer exited with ${code}`);
  } finally {
    bench.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const m = /calls=(\d+) elapsed_ns=(\d+)/.exec(out);
  if (!m) throw new Error(`producer printed no figures: ${out}`);
  if (sink < 0) console.log(sink);
  return {
    shape, intervalMs, targetRate, seconds: Number(m[2]) / 1e9, decoded, produced: st.produced, dropped: st.dropped,
    malformed, calls: st.calls, cpuUs: cpu.user + cpu.system, recordBytes, contentOk, raw,
  };
}

/** One line of output for a run. */
export function formatRun(r: RingRun): string {
  const target = (r.targetRate === 0 ? 'flat out' : `paced ${int(r.targetRate)}/s`) + (r.raw ? ' RAW' : '');
  return [
    `${r.shape.padEnd(5)} ${String(r.intervalMs).padStart(2)} ms  ${target.padEnd(16)}`,
    `decoded ${int(r.decoded / r.seconds).padStart(9)} rec/s`,
    `produced ${int(r.produced).padStart(10)}`,
    `dropped ${int(r.dropped).padStart(10)}`,
    `decoded ${int(r.decoded).padStart(10)}`,
    `cpu ${(r.cpuUs / Math.max(1, r.decoded)).toFixed(3)} µs/rec`,
    `(${r.recordBytes} B/rec, ${(r.cpuUs / 1e4 / r.seconds).toFixed(0)}% of a CPU${r.malformed ? `, ${r.malformed} malformed` : ''}${r.contentOk ? '' : ', CONTENT MISMATCH'})`,
  ].join('  ');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const seconds = numOpt(opts, 'seconds', 5);
  const perCall = numOpt(opts, 'per-call', 64);
  const ringBytes = numOpt(opts, 'ring-mb', 16) * 1024 * 1024;
  const intervals = (opts.get('intervals') ?? '5,1').split(',').map(Number);
  const shapes = (opts.get('shapes') ?? 'small,exec').split(',') as RecordShape[];
  splitArgv = opts.get('split-argv') !== undefined;
  console.log(`exec records: argv ${splitArgv ? 'split on every record (--split-argv)' : 'decoded, split on first use (not touched here; pass --split-argv for the worst case)'}`);
  const rates: Record<RecordShape, number> = {
    small: numOpt(opts, 'small-rate', 500_000),
    exec: numOpt(opts, 'exec-rate', 300_000),
  };
  const flatOut = opts.get('no-flat-out') === undefined;
  buildBenchHelpers();
  const objectPath = join(BENCH_BUILD, 'ringbench.bpf.o');
  console.log(`ring-decode: ${seconds} s per run, ${perCall} records per getppid(), ring ${ringBytes >> 20} MiB, ` +
    `RingReader + decodeRecord on setInterval; node ${process.version}; ${cpus().length} CPUs; ` +
    `loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const runs: RingRun[] = [];
  for (const shape of shapes) {
    for (const intervalMs of intervals) {
      for (const rate of flatOut ? [rates[shape], 0] : [rates[shape]]) {
        const r = await runOnce(objectPath, shape, intervalMs, rate, seconds, perCall, ringBytes);
        runs.push(r);
        console.log(formatRun(r));
      }
    }
    if (flatOut && opts.get('no-raw') === undefined) {
      const r = await runOnce(objectPath, shape, intervals[0], 0, seconds, perCall, ringBytes, true);
      runs.push(r);
      console.log(formatRun(r));
    }
  }
  const flat = runs.filter((x) => x.targetRate === 0);
  if (flat.length) {
    console.log('\nflat-out runs: the ring overflows on purpose; "decoded rec/s" is then the consumer ceiling, and');
    console.log('produced+dropped per second is the producer ceiling:');
  }
  for (const r of flat) {
    console.log(`  ${r.shape.padEnd(5)} ${r.intervalMs} ms${r.raw ? ' RAW' : '    '}: producer offered ${int((r.produced + r.dropped) / r.seconds)} rec/s ` +
      `(${int(r.calls / r.seconds)} getppid/s), consumer ${r.raw ? 'walked' : 'decoded'} ${int(r.decoded / r.seconds)} rec/s`);
  }
  console.log(`loadavg at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

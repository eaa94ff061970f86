/**
 * bench/net-overhead — what the agent costs a loopback request/response load.
 *
 * Load: bench/bpf/build/netbench (C, built here), 64-byte request, 64-byte
 * reply, one request in flight:
 *   tcp       one persistent connection (TCP_NODELAY)
 *   tcp-conn  a new connection every `--per-conn` requests (default 10)
 *   udp       sendto/recvfrom on one unconnected socket
 * Arms, interleaved A,B,A,B,… `--runs` times per scenario:
 *   A  no agent;
 *   B  bench/agent.js running (BpfCapture with every hook, ring polled every
 *      5 ms), started and READY before the server and client start.
 * Prints every run, median and min–max per arm, and the relative difference
 * of the medians; for B, the hooks attached, the agent's CPU and the records
 * it decoded. Also the load's own CPU per op (client + server rusage, which
 * includes BPF programs run in their syscalls): steadier than ops/s when the
 * machine is shared. Runs during which other BPF programs were loaded are
 * flagged. Figures only: nothing is asserted.
 *
 * usage: node dist/bench/net-overhead.js [--runs 5] [--seconds 3]
 *        [--scenarios tcp,tcp-conn,udp] [--per-conn 10] [--agent-interval-ms 5]
 *        [--pin CPULIST]   (client and server through `taskset -c CPULIST`)
 *        [--no-bpf-stats]  (skip the extra run with kernel.bpf_stats_enabled=1)
 *
 * After the A/B runs of a scenario, one extra B run with BPF stats enabled
 * gives each agent program's runs per op and ns per run: the hook cost
 * itself, which a shared machine's noise does not blur.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AttachedHooks } from './agent.js';
import { foreignBpfPrograms, listPrograms, setBpfStats, type ProgInfo } from './lib/bpfprogs.js';
import { BENCH_BUILD, buildAgentObject, buildBenchHelpers, REPO_ROOT } from './lib/paths.js';
import { int, median, numOpt, parseArgs, pct, spread } from './lib/stats.js';

/** One load shape. */
export interface Scenario {
  name: string;
  proto: 'tcp' | 'udp';
  /** Requests per connection; 0 = one persistent connection. */
  perConn: number;
}

/** Figures of one client run. */
export interface ClientResult {
  ops: number;
  conns: number;
  seconds: number;
  errors: number;
  /** The client's own CPU time (user + system), µs: includes BPF run in its syscalls. */
  cpuUs: number;
}

/** What the agent reported when stopped. */
export interface AgentStats {
  records: Record<string, number>;
  counters: Record<string, { seen: number; dropped: number }>;
  malformed: number;
  cpuUs: number;
  seconds: number;
}

const NETBENCH = () => join(BENCH_BUILD, 'netbench');

/** CPU list the load is pinned to (`--pin`), or undefined. */
let pinCpus: string | undefined;

/** Spawns netbench, through taskset when --pin was given. */
function spawnNetbench(args: string[]): ChildProcess {
  const [cmd, argv] = pinCpus ? ['taskset', ['-c', pinCpus, NETBENCH(), ...args]] : [NETBENCH(), args];
  return spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Line-by-line view of a child's stdout: every line kept, plus a wait for the first matching one. */
class Lines {
  readonly all: string[] = [];
  /** Resolves with the exit code once stdout closed and the process exited. */
  readonly closed: Promise<number | null>;
  private waiters: Array<(line: string) => boolean> = [];

  constructor(private readonly child: ChildProcess, private readonly what: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.all.push(line);
      this.waiters = this.waiters.filter((w) => !w(line));
    });
    this.closed = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  /** The first line (already seen or still to come) for which `pick` returns a value. */
  first<T>(pick: (line: string) => T | undefined): Promise<T> {
    for (const l of this.all) {
      const v = pick(l);
      if (v !== undefined) return Promise.resolve(v);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push((line) => {
        const v = pick(line);
        if (v !== undefined) resolve(v);
        return v !== undefined;
      });
      void this.closed.then((code) => reject(new Error(`${this.what} exited (${code}) before printing what was expected`)));
    });
  }

  /** Sends `signal` (if still running) and waits for the end of output. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.closed;
  }
}

/** A running echo server; stop() resolves with its CPU time in µs. */
async function startServer(proto: Scenario['proto']): Promise<{ port: number; stop: () => Promise<number> }> {
  const child = spawnNetbench(['server', proto]);
  const lines = new Lines(child, 'netbench server');
  const port = await lines.first((l) => (/^port=(\d+)$/.exec(l)?.[1]));
  return {
    port: Number(port),
    stop: async () => {
      await lines.stop();
      return lines.first((l) => (/^cpu_us=(\d+)$/.exec(l)?.[1])).then(Number, () => NaN);
    },
  };
}

async function runClient(s: Scenario, port: number, seconds: number): Promise<ClientResult> {
  const child = spawnNetbench(['client', s.proto, String(port), String(Math.round(seconds * 1000)), String(s.perConn)]);
  const lines = new Lines(child, 'netbench client');
  const code = await lines.closed;
  const out = lines.all.join('\n');
  const m = /ops=(\d+) conns=(\d+) elapsed_ns=(\d+) errors=(\d+) cpu_us=(\d+)/.exec(out);
  if (code !== 0 || !m) throw new Error(`netbench client failed (${code}): ${out}`);
  return {
    ops: Number(m[1]), conns: Number(m[2]), seconds: Number(m[3]) / 1e9, errors: Number(m[4]), cpuUs: Number(m[5]),
  };
}

/** Starts bench/agent.js and resolves once it printed its ready line. */
async function startAgent(intervalMs: number): Promise<{ hooks: AttachedHooks; stop: () => Promise<AgentStats> }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'agent.js'), '--interval-ms', String(intervalMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = new Lines(child, 'bench agent');
  const parse = (l: string) => {
    try {
      return JSON.parse(l) as { type: string; hooks?: AttachedHooks } & AgentStats;
    } catch {
      return undefined;
    }
  };
  const hooks = await lines.first((l) => (parse(l)?.type === 'ready' ? parse(l)!.hooks : undefined));
  return {
    hooks: hooks!,
    stop: async () => {
      await lines.stop();
      return lines.first((l) => (parse(l)?.type === 'stats' ? parse(l) : undefined));
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One run of an arm: returns ops/s and, for B, the agent's report. */
async function runArm(s: Scenario, withAgent: boolean, seconds: number, intervalMs: number): Promise<{
  opsPerSec: number; loadCpuPerOp: number; client: ClientResult; hooks?: AttachedHooks; agent?: AgentStats; foreign: string[];
}> {
  const foreign = foreignBpfPrograms();
  const agent = withAgent ? await startAgent(intervalMs) : undefined;
  await sleep(300); // let the agent settle (or idle the same time in A)
  const server = await startServer(s.proto);
  let client: ClientResult;
  let serverCpuUs = NaN;
  try {
    client = await runClient(s, server.port, seconds);
  } finally {
    serverCpuUs = await server.stop();
  }
  const stats = agent ? await agent.stop() : undefined;
  return {
    opsPerSec: client.ops / client.seconds, loadCpuPerOp: (client.cpuUs + serverCpuUs) / client.ops, client,
    hooks: agent?.hooks, agent: stats, foreign,
  };
}

/**
 * One extra B run with kernel.bpf_stats_enabled=1 (not counted in the medians:
 * the stats add two clock reads per program run). The agent's programs are
 * the ones that appeared while it started. Prints, per program that ran, its
 * runs per op and ns per run, and the total BPF ns per op.
 */
async function statsPass(s: Scenario, seconds: number, intervalMs: number, loadCpuPerOpA: number): Promise<string> {
  const before = new Set(listPrograms().map((p) => p.id));
  const prev = setBpfStats(true);
  if (prev === undefined) return 'bpf stats: kernel.bpf_stats_enabled not writable; skipped';
  try {
    const agent = await startAgent(intervalMs);
    const mine = new Set(listPrograms().filter((p) => !before.has(p.id)).map((p) => p.id));
    await sleep(300);
    const server = await startServer(s.proto);
    const snap = () => new Map(listPrograms().filter((p) => mine.has(p.id)).map((p) => [p.id, p]));
    const s0 = snap();
    let client: ClientResult;
    try {
      client = await runClient(s, server.port, seconds);
    } finally {
      await server.stop();
    }
    const s1 = snap();
    await agent.stop();
    const rows: Array<ProgInfo & { runs: number; ns: number }> = [];
    for (const [id, p1] of s1) {
      const p0 = s0.get(id);
      const runs = p1.runCnt - (p0?.runCnt ?? 0);
      if (runs > 0) rows.push({ ...p1, runs, ns: p1.runTimeNs - (p0?.runTimeNs ?? 0) });
    }
    rows.sort((a, b) => b.ns - a.ns);
    const totalNsPerOp = rows.reduce((t, r) => t + r.ns, 0) / client.ops;
    const lines = rows.map((r) => `     ${r.name.padEnd(28)} ${r.type.padEnd(16)} ${(r.runs / client.ops).toFixed(2).padStart(6)} runs/op ` +
      `${(r.ns / r.runs).toFixed(0).padStart(6)} ns/run ${(r.ns / client.ops).toFixed(0).padStart(6)} ns/op`);
    return [
      `   bpf stats pass (kernel.bpf_stats_enabled=1, ${int(client.ops / client.seconds)} ops/s, not in the medians): ` +
        `agent's programs ran ${totalNsPerOp.toFixed(0)} ns per op = ${(totalNsPerOp / 10 / loadCpuPerOpA).toFixed(1)}% of the ` +
        `load's CPU per op in A (${loadCpuPerOpA.toFixed(2)} µs)`,
      ...lines,
    ].join('\n');
  } finally {
    setBpfStats(prev);
  }
}

function describeAgent(a: AgentStats): string {
  const recs = Object.entries(a.records).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const drops = Object.entries(a.counters).filter(([, c]) => c.dropped > 0).map(([k, c]) => `${k}=${c.dropped}`);
  return `agent ${(a.cpuUs / 1e4 / a.seconds).toFixed(1)}% CPU, records ${recs}` +
    `${drops.length ? `, kernel drops ${drops.join(' ')}` : ''}${a.malformed ? `, malformed ${a.malformed}` : ''}`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const runs = numOpt(opts, 'runs', 5);
  const seconds = numOpt(opts, 'seconds', 3);
  const perConn = numOpt(opts, 'per-conn', 10);
  const intervalMs = numOpt(opts, 'agent-interval-ms', 5);
  pinCpus = opts.get('pin');
  const all: Scenario[] = [
    { name: 'tcp', proto: 'tcp', perConn: 0 },
    { name: 'tcp-conn', proto: 'tcp', perConn },
    { name: 'udp', proto: 'udp', perConn: 0 },
  ];
  const wanted = (opts.get('scenarios') ?? 'tcp,tcp-conn,udp').split(',');
  const scenarios = all.filter((s) => wanted.includes(s.name));
  buildBenchHelpers();
  buildAgentObject();
  console.log(`net-overhead: ${runs} A/B pairs x ${seconds} s per scenario, 64-byte ping-pong on 127.0.0.1; ` +
    `agent polls every ${intervalMs} ms; load ${pinCpus ? `pinned to CPU ${pinCpus}` : 'not pinned'}; node ${process.version}; ${cpus().length} CPUs; ` +
    `loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  let hooksPrinted = false;
  let foreignRuns = 0;
  const summary: string[] = [];
  for (const s of scenarios) {
    const label = s.proto === 'tcp' && s.perConn > 0 ? `tcp, new connection every ${s.perConn} requests` : s.name === 'tcp' ? 'tcp, one persistent connection' : 'udp, sendto/recvfrom';
    console.log(`\n== ${s.name}: ${label}`);
    const arms: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const cpu: Record<'A' | 'B', number[]> = { A: [], B: [] };
    for (let i = 1; i <= runs; i++) {
      for (const arm of ['A', 'B'] as const) {
        const r = await runArm(s, arm === 'B', seconds, intervalMs);
        if (r.hooks && !hooksPrinted) {
          hooksPrinted = true;
          const on = Object.entries(r.hooks).filter(([, v]) => v).map(([k, v]) => `${k} (${v})`);
          const off = Object.entries(r.hooks).filter(([, v]) => !v).map(([k]) => k);
          console.log(`   B arm hooks attached: ${on.join(', ') || 'none'}`);
          console.log(`   B arm hooks NOT attached: ${off.join(', ') || 'none'}`);
        }
        arms[arm].push(r.opsPerSec);
        cpu[arm].push(r.loadCpuPerOp);
        if (r.foreign.length) foreignRuns++;
        const extra = r.agent ? `  ${describeAgent(r.agent)}` : '';
        const conns = s.perConn > 0 ? `  ${int(r.client.conns / r.client.seconds)} conn/s` : '';
        const errs = r.client.errors ? `  ${r.client.errors} errors` : '';
        const foreign = r.foreign.length ? `  [${r.foreign.length} foreign BPF progs loaded]` : '';
        console.log(`   run ${i} ${arm}  ${int(r.opsPerSec).padStart(8)} ops/s  load CPU ${r.loadCpuPerOp.toFixed(2)} µs/op` +
          `${conns}${errs}${extra}${foreign}`);
      }
    }
    const line = (arm: 'A' | 'B') => {
      const { min, max } = spread(arms[arm]);
      return `${arm === 'A' ? 'A (no agent)' : 'B (agent)   '} median ${int(median(arms[arm])).padStart(8)} ops/s  (min–max ${int(min)}–${int(max)})`;
    };
    const diff = median(arms.B) / median(arms.A) - 1;
    const cpuDiff = median(cpu.B) / median(cpu.A) - 1;
    const cpuLine = (arm: 'A' | 'B') => `${median(cpu[arm]).toFixed(2)} µs/op (${spread(cpu[arm]).min.toFixed(2)}–${spread(cpu[arm]).max.toFixed(2)})`;
    const text = [
      `   ${line('A')}`, `   ${line('B')}`, `   B vs A (medians): ${pct(diff)} ops/s`,
      `   load CPU (client+server, BPF in their syscalls included): A ${cpuLine('A')}, B ${cpuLine('B')}: ${pct(cpuDiff)}`,
    ];
    console.log(text.join('\n'));
    let bpfNote = '';
    if (opts.get('no-bpf-stats') === undefined) {
      const out = await statsPass(s, seconds, intervalMs, median(cpu.A));
      console.log(out);
      bpfNote = /ran (\d+) ns per op = ([^ ]+)/.exec(out)?.slice(1).join(' ns/op BPF, ') ?? '';
    }
    summary.push(`${s.name.padEnd(9)} A ${int(median(arms.A)).padStart(8)}  B ${int(median(arms.B)).padStart(8)}  ${pct(diff).padStart(6)} ops/s   ` +
      `load CPU/op A ${median(cpu.A).toFixed(2)} µs  B ${median(cpu.B).toFixed(2)} µs  ${pct(cpuDiff)}` +
      `${bpfNote ? `   agent's programs ${bpfNote} of A's CPU/op` : ''}`);
  }
  console.log(`\nsummary (median ops/s, B vs A):\n  ${summary.join('\n  ')}`);
  if (foreignRuns) {
    console.log(`WARNING: in ${foreignRuns} runs other BPF programs were loaded (both arms): the A arm was not BPF-free; ` +
      `see \`bpftool prog list\`.`);
  }
  console.log(`loadavg at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

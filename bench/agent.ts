/**
 * bench/agent — the agent's capture loop, stripped to what costs: BpfCapture
 * with every hook (hooks=auto), ring polled and decoded every `--interval-ms`
 * (5 ms, like `procflow run`), records counted by kind. Used as the B arm of
 * bench/net-overhead.
 *
 * Protocol (stdout, one JSON object per line):
 *   {"type":"ready","hooks":{hook: "attach types" | null}}  once attached
 *   {"type":"stats","records":{kind:n},"counters":{...},"malformed":n,"cpuUs":n,"seconds":n}
 *       on SIGTERM/SIGINT, after a last poll; cpuUs and seconds are counted
 *       from the ready line (startup excluded).
 * Logs (pino) go to stderr at level PROCFLOW_LOG_LEVEL (default warn).
 *
 * usage: node dist/bench/agent.js [--interval-ms 5] [--object bpf/build/procflow.bpf.o]
 */
import { readKernelInfo } from '../host/kernel/features.js';
import { createLogger } from '../host/log.js';
import { startPump } from '../host/sources/bpf/pump.js';
import { BpfCapture } from '../host/sources/bpf/loader.js';
import { numOpt, parseArgs } from './lib/stats.js';

/** What the ready line carries: per hook, its attach types, or null when nothing attached. */
export type AttachedHooks = Record<string, string | null>;

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const intervalMs = numOpt(opts, 'interval-ms', 5);
  const log = createLogger(process.env.PROCFLOW_LOG_LEVEL ?? 'warn');
  const kernel = readKernelInfo();
  const capture = BpfCapture.start(
    { hooks: 'auto', objectPath: opts.get('object'), ignoreTgid: kernel.hostPidNs ? process.pid : 0 }, log,
  );
  const hooks: AttachedHooks = {};
  for (const h of capture.hooks) hooks[h.hook] = h.chosen ? h.attachTypes.join(',') : null;
  const records: Record<string, number> = {};
  const pollAll = (max?: number) => capture.poll((rec) => { records[rec.kind] = (records[rec.kind] ?? 0) + 1; }, max);
  const pump = startPump(pollAll, { intervalMs }); // the agent's own pump
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  process.stdout.write(`${JSON.stringify({ type: 'ready', hooks })}\n`);
  const stop = () => {
    pump.stop();
    while (pollAll() > 0);
    const cpu = process.cpuUsage(cpu0);
    const stats = {
      type: 'stats', records, counters: capture.counters(), malformed: capture.malformed,
      cpuUs: cpu.user + cpu.system, seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    };
    capture.close();
    process.stdout.write(`${JSON.stringify(stats)}\n`, () => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();

/**
 * `procflow run`: the agent. Starts the capture, snapshots the processes and
 * sockets already present, then pumps events until SIGINT/SIGTERM, logging
 * a summary each interval. (Flow aggregation and shipping build on this.)
 */
import type { Logger } from '../log.js';
import { readKernelInfo } from '../kernel/features.js';
import type { HookMode } from '../sources/bpf/hooks.js';
import { BpfCapture } from '../sources/bpf/loader.js';
import { startPump } from '../sources/bpf/pump.js';
import { takeSnapshot } from '../sources/snapshot.js';

/** Options of `procflow run`. */
export interface RunOptions {
  hooks: HookMode;
  argsCap?: number;
  /** Summary interval in ms (default 15 s). */
  intervalMs?: number;
  /** Stop after this many ms (tests); default: until a signal. */
  durationMs?: number;
}

/** Runs the agent until stopped; resolves with the exit code. */
export async function runAgent(opts: RunOptions, log: Logger): Promise<number> {
  const kernel = readKernelInfo();
  log.info(
    { hostPidNs: kernel.hostPidNs },
    kernel.hostPidNs
      ? 'host PID namespace: running processes are read from the BPF task iterator (/proc as fallback)'
      : 'not in the host PID namespace: /proc is not used for BPF pids; running processes come from the BPF task iterator, else they are reported by task name with empty args',
  );
  const capture = BpfCapture.start({ hooks: opts.hooks, argsCap: opts.argsCap, ignoreTgid: kernel.hostPidNs ? process.pid : 0 }, log);
  try {
    for (const h of capture.hooks) {
      if (h.chosen) log.info({ hook: h.hook, family: h.chosen, attach: h.attachTypes, why: h.reason }, 'hook attached');
    }
    capture.requireExec();
    const counts: Record<string, number> = {};
    const count = (kind: string) => { counts[kind] = (counts[kind] ?? 0) + 1; };
    takeSnapshot(capture, log);
    await new Promise<void>((resolve) => {
      const pump = startPump((max) => capture.poll((rec) => count(rec.kind), max));
      const summary = setInterval(() => {
        log.info({ events: { ...counts }, hooks: capture.counters(), malformed: capture.malformed }, 'interval summary');
        for (const k of Object.keys(counts)) delete counts[k];
      }, opts.intervalMs ?? 15_000);
      const stop = () => {
        pump.stop();
        clearInterval(summary);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (opts.durationMs !== undefined) setTimeout(stop, opts.durationMs).unref();
    });
    log.info({ hooks: capture.counters() }, 'stopping');
    return 0;
  } finally {
    capture.close();
  }
}

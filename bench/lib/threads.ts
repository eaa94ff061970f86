/** CPU time per thread of this process, from /proc (Linux), and a timed pass over batches. */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ns used so far by each thread of this process (/proc schedstat). */
export function threadCpuNs(): Map<string, number> {
  return new Map(readdirSync('/proc/self/task').map((t) => {
    try {
      return [t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0])] as const;
    } catch {
      return [t, 0] as const; // a thread that ended meanwhile
    }
  }));
}

/** Per-thread CPU ns between two threadCpuNs() readings: this thread's, and the others' sorted busiest first. */
export function threadDelta(before: Map<string, number>, after: Map<string, number>): { main: number; others: number[] } {
  const used = [...after].map(([t, ns]) => [t, ns - (before.get(t) ?? 0)] as const);
  return {
    main: used.find(([t]) => t === String(process.pid))?.[1] ?? 0,
    others: used.filter(([t]) => t !== String(process.pid)).map(([, ns]) => ns).sort((a, b) => b - a),
  };
}

/** One timed pass over batches: wall-clock throughput and CPU per flow. */
export interface Run {
  flowsPerSec: number;
  /** CPU µs per flow over all threads of the process. */
  cpuUsPerFlow: number;
  /** CPU µs per flow of this (the host's) thread, and of the busiest other thread (the plugin worker that ran). */
  mainUsPerFlow: number;
  workerUsPerFlow: number;
}

/** Runs `run` on each batch in turn (awaited) and measures the pass. */
export async function measureBatches<T>(run: (batch: T[]) => Promise<unknown> | unknown, batches: T[][]): Promise<Run> {
  const th0 = threadCpuNs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const b of batches) await run(b);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const th = threadDelta(th0, threadCpuNs());
  const n = batches.reduce((x, b) => x + b.length, 0);
  return { flowsPerSec: (n * 1000) / ms, cpuUsPerFlow: (cpu.user + cpu.system) / n, mainUsPerFlow: th.main / 1000 / n, workerUsPerFlow: (th.others[0] ?? 0) / 1000 / n };
}

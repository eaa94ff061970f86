/** CPU time per thread of this process, from /proc (Linux). */
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

/**
 * How fast this machine's core is right now. On a shared VM the same code
 * runs at very different speeds minutes or even a second apart (on the 2-vCPU
 * VM these figures come from, this loop took from 23.4 to 80.7 ms within one
 * benchmark run, with nothing else running): a benchmark that measures the
 * reference next to each of its rounds can tell a slow phase of the machine
 * from slow code.
 */
import { availableParallelism } from 'node:os';

let sink = 0;

/**
 * CPU ms this process spends on a fixed piece of pure-JS work (arithmetic
 * over a 32 KiB array, about 25 ms at this VM's full speed). Its result is
 * kept so the work cannot be optimised away.
 */
export function referenceMs(): number {
  const a = new Float64Array(4096);
  const t0 = process.cpuUsage();
  let h = 0;
  for (let r = 0; r < 2600; r++) {
    for (let i = 0; i < 4096; i++) {
      a[i] = a[i] * 1.0000001 + (i ^ r);
      h = (h + (a[i] | 0)) | 0;
    }
  }
  const c = process.cpuUsage(t0);
  sink ^= h;
  return (c.user + c.system) / 1000;
}

/** The CPUs this process may run on (1 under `taskset -c N`). */
export function coresAvailable(): number {
  return availableParallelism();
}

/** A timed round with the reference measured right before and right after it. */
export interface PhasedRound<T> {
  round: T;
  refBefore: number;
  refAfter: number;
}

/**
 * Rounds run while the machine was at full speed: the reference before and
 * after each within `tolerance` of the fastest reference of the run.
 */
export function fullSpeedRounds<T>(rounds: readonly PhasedRound<T>[], tolerance = 0.15): { fastestRef: number; slowestRef: number; rounds: T[] } {
  const refs = rounds.flatMap((r) => [r.refBefore, r.refAfter]);
  const fastestRef = Math.min(...refs);
  const limit = fastestRef * (1 + tolerance);
  return {
    fastestRef,
    slowestRef: Math.max(...refs),
    rounds: rounds.filter((r) => r.refBefore <= limit && r.refAfter <= limit).map((r) => r.round),
  };
}

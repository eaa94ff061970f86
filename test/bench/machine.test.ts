/** The benchmarks' machine-phase filter: which rounds ran at the machine's full speed. */
import { describe, expect, it } from 'vitest';
import { fullSpeedRounds, referenceMs } from '../../bench/lib/machine.js';

describe('fullSpeedRounds', () => {
  it('keeps a round only when the reference before and after it is within the tolerance of the fastest', () => {
    const rounds = [
      { round: 'a', refBefore: 25, refAfter: 26 },
      { round: 'b', refBefore: 28, refAfter: 52 }, // slowed down during the round
      { round: 'c', refBefore: 50, refAfter: 28 },
      { round: 'd', refBefore: 28.7, refAfter: 24 },
    ];
    expect(fullSpeedRounds(rounds, 0.2)).toEqual({ fastestRef: 24, slowestRef: 52, rounds: ['a', 'd'] });
    expect(fullSpeedRounds(rounds, 0.05).rounds).toEqual([]);
  });

  it('measures the reference as CPU time of real work', () => {
    const ms = referenceMs();
    expect(ms).toBeGreaterThan(1);
  });
});

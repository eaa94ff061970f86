import { describe, expect, it } from 'vitest';
import { startPump } from '../../../host/sources/bpf/pump.js';
import { waitFor } from '../../helpers/kernel.js';

describe('startPump', () => {
  it('drains a burst at once and then waits for the timer', async () => {
    const sizes = [8, 8, 8, 3, 8];
    let calls = 0;
    // A 60 s interval: only the burst path can explain repeated polls before the deadline.
    const pump = startPump((max) => {
      expect(max).toBe(8);
      return sizes[calls++] ?? 0;
    }, { intervalMs: 60_000, idleMaxMs: 60_000, batch: 8 });
    try {
      expect(await waitFor(() => calls >= 4, 2000)).toBe(true);
      // The 4th poll returned less than a batch: the pump stops draining until the next tick.
      await new Promise((r) => setImmediate(r));
      expect(calls).toBe(4);
    } finally {
      pump.stop();
    }
  });

  it('stops polling when stopped', async () => {
    let calls = 0;
    const pump = startPump(() => { calls++; return 8; }, { intervalMs: 60_000, idleMaxMs: 60_000, batch: 8 });
    expect(await waitFor(() => calls >= 3, 2000)).toBe(true);
    pump.stop();
    const at = calls;
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(at);
  });
});

/**
 * Drives a ring poll. While records flow it polls every `intervalMs`, and
 * again at once (setImmediate) while each poll returns a full batch, so a
 * burst drains without waiting for the timer. While the ring is idle the
 * interval doubles up to `idleMaxMs`: fewer wakeups that preempt the host's
 * own work (a 16 MiB ring holds > 40 ms of exec records at the decode ceiling).
 */

/** A running pump. */
export interface Pump {
  /** Stops polling (a final poll is the caller's choice). */
  stop(): void;
}

/** Pump timing. */
export interface PumpOptions {
  /** Poll interval while records arrive (default 5 ms). */
  intervalMs?: number;
  /** Longest interval while idle (default 20 ms). */
  idleMaxMs?: number;
  /** Records per poll call (default 4096). */
  batch?: number;
}

/** Starts pumping `poll`, which returns how many records it handed out (at most its argument). */
export function startPump(poll: (maxRecords: number) => number, options: PumpOptions = {}): Pump {
  const { intervalMs = 5, idleMaxMs = 20, batch = 4096 } = options;
  let stopped = false;
  let delay = intervalMs;
  let immediate: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    immediate = undefined;
    timer = undefined;
    if (stopped) return;
    const n = poll(batch);
    if (n >= batch) {
      delay = intervalMs;
      immediate = setImmediate(tick);
      return;
    }
    delay = n > 0 ? intervalMs : Math.min(delay * 2, idleMaxMs);
    timer = setTimeout(tick, delay);
  };
  immediate = setImmediate(tick); // whatever queued up before the pump started
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

/**
 * Drives a ring poll: every `intervalMs` while traffic is light, and again at
 * once (setImmediate) while each poll returns a full batch, so a burst is
 * drained without waiting for the timer and an idle ring costs one poll per
 * interval.
 */

/** A running pump. */
export interface Pump {
  /** Stops polling (a final poll is the caller's choice). */
  stop(): void;
}

/** Starts pumping `poll`, which returns how many records it handed out (at most `batch`). */
export function startPump(poll: (maxRecords: number) => number, intervalMs = 5, batch = 4096): Pump {
  let stopped = false;
  let immediate: NodeJS.Immediate | undefined;
  const drain = () => {
    immediate = undefined;
    if (!stopped && poll(batch) >= batch) immediate = setImmediate(drain);
  };
  const timer = setInterval(() => {
    if (!immediate) drain();
  }, intervalMs);
  immediate = setImmediate(drain); // whatever queued up before the pump started
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

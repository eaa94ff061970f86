/**
 * Turns a connection's owner (pid + start time from the kernel) into what the
 * record shows: the full path and args when known and wanted; otherwise the
 * task name (comm) with empty args, the seed's floor; `-` when nothing is
 * known. Owners the kernel did not know (pid 0) are counted.
 */
import type { ProcessCache } from '../cache/process-cache.js';
import type { CollectProcessPath } from '../config/settings.js';
import type { ProcessView } from './aggregate.js';
import type { ConnOwner } from './table.js';

/** Counters of attribution outcomes. */
export interface AttributionStats {
  /** Owner found in the process cache. */
  resolved: number;
  /** Owner pid known, process not in the cache: reported by task name. */
  commOnly: number;
  /** No owner (kernel sockets, connections whose owner exited before the agent started). */
  unattributed: number;
}

/** A resolver plus its counters. */
export function processResolver(cache: ProcessCache, collectProcessPath: CollectProcessPath) {
  const stats: AttributionStats = { resolved: 0, commOnly: 0, unattributed: 0 };
  const resolve = (owner: ConnOwner): ProcessView => {
    if (owner.pid === 0) {
      stats.unattributed++;
      return { name: owner.comm || '-', pid: undefined, args: [] };
    }
    const p = cache.lookup(owner.pid, owner.startNs || undefined, owner.atNs || undefined);
    if (!p) {
      stats.commOnly++;
      return { name: owner.comm || '-', pid: owner.pid, args: [] };
    }
    stats.resolved++;
    if (collectProcessPath === 'Disabled') return { name: p.comm || owner.comm || '-', pid: owner.pid, args: [] };
    return { name: p.path || p.comm || owner.comm || '-', pid: owner.pid, args: p.args };
  };
  return { resolve, stats };
}

/**
 * The startup snapshot: processes and sockets that existed before the agent.
 * First choice is the BPF task / task_file iterators (from the kernel, works
 * without the host PID namespace, 10× faster than /proc); /proc is the
 * fallback, and only when it is the host's PID namespace.
 */
import type { Logger } from '../log.js';
import type { ExecRecord, SockRecord } from './bpf/decode.js';
import type { BpfCapture } from './bpf/loader.js';
import { snapshotProc } from './procfs/snapshot.js';

/** What the snapshot found and where it came from. */
export interface StartupSnapshot {
  source: 'bpf-iterator' | 'proc' | 'none';
  processes: ExecRecord[];
  sockets: SockRecord[];
  /** Why the iterator was not used, when it was not. */
  fallbackReason?: string;
}

/** Takes the snapshot, saying which source served it. */
export function takeSnapshot(capture: BpfCapture, log: Logger): StartupSnapshot {
  const processes: ExecRecord[] = [];
  const sockets: SockRecord[] = [];
  try {
    capture.runIterator('iter_task', (r) => { if (r.kind === 'task') processes.push(r); });
    capture.runIterator('iter_task_file', (r) => { if (r.kind === 'sock_owner') sockets.push(r); });
    log.info({ processes: processes.length, sockets: sockets.length }, 'startup snapshot from BPF iterators (kernel view, host pids)');
    return { source: 'bpf-iterator', processes, sockets };
  } catch (err) {
    const reason = (err as Error).message;
    if (!capture.kernel.hostPidNs) {
      log.warn({ reason }, 'no startup snapshot: iterators failed and /proc is not the host PID namespace; earlier processes will be reported by task name with empty args');
      return { source: 'none', processes: [], sockets: [], fallbackReason: reason };
    }
    const snap = snapshotProc({ hostPidNs: true });
    log.info({ processes: snap.processes.length, sockets: snap.sockets.length, reason }, 'startup snapshot from /proc (iterators unavailable)');
    return { source: 'proc', ...snap, fallbackReason: reason };
  }
}

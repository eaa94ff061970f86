/**
 * Lists BPF programs loaded by someone else (another tool or test on the same
 * machine): they run in both arms of an A/B comparison and blur it, so the
 * benchmarks print them. Uses `bpftool prog list -j`; empty when bpftool is
 * missing.
 */
import { execFileSync } from 'node:child_process';

/** Program types that run on the hot paths a benchmark load goes through. */
const HOT_TYPES = new Set([
  'tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable', 'kprobe', 'perf_event', 'cgroup_sock', 'cgroup_sock_addr',
  'sock_ops', 'cgroup_skb', 'sched_cls', 'sched_act', 'xdp', 'socket_filter', 'sk_msg', 'sk_skb',
]);

/** Names of currently loaded programs of hot-path types (tracing programs other than iterators included). */
export function foreignBpfPrograms(): string[] {
  let out: string;
  try {
    out = execFileSync('bpftool', ['prog', 'list', '-j'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const progs = JSON.parse(out) as Array<{ type: string; name?: string }>;
  return progs
    .filter((p) => HOT_TYPES.has(p.type) || (p.type === 'tracing' && !(p.name ?? '').startsWith('iter')))
    .map((p) => p.name ?? `(${p.type})`);
}

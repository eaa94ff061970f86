/**
 * What BPF programs are loaded, and what they cost, as `bpftool prog list -j`
 * reports it. Other tools or tests on the same machine may have programs on
 * the hot paths: they run in both arms of an A/B comparison and blur it, so
 * the benchmarks print them. With kernel.bpf_stats_enabled=1 the kernel
 * counts runs and run time per program, which measures hook cost without the
 * noise of a shared machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** Program types that run on the hot paths a benchmark load goes through. */
const HOT_TYPES = new Set([
  'tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable', 'kprobe', 'perf_event', 'cgroup_sock', 'cgroup_sock_addr',
  'sock_ops', 'cgroup_skb', 'sched_cls', 'sched_act', 'xdp', 'socket_filter', 'sk_msg', 'sk_skb',
]);

/** One loaded program; counters are 0 unless BPF stats are enabled. */
export interface ProgInfo {
  id: number;
  name: string;
  type: string;
  runCnt: number;
  runTimeNs: number;
}

/** Every loaded program ([] when bpftool is missing or fails). */
export function listPrograms(): ProgInfo[] {
  let out: string;
  try {
    out = execFileSync('bpftool', ['prog', 'list', '-j'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const progs = JSON.parse(out) as Array<{ id: number; type: string; name?: string; run_cnt?: number; run_time_ns?: number }>;
  return progs.map((p) => ({
    id: p.id, name: p.name ?? `(${p.type})`, type: p.type, runCnt: p.run_cnt ?? 0, runTimeNs: p.run_time_ns ?? 0,
  }));
}

/** Names of loaded programs of hot-path types (tracing programs other than iterators included). */
export function foreignBpfPrograms(): string[] {
  return listPrograms()
    .filter((p) => HOT_TYPES.has(p.type) || (p.type === 'tracing' && !p.name.startsWith('iter')))
    .map((p) => p.name);
}

const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/** Sets kernel.bpf_stats_enabled; returns the previous value (undefined if it cannot be read). */
export function setBpfStats(on: boolean): boolean | undefined {
  let prev: boolean | undefined;
  try {
    prev = readFileSync(STATS_SYSCTL, 'utf8').trim() === '1';
    writeFileSync(STATS_SYSCTL, on ? '1' : '0');
  } catch {
    return prev;
  }
  return prev;
}

/**
 * The batch a new plugin instance is warmed with, in its worker, before it
 * takes pipeline batches: V8 compiles WebAssembly functions on their first
 * call, and a first 1000-flow batch that also pays for compiling the
 * plugin's code can miss the 250 ms deadline on a busy host. Harmless values
 * only (no secrets: a redactor's counters must not move), in the shapes the
 * pipeline sends: single and aggregated endpoints, labels and policies maps,
 * several argument lists, TCP statistics.
 */
import type { FlowRecord } from '../flows/record.js';

function flow(i: number, over: Partial<FlowRecord>): FlowRecord {
  return {
    id: `warmup-${i}`, start_time: 1700000000, end_time: 1700000015, host: 'warmup', action: 'allow', reporter: i % 2 ? 'dst' : 'src', proto: 'tcp',
    source_ip: '10.0.0.1', source_port: 40000 + i, source_name: '-', source_name_aggr: 'pvt', source_namespace: '-', source_type: 'net', source_labels: '-',
    dest_ip: '10.0.0.2', dest_port: 443, dest_name: '-', dest_name_aggr: 'pvt', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
    dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
    bytes_in: 1000 + i, bytes_out: 2000 + i, packets_in: 10, packets_out: 12, num_flows: 1, num_flows_started: 1, num_flows_completed: 1,
    process_name: '/usr/bin/curl', process_id: String(1000 + i), process_args: [['-sS', '--retry', '3', 'https://example.com/index.html']],
    num_process_names: 1, num_process_ids: 1, num_process_args: 1,
    ...over,
  };
}

/** Sixteen flows of varied shape and no secrets. */
export const WARMUP_FLOWS: readonly FlowRecord[] = [
  ...Array.from({ length: 8 }, (_, i) => flow(i, {})),
  flow(8, { source_ip: null, source_port: null, process_name: '*', process_id: '*', process_args: [['--verbose'], ['-h', 'db.internal', '-p', '5432']], num_process_names: 2, num_process_ids: 2, num_process_args: 2 }),
  flow(9, { process_name: '-', process_id: '-', process_args: [] }),
  flow(10, { source_labels: { app: 'web', tier: 'frontend' }, dest_labels: { app: 'db' }, policies: { all_policies: ['0|default|default.allow|allow|0'], enforced_policies: [], pending_policies: [] } }),
  flow(11, { proto: 'udp', dest_port: 53, process_name: '/usr/sbin/unbound', process_args: [['-d', '-c', '/etc/unbound/unbound.conf']] }),
  flow(12, { process_args: [['bash', '-c', 'echo "warm up" && exit 0'], ['x'.repeat(300)]] }),
  flow(13, { bytes_in: 5_000_000_000, bytes_out: 0, dest_ip: 'fd00::2', source_ip: 'fd00::1' }),
  flow(14, { tcp_mean_send_congestion_window: 10, tcp_min_send_congestion_window: 10, tcp_mean_smooth_rtt: 100, tcp_max_smooth_rtt: 200, tcp_mean_min_rtt: 50, tcp_max_min_rtt: 60, tcp_mean_mss: 1460, tcp_min_mss: 1460, tcp_total_retransmissions: 0, tcp_lost_packets: 0, tcp_unrecovered_to: 0 }),
  flow(15, { process_name: 'kworker/0:1', process_args: [['ünïcödé', '\\xff']] }),
];

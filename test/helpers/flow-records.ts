/** Flow records for sink tests: realistic fields, a unique id each. */
import type { FlowRecord } from '../../host/flows/record.js';

/** Record number `i` of a run (`prefix` makes ids unique across runs). */
export function flowRecord(i: number, prefix = 'r', over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: `${prefix}-${i}`,
    start_time: 1_795_694_400 + i * 15, end_time: 1_795_694_415 + i * 15,
    host: 'node-1', action: 'allow', reporter: i % 2 === 0 ? 'src' : 'dst', proto: i % 3 === 0 ? 'udp' : 'tcp',
    source_ip: '10.0.0.5', source_port: null, source_name: '-', source_name_aggr: 'node-1', source_namespace: '-', source_type: 'hep', source_labels: '-',
    dest_ip: '93.184.216.34', dest_port: 443, dest_name: '-', dest_name_aggr: 'pub', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
    dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
    bytes_in: 1000 + i, bytes_out: 2000 + i, packets_in: 3, packets_out: 4, num_flows: 1, num_flows_started: 1, num_flows_completed: 1,
    process_name: '/usr/bin/curl', process_id: String(4000 + (i % 1000)), process_args: [['-s', `https://example.com/${prefix}/${i}`, '--header', 'X: "quoted" ü']],
    num_process_names: 1, num_process_ids: 1, num_process_args: 1,
    ...over,
  };
}

/** `n` records numbered from `from`. */
export function flowRecords(n: number, prefix = 'r', from = 0): FlowRecord[] {
  return Array.from({ length: n }, (_, k) => flowRecord(from + k, prefix));
}

/** Resolves once `cond()` is true; rejects with `what` after `timeoutMs`. Polls every 10 ms. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The id of a record from its flows.log line (which carries no id): flowRecord puts PREFIX/I in its first argument list. */
export function idFromLine(line: { process_args: string[] }): string {
  const m = /https:\/\/example\.com\/(\S+)\/(\d+)/.exec(line.process_args[0] ?? '');
  return m ? `${m[1]}-${m[2]}` : '?';
}

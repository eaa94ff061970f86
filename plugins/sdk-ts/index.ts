// procflow plugin SDK for TypeScript (componentize-js). An author writes one
// function over a batch and imports helpers from "procflow-plugin-sdk":
//   export function enrich(flows: Flow[]): Flow[] | void      (enricher)
//   export function redact(flows: Flow[]): Flow[] | void      (redactor: only process fields count)
//   export function format(flows: Flow[]): Array<string | Uint8Array>   (formatter)
// The SDK hides the batch encoding (JSON for JavaScript plugins: the engine
// parses it natively) and the host world's imports. No WASI: no console,
// Date.now or Math.random — use log() and the host lookups.
import * as host from 'procflow:plugin/host@0.1.0';
import type { Process } from 'procflow:plugin/types@0.1.0';

/**
 * One flow of a batch, with the flow log field names (the batch form of the
 * WIT record `procflow:plugin/types.flow`, see wit/plugin-0.1.0/ENCODING.md).
 */
export interface Flow {
  id: string;
  start_time: number;
  end_time: number;
  host: string;
  action: string;
  reporter: string;
  proto: string;
  source_ip: string | null;
  source_port: number | null;
  source_name: string;
  source_name_aggr: string;
  source_namespace: string;
  source_type: string;
  source_labels: string | Record<string, string>;
  dest_ip: string | null;
  dest_port: number | null;
  dest_name: string;
  dest_name_aggr: string;
  dest_namespace: string;
  dest_type: string;
  dest_labels: string | Record<string, string>;
  dest_service_name: string;
  dest_service_namespace: string;
  dest_service_port: string;
  policies: string | { all_policies: string[]; enforced_policies: string[]; pending_policies: string[] };
  bytes_in: number;
  bytes_out: number;
  packets_in: number;
  packets_out: number;
  num_flows: number;
  num_flows_started: number;
  num_flows_completed: number;
  process_name: string;
  process_id: string;
  process_args: string[][];
  num_process_names: number;
  num_process_ids: number;
  num_process_args: number;
  /** TCP statistics; absent when the agent does not collect them. */
  tcp_mean_send_congestion_window?: number;
  tcp_min_send_congestion_window?: number;
  tcp_mean_smooth_rtt?: number;
  tcp_max_smooth_rtt?: number;
  tcp_mean_min_rtt?: number;
  tcp_max_min_rtt?: number;
  tcp_mean_mss?: number;
  tcp_min_mss?: number;
  tcp_total_retransmissions?: number;
  tcp_lost_packets?: number;
  tcp_unrecovered_to?: number;
  [field: string]: unknown;
}

export type { Process };

/** Log severities. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Writes a log line through the agent's logger. */
export function log(level: Level, message: string): void {
  host.log(level, message);
}

/** This plugin's `config:` map from the YAML. */
export function config(): Map<string, string> {
  return new Map(host.config());
}

/** A process by pid as of the current batch. */
export function getProcess(pid: number): Process | undefined {
  return host.getProcess(pid);
}

/** The process and its ancestors, nearest first. */
export function processChain(pid: number): Process[] {
  return host.processChain(pid);
}

/** The process a flow of the current batch was attributed to. */
export function flowProcess(flowId: string): Process | undefined {
  return host.flowProcess(flowId);
}

/** The flows.log JSON line of a flow (what the built-in format writes). */
export function flowLogLine(flow: Flow): string {
  const { id: _id, process_args, ...rest } = flow;
  return JSON.stringify({ ...rest, process_args: process_args.map((a) => a.join(' ')) });
}

// ---- plumbing used by the generated entry (not for authors) ----

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function decode(bytes: Uint8Array): Flow[] {
  return JSON.parse(decoder.decode(bytes)) as Flow[];
}

function fail(err: unknown): never {
  // A thrown string becomes the WIT result's err: the host applies the stage's policy.
  throw err instanceof Error ? err.message : String(err);
}

/** enricher.enrich */
export function runEnrich(fn: (flows: Flow[]) => Flow[] | void, bytes: Uint8Array): Uint8Array {
  try {
    const flows = decode(bytes);
    const out = fn(flows) ?? flows;
    return encoder.encode(JSON.stringify(out));
  } catch (err) {
    return fail(err);
  }
}

/**
 * redactor.redact: `id` and only the process fields that changed go back
 * (ENCODING.md: an absent field is unchanged), so unchanged flows cost
 * neither this plugin nor the host an encode and a decode. StarlingMonkey
 * interprets every JavaScript operation, so the SDK's own work per flow is a
 * few native calls: the arguments are snapshotted as JSON text (authors may
 * change them in place or assign new arrays) and compared as strings.
 */
export function runRedact(fn: (flows: Flow[]) => Flow[] | void, bytes: Uint8Array): Uint8Array {
  try {
    const flows = decode(bytes);
    const n = flows.length;
    const names: string[] = new Array(n);
    const pids: string[] = new Array(n);
    const args: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const f = flows[i];
      names[i] = f.process_name;
      pids[i] = f.process_id;
      args[i] = JSON.stringify(f.process_args);
    }
    const out = fn(flows) ?? flows;
    const res: Record<string, unknown>[] = new Array(out.length);
    for (let i = 0; i < out.length; i++) {
      const f = out[i];
      if (i >= n) {
        res[i] = f; // more flows than given: the host refuses the batch
        continue;
      }
      const o: Record<string, unknown> = { id: f.id };
      if (f.process_name !== names[i]) o.process_name = f.process_name;
      if (f.process_id !== pids[i]) o.process_id = f.process_id;
      const a = JSON.stringify(f.process_args);
      if (a !== args[i]) o.process_args = f.process_args;
      res[i] = o;
    }
    return encoder.encode(JSON.stringify(res));
  } catch (err) {
    return fail(err);
  }
}

/** formatter.format */
export function runFormat(fn: (flows: Flow[]) => Array<string | Uint8Array>, bytes: Uint8Array): Uint8Array[] {
  try {
    return fn(decode(bytes)).map((it) => (typeof it === 'string' ? encoder.encode(it) : it));
  } catch (err) {
    return fail(err);
  }
}

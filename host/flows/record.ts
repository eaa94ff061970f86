/**
 * The flow log record, as it travels through the pipeline (flow table →
 * plugin chain → router → sinks). Field names and meanings are those of the
 * Calico Enterprise flow log schema, so existing searches keep working.
 *
 * One difference from the rendered `flows.log` line: inside the pipeline
 * `process_args` holds each distinct argument list as an ARRAY of elements
 * (argv after argv[0]) so redaction can work element by element; rendering
 * joins each list with spaces (see renderFlowLog).
 */

/** `allow` or `deny`; a host agent enforces no policy, so procflow reports `allow`. */
export type FlowAction = 'allow' | 'deny';

/** Which end reported: `src` the connecting end, `dst` the accepting end. */
export type FlowReporter = 'src' | 'dst';

/** Endpoint types of the schema: workload, host endpoint, network set, plain network. */
export type EndpointType = 'wep' | 'hep' | 'ns' | 'net';

/** The policies object of the schema (`-` entries on a host agent). */
export interface FlowPolicies {
  all_policies: string[];
  enforced_policies: string[];
  pending_policies: string[];
}

/** One aggregated flow for one interval, as the pipeline carries it. */
export interface FlowRecord {
  /** Stable id of this record (spool and plugin batches refer to it). */
  id: string;
  /** Interval covered, unix seconds. */
  start_time: number;
  end_time: number;
  /** The node that reported the flow. */
  host: string;
  action: FlowAction;
  reporter: FlowReporter;
  /** `tcp`, `udp`, … */
  proto: string;
  /** null when aggregated away. */
  source_ip: string | null;
  source_port: number | null;
  source_name: string;
  source_name_aggr: string;
  source_namespace: string;
  source_type: EndpointType;
  source_labels: string | Record<string, string>;
  dest_ip: string | null;
  dest_port: number | null;
  dest_name: string;
  dest_name_aggr: string;
  dest_namespace: string;
  dest_type: EndpointType;
  dest_labels: string | Record<string, string>;
  dest_service_name: string;
  dest_service_namespace: string;
  dest_service_port: string;
  policies: string | FlowPolicies;
  /** Payload bytes and packets since the previous export, from the reporting endpoint's side (out = sent by it). */
  bytes_in: number;
  bytes_out: number;
  packets_in: number;
  packets_out: number;
  /** Connections in / begun in / ended in the interval. */
  num_flows: number;
  num_flows_started: number;
  num_flows_completed: number;
  /** Full executable path; comm when the path is unknown; `-` when process info is off; `*` past the process limit. */
  process_name: string;
  /** The pid as a string; `*` when several pids ran that process in the interval; `-` when unknown. */
  process_id: string;
  /** Distinct argument lists (argv after argv[0], element by element), at most the args limit. */
  process_args: string[][];
  /** Distinct counts seen in the interval, before limits cut the lists. */
  num_process_names: number;
  num_process_ids: number;
  num_process_args: number;
  /** TCP statistics; omitted when not collected. */
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
}

/** The flows.log line of a record: schema field names, `process_args` as one joined string per list, no pipeline id. */
export type FlowLogLine = Omit<FlowRecord, 'id' | 'process_args'> & { process_args: string[] };

/** Renders a pipeline record into its flows.log form. */
export function renderFlowLog(r: FlowRecord): FlowLogLine {
  const { id: _id, process_args, ...rest } = r;
  return { ...rest, process_args: process_args.map((argv) => argv.join(' ')) };
}

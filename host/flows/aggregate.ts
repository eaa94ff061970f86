/**
 * Aggregation of one interval's connections into flow log records, as the
 * schema describes: level 0 keeps the 5-tuple, 1 merges source ports, 2 also
 * merges addresses into their owner (this host) or pvt/pub, 3 merges
 * destination ports too. Within a flow, each executable gets its own record
 * up to the per-flow process limit; the rest share one `process_name: *`.
 */
import { randomBytes } from 'node:crypto';
import type { AggregationKind } from '../config/settings.js';
import type { EndpointType, FlowRecord } from './record.js';
import type { ConnInterval, ConnOwner } from './table.js';
import { isPrivate } from './addresses.js';

/** How the process of a connection is reported. */
export interface ProcessView {
  /** Full path; the task name when the path is unknown; `-` when nothing is known. */
  name: string;
  /** The pid, or undefined when unknown. */
  pid: number | undefined;
  /** argv after argv[0]; [] when unknown. */
  args: readonly string[];
}

/** Aggregation settings. */
export interface AggregateOptions {
  level: AggregationKind;
  perFlowProcessLimit: number;
  perFlowProcessArgsLimit: number;
  /** false: every process field is `-` (wins over the path setting). */
  collectProcessInfo: boolean;
  /** The node name, written in `host` and as the aggregated name of this host's endpoints. */
  host: string;
  /** Is this one of this host's addresses (loopback included)? */
  isHostAddress: (addr: string) => boolean;
  /** The process view of a connection's owner. */
  resolve: (owner: ConnOwner) => ProcessView;
}

interface Endpoint {
  ip: string | null;
  port: number | null;
  type: EndpointType;
  aggr: string;
}

interface ProcessGroup {
  name: string;
  pids: Set<number | undefined>;
  /** Distinct by identity here (a process's args array is shared); by content when the record is built. */
  args: Set<readonly string[]>;
  conns: ConnInterval[];
  names: Set<string>;
}

// Ids must stay unique across restarts (they are the Elasticsearch _id, and the spool's key).
const RUN_ID = randomBytes(6).toString('hex');
let recordSeq = 0;

/** Per aggregation pass: an address is classified once, however many connections share it. */
type Classifier = (addr: string) => { type: EndpointType; aggr: string };

function classifier(o: AggregateOptions): Classifier {
  const memo = new Map<string, { type: EndpointType; aggr: string }>();
  return (addr) => {
    let c = memo.get(addr);
    if (!c) {
      const own = o.isHostAddress(addr);
      c = { type: own ? 'hep' : 'net', aggr: own ? o.host : isPrivate(addr) ? 'pvt' : 'pub' };
      memo.set(addr, c);
    }
    return c;
  };
}

function endpoint(addr: string, port: number, classify: Classifier, mergeIp: boolean, mergePort: boolean): Endpoint {
  const { type, aggr } = classify(addr);
  return { ip: mergeIp ? null : addr, port: mergePort ? null : port, type, aggr };
}

/** Aggregates one interval [startMs, endMs) into flow records. */
export function aggregate(conns: readonly ConnInterval[], startMs: number, endMs: number, o: AggregateOptions): FlowRecord[] {
  const flows = new Map<string, { src: Endpoint; dst: Endpoint; conn: ConnInterval; groups: Map<string, ProcessGroup> }>();
  const classify = classifier(o);
  for (const c of conns) {
    const [sAddr, sPort, dAddr, dPort] = c.reporter === 'src'
      ? [c.localAddr, c.localPort, c.remoteAddr, c.remotePort]
      : [c.remoteAddr, c.remotePort, c.localAddr, c.localPort];
    const src = endpoint(sAddr, sPort, classify, o.level >= 2, o.level >= 1);
    const dst = endpoint(dAddr, dPort, classify, o.level >= 2, o.level >= 3);
    const key = `${c.reporter}|${c.proto}|${src.ip}|${src.port}|${src.type}|${src.aggr}|${dst.ip}|${dst.port}|${dst.type}|${dst.aggr}`;
    let flow = flows.get(key);
    if (!flow) {
      flow = { src, dst, conn: c, groups: new Map() };
      flows.set(key, flow);
    }
    const view: ProcessView = o.collectProcessInfo ? o.resolve(c.owner) : { name: '-', pid: undefined, args: [] };
    let g = flow.groups.get(view.name);
    if (!g) {
      g = { name: view.name, pids: new Set(), args: new Set(), conns: [], names: new Set([view.name]) };
      flow.groups.set(view.name, g);
    }
    g.pids.add(view.pid);
    if (view.args.length > 0) g.args.add(view.args);
    g.conns.push(c);
  }

  const out: FlowRecord[] = [];
  for (const flow of flows.values()) {
    const groups = [...flow.groups.values()];
    const kept = groups.slice(0, o.perFlowProcessLimit);
    const rest = groups.slice(o.perFlowProcessLimit);
    if (rest.length > 0) kept.push(mergeGroups(rest));
    for (const g of kept) out.push(record(flow.src, flow.dst, flow.conn, g, startMs, endMs, o));
  }
  return out;
}

function mergeGroups(groups: ProcessGroup[]): ProcessGroup {
  const m: ProcessGroup = { name: '*', pids: new Set(), args: new Set(), conns: [], names: new Set() };
  for (const g of groups) {
    for (const p of g.pids) m.pids.add(p);
    for (const a of g.args) m.args.add(a);
    m.conns.push(...g.conns);
    for (const n of g.names) m.names.add(n);
  }
  return m;
}

function record(
  src: Endpoint, dst: Endpoint, first: ConnInterval, g: ProcessGroup, startMs: number, endMs: number, o: AggregateOptions,
): FlowRecord {
  let bytesIn = 0, bytesOut = 0, packetsIn = 0, packetsOut = 0, started = 0, completed = 0;
  for (const c of g.conns) {
    bytesIn += c.bytesIn;
    bytesOut += c.bytesOut;
    packetsIn += c.packetsIn;
    packetsOut += c.packetsOut;
    if (c.started) started++;
    if (c.completed) completed++;
  }
  const knownPids = [...g.pids].filter((p): p is number => p !== undefined);
  const processId = !o.collectProcessInfo ? '-' : g.pids.size > 1 ? '*' : knownPids.length === 1 ? String(knownPids[0]) : '-';
  const byContent = new Map<string, readonly string[]>();
  for (const a of g.args) byContent.set(a.length === 1 ? a[0] : a.join('\0'), a);
  const args = [...byContent.values()];
  return {
    id: `${RUN_ID}-${endMs.toString(36)}-${(recordSeq++).toString(36)}`,
    start_time: Math.floor(startMs / 1000),
    end_time: Math.floor(endMs / 1000),
    host: o.host,
    action: 'allow',
    reporter: first.reporter,
    proto: first.proto,
    source_ip: src.ip,
    source_port: src.port,
    source_name: '-',
    source_name_aggr: src.aggr,
    source_namespace: '-',
    source_type: src.type,
    source_labels: '-',
    dest_ip: dst.ip,
    dest_port: dst.port,
    dest_name: '-',
    dest_name_aggr: dst.aggr,
    dest_namespace: '-',
    dest_type: dst.type,
    dest_labels: '-',
    dest_service_name: '-',
    dest_service_namespace: '-',
    dest_service_port: '-',
    policies: '-',
    bytes_in: bytesIn,
    bytes_out: bytesOut,
    packets_in: packetsIn,
    packets_out: packetsOut,
    num_flows: g.conns.length,
    num_flows_started: started,
    num_flows_completed: completed,
    process_name: g.name,
    process_id: processId,
    process_args: args.slice(0, o.perFlowProcessArgsLimit).map((a) => [...a]),
    num_process_names: o.collectProcessInfo ? g.names.size : 0,
    num_process_ids: o.collectProcessInfo ? knownPids.length : 0,
    num_process_args: o.collectProcessInfo ? args.length : 0,
  };
}

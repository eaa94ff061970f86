// Helpers for formatters that map the flow log record onto another schema
// (ECS, OCSF, CEF, OTLP): one pass indexes a flow's fields by schema name,
// a small JSON writer handles commas and nesting, plus time and value helpers.
import { Reader, Writer } from "./msgpack";
import { Flow } from "./flow";
import { jsonNumber, jsonString, transcode } from "./json";

/** The flow log schema's fields (besides id and the process fields), as FlowView indices. */
export enum Fld {
  StartTime, EndTime, Host, Action, Reporter, Proto,
  SourceIp, SourcePort, SourceName, SourceNameAggr, SourceNamespace, SourceType, SourceLabels,
  DestIp, DestPort, DestName, DestNameAggr, DestNamespace, DestType, DestLabels,
  DestServiceName, DestServiceNamespace, DestServicePort, Policies,
  BytesIn, BytesOut, PacketsIn, PacketsOut, NumFlows, NumFlowsStarted, NumFlowsCompleted,
  NumProcessNames, NumProcessIds, NumProcessArgs,
  TcpMeanSendCongestionWindow, TcpMinSendCongestionWindow, TcpMeanSmoothRtt, TcpMaxSmoothRtt,
  TcpMeanMinRtt, TcpMaxMinRtt, TcpMeanMss, TcpMinMss, TcpTotalRetransmissions, TcpLostPackets,
  TcpUnrecoveredTo,
  // Added by builtin:enrich-process when it runs before the formatter (`-` when unknown).
  ProcessParentName, ProcessParentId, ProcessCgroup, ContainerId,
  Count,
}

/** The first `tcp_*` field and the number of them. */
export const TCP_FIRST: i32 = Fld.TcpMeanSendCongestionWindow;
export const TCP_COUNT: i32 = 11;

/** The flow log name of a field (`dest_port`, …). String literals live in static data: safe across calls. */
export function fieldName(k: i32): string {
  switch (k) {
    case Fld.StartTime: return "start_time";
    case Fld.EndTime: return "end_time";
    case Fld.Host: return "host";
    case Fld.Action: return "action";
    case Fld.Reporter: return "reporter";
    case Fld.Proto: return "proto";
    case Fld.SourceIp: return "source_ip";
    case Fld.SourcePort: return "source_port";
    case Fld.SourceName: return "source_name";
    case Fld.SourceNameAggr: return "source_name_aggr";
    case Fld.SourceNamespace: return "source_namespace";
    case Fld.SourceType: return "source_type";
    case Fld.SourceLabels: return "source_labels";
    case Fld.DestIp: return "dest_ip";
    case Fld.DestPort: return "dest_port";
    case Fld.DestName: return "dest_name";
    case Fld.DestNameAggr: return "dest_name_aggr";
    case Fld.DestNamespace: return "dest_namespace";
    case Fld.DestType: return "dest_type";
    case Fld.DestLabels: return "dest_labels";
    case Fld.DestServiceName: return "dest_service_name";
    case Fld.DestServiceNamespace: return "dest_service_namespace";
    case Fld.DestServicePort: return "dest_service_port";
    case Fld.Policies: return "policies";
    case Fld.BytesIn: return "bytes_in";
    case Fld.BytesOut: return "bytes_out";
    case Fld.PacketsIn: return "packets_in";
    case Fld.PacketsOut: return "packets_out";
    case Fld.NumFlows: return "num_flows";
    case Fld.NumFlowsStarted: return "num_flows_started";
    case Fld.NumFlowsCompleted: return "num_flows_completed";
    case Fld.NumProcessNames: return "num_process_names";
    case Fld.NumProcessIds: return "num_process_ids";
    case Fld.NumProcessArgs: return "num_process_args";
    case Fld.TcpMeanSendCongestionWindow: return "tcp_mean_send_congestion_window";
    case Fld.TcpMinSendCongestionWindow: return "tcp_min_send_congestion_window";
    case Fld.TcpMeanSmoothRtt: return "tcp_mean_smooth_rtt";
    case Fld.TcpMaxSmoothRtt: return "tcp_max_smooth_rtt";
    case Fld.TcpMeanMinRtt: return "tcp_mean_min_rtt";
    case Fld.TcpMaxMinRtt: return "tcp_max_min_rtt";
    case Fld.TcpMeanMss: return "tcp_mean_mss";
    case Fld.TcpMinMss: return "tcp_min_mss";
    case Fld.TcpTotalRetransmissions: return "tcp_total_retransmissions";
    case Fld.TcpLostPackets: return "tcp_lost_packets";
    case Fld.TcpUnrecoveredTo: return "tcp_unrecovered_to";
    case Fld.ProcessParentName: return "process_parent_name";
    case Fld.ProcessParentId: return "process_parent_id";
    case Fld.ProcessCgroup: return "process_cgroup";
    case Fld.ContainerId: return "container_id";
  }
  return "";
}

function bytesEq(ptr: usize, len: u32, s: string): bool {
  if (<i32>len != s.length) return false;
  for (let i = 0; i < s.length; i++) if (<u32>load<u8>(ptr + i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

/**
 * A flow's schema fields by index: `FlowView(flow)` finds each field once
 * (batches keep schema order, so the next expected name is tried first).
 */
export class FlowView {
  flow: Flow;
  private ptrs: StaticArray<usize> = new StaticArray<usize>(Fld.Count);
  private ends: StaticArray<usize> = new StaticArray<usize>(Fld.Count);

  constructor(flow: Flow) {
    this.flow = flow;
    const n = flow.fieldCount;
    let next = 0;
    for (let j = 0; j < n; j++) {
      const k = this.match(flow.keyPtr(j), flow.keyLen(j), next);
      if (k < 0) continue;
      next = k + 1;
      const rep = flow.extras !== null ? flow.replacement(j) : null;
      if (rep !== null) this.set(k, rep.ptr, rep.len);
      else this.set(k, flow.valPtr(j), flow.valEnd(j) - flow.valPtr(j));
    }
    // Schema fields the plugin itself added with set… (enrichers).
    const ex = flow.extras;
    if (ex !== null) {
      for (let i = 0; i < ex.length; i++) {
        const e = unchecked(ex[i]);
        if (e.index >= 0) continue;
        for (let c = 0; c < Fld.Count; c++) if (e.key == fieldName(c)) this.set(c, e.value.ptr, e.value.len);
      }
    }
  }

  // The schema index of a key, trying `next` first (batches keep schema order); -1 for others.
  private match(ptr: usize, len: u32, next: i32): i32 {
    for (let t = 0; t < Fld.Count; t++) {
      const c = (next + t) % Fld.Count;
      if (bytesEq(ptr, len, fieldName(c))) return c;
    }
    return -1;
  }

  @inline private set(k: i32, ptr: usize, len: usize): void {
    unchecked(this.ptrs[k] = ptr);
    unchecked(this.ends[k] = ptr + len);
  }

  /** True when the flow has field `k`. */
  @inline has(k: i32): bool {
    return unchecked(this.ptrs[k]) != 0;
  }

  /** A reader on field `k`'s MessagePack value (call only when `has(k)`). */
  reader(k: i32): Reader {
    const p = unchecked(this.ptrs[k]);
    return new Reader(p, unchecked(this.ends[k]) - p);
  }

  /** First byte of field `k`'s value; 0xc1 (never used by MessagePack) when absent. */
  tag(k: i32): u8 {
    return this.has(k) ? load<u8>(unchecked(this.ptrs[k])) : 0xc1;
  }

  /** True when field `k` is a string. */
  isStr(k: i32): bool {
    const b = this.tag(k);
    return (b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb;
  }

  /** True when field `k` is a map (labels, policies). */
  isMap(k: i32): bool {
    const b = this.tag(k);
    return (b & 0xf0) == 0x80 || b == 0xde || b == 0xdf;
  }

  /** True when field `k` is a number. */
  isNum(k: i32): bool {
    const b = this.tag(k);
    return b < 0x80 || b >= 0xe0 || (b >= 0xca && b <= 0xd3);
  }

  /** Field `k` as a string; "" when absent or not a string. */
  str(k: i32): string {
    return this.isStr(k) ? this.reader(k).str() : "";
  }

  /** Field `k` as a number; NaN when absent, nil or not a number. */
  num(k: i32): f64 {
    return this.isNum(k) ? this.reader(k).number() : NaN;
  }

  /** Writes field `k` as JSON (`null` when absent). */
  json(k: i32, w: Writer): void {
    if (!this.has(k)) w.utf8("null");
    else transcode(this.reader(k), w);
  }
}

/** True for the schema's placeholders: `-` (unknown / off / aggregated), `*` (several), and "". */
export function isPlaceholder(s: string): bool {
  return s.length == 0 || s == "-" || s == "*";
}

/** A decimal pid (`"1234"`), or -1 for placeholders and anything else. */
export function parsePid(s: string): i64 {
  if (s.length == 0 || s.length > 10) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** The last path element of `/usr/bin/curl` (the whole string when it has no `/`). */
export function baseName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.substring(i + 1);
}

/** True when `process_name` is a resolved executable path (not comm, not a placeholder). */
export function isPath(s: string): bool {
  return s.length > 1 && s.charCodeAt(0) == 0x2f;
}

/** IANA protocol number of `tcp`, `udp`, …; -1 when unknown. A decimal proto is taken as the number. */
export function protoNumber(proto: string): i32 {
  const p = proto.toLowerCase();
  if (p == "tcp") return 6;
  if (p == "udp") return 17;
  if (p == "icmp") return 1;
  if (p == "icmp6" || p == "ipv6-icmp" || p == "icmpv6") return 58;
  if (p == "sctp") return 132;
  const n = parsePid(p);
  return n >= 0 && n < 256 ? <i32>n : -1;
}

/** 4 or 6 for an IP address string, 0 when it is neither. */
export function ipVersion(ip: string): i32 {
  if (ip.indexOf(":") >= 0) return 6;
  if (ip.indexOf(".") >= 0) return 4;
  return 0;
}

/** An argument list as one command-line string (elements joined by spaces, as flows.log does). */
export function joinArgs(argv: string[]): string {
  return argv.join(" ");
}

function pad(w: Writer, v: i64, width: i32): void {
  const s = v.toString();
  for (let i = s.length; i < width; i++) w.byte(0x30);
  w.utf8(s);
}

/** Writes unix seconds as RFC 3339 UTC with milliseconds: `2023-11-14T22:13:20.000Z` (no quotes). */
export function writeIsoTime(w: Writer, secs: i64): void {
  // Civil date from days since the epoch (proleptic Gregorian, 400-year eras).
  let days = secs / 86400;
  let rem = secs % 86400;
  if (rem < 0) { rem += 86400; days -= 1; }
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  pad(w, y, 4); w.byte(0x2d); pad(w, m, 2); w.byte(0x2d); pad(w, d, 2);
  w.byte(0x54);
  pad(w, rem / 3600, 2); w.byte(0x3a); pad(w, (rem / 60) % 60, 2); w.byte(0x3a); pad(w, rem % 60, 2);
  w.utf8(".000Z");
}

/**
 * A streaming JSON writer for nested objects: it places commas and keys.
 * `key` may be null inside arrays. Keys are written as given (plain ASCII names).
 */
export class JsonOut {
  w: Writer;
  // Bit d set: the container at depth d already has an element.
  private used: u64 = 0;
  private depth: i32 = 0;

  constructor(w: Writer) {
    this.w = w;
  }

  /** Writes the comma and key of the next member/element; then write its value to `w`. */
  key(key: string | null): Writer {
    const bit: u64 = (<u64>1) << <u64>this.depth;
    if (this.used & bit) this.w.byte(0x2c);
    this.used |= bit;
    if (key !== null) {
      this.w.byte(0x22);
      this.w.utf8(key);
      this.w.byte(0x22);
      this.w.byte(0x3a);
    }
    return this.w;
  }

  private push(open: u8): void {
    this.w.byte(open);
    this.depth++;
    this.used &= ~((<u64>1) << <u64>this.depth);
  }

  /** Opens an object (the top-level one with key null). */
  obj(key: string | null): void {
    if (this.depth > 0) this.key(key);
    this.push(0x7b);
  }

  /** Opens an array. */
  arr(key: string | null): void {
    if (this.depth > 0) this.key(key);
    this.push(0x5b);
  }

  /** Closes the innermost object. */
  endObj(): void {
    this.depth--;
    this.w.byte(0x7d);
  }

  /** Closes the innermost array. */
  endArr(): void {
    this.depth--;
    this.w.byte(0x5d);
  }

  /** A string member/element. */
  str(key: string | null, s: string): void {
    jsonString(this.key(key), s);
  }

  /** A numeric member/element (integers without fraction; NaN as null). */
  num(key: string | null, v: f64): void {
    jsonNumber(this.key(key), v);
  }

  /** A boolean member/element. */
  bool(key: string | null, v: bool): void {
    this.key(key).utf8(v ? "true" : "false");
  }

  /** A member/element whose value is written by the caller as raw JSON text. */
  raw(key: string | null, json: string): void {
    this.key(key).utf8(json);
  }

  /** Field `k` of `v` transcoded as-is (maps stay objects, nil stays null). */
  field(key: string | null, v: FlowView, k: i32): void {
    v.json(k, this.key(key));
  }
}

/**
 * The parent process builtin:enrich-process added (`process_parent_name` / `_id`),
 * with the same rules as ProcessInfo: empty / -1 when absent or a placeholder.
 */
export class ParentInfo {
  /** Full executable path, or "". */
  path: string = "";
  /** Executable name (path's last element, or comm), or "". */
  name: string = "";
  /** The pid, or -1. */
  pid: i64 = -1;

  constructor(v: FlowView) {
    const pn = v.str(Fld.ProcessParentName);
    if (isPath(pn)) { this.path = pn; this.name = baseName(pn); }
    else if (!isPlaceholder(pn)) this.name = pn;
    this.pid = parsePid(v.str(Fld.ProcessParentId));
  }

  /** True when anything is known about the parent. */
  get known(): bool {
    return this.name.length > 0 || this.pid >= 0;
  }
}

/** The container id builtin:enrich-process added, or "" when absent or `-`. */
export function containerIdOf(v: FlowView): string {
  const id = v.str(Fld.ContainerId);
  return isPlaceholder(id) ? "" : id;
}

/** True for the fields that are a map or a placeholder string: labels and policies. */
export function isMapField(k: i32): bool {
  return k == Fld.SourceLabels || k == Fld.DestLabels || k == Fld.Policies;
}

/**
 * Writes each schema field in [from, to) that the flow has, under its flow log
 * name, value as-is. With `mapsOnly`, labels and policies are written only when
 * they are maps (a `-` string would clash with the object mapping in Elasticsearch).
 */
export function writeSchemaFields(o: JsonOut, v: FlowView, from: i32, to: i32, mapsOnly: bool = false): void {
  for (let k = from; k < to; k++) {
    if (!v.has(k) || (mapsOnly && isMapField(k) && !v.isMap(k))) continue;
    o.field(fieldName(k), v, k);
  }
}

/** Writes `process_name`, `process_id` and `process_args` (one joined string per list) as flows.log has them. */
export function writeProcessFields(o: JsonOut, flow: Flow): void {
  o.str("process_name", flow.processName);
  o.str("process_id", flow.processId);
  o.arr("process_args");
  const lists = flow.processArgs;
  for (let i = 0; i < lists.length; i++) o.str(null, joinArgs(unchecked(lists[i])));
  o.endArr();
}

/**
 * The process of a flow as the formats map it: the executable path and name
 * when known (not a placeholder), the pid when it is one number, and the
 * argument list when there is exactly one (several lists are several
 * processes' arguments: no single argv describes them).
 */
export class ProcessInfo {
  /** Full executable path, or "" (comm or placeholder). */
  path: string = "";
  /** Executable name: the path's last element, or comm; "" for placeholders. */
  name: string = "";
  /** The pid, or -1. */
  pid: i64 = -1;
  /** argv after argv[0] when the flow has exactly one argument list, else null. */
  args: string[] | null = null;

  constructor(flow: Flow) {
    const pn = flow.processName;
    if (isPath(pn)) { this.path = pn; this.name = baseName(pn); }
    else if (!isPlaceholder(pn)) this.name = pn;
    this.pid = parsePid(flow.processId);
    const lists = flow.processArgs;
    if (lists.length == 1 && this.name.length > 0) this.args = unchecked(lists[0]);
  }

  /** argv[0] for a command line: the path when known, else the name. */
  get argv0(): string {
    return this.path.length > 0 ? this.path : this.name;
  }

  /** The command line (argv0 and the single argument list, space-joined), or "" when args is null. */
  commandLine(): string {
    const a = this.args;
    if (a === null) return "";
    return a.length == 0 ? this.argv0 : this.argv0 + " " + joinArgs(a);
  }
}

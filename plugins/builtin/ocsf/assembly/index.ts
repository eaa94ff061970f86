// Built-in formatter: each flow as an OCSF 1.1.0 Network Activity event
// (class_uid 4001, activity Traffic) with the host profile's actor.process.
// Mapping and placeholder rules: docs/formats.md#ocsf. Fields OCSF has no
// attribute for go to `unmapped` under their flow log names.
import { Flow, Items, FlowView, Fld, JsonOut, ProcessInfo, ParentInfo, containerIdOf, protoNumber, ipVersion, isPlaceholder, baseName, writeSchemaFields, writeProcessFields } from "procflow-plugin-sdk";

/** The OCSF schema version the events follow. */
const OCSF_VERSION = "1.1.0";
/** procflow's version (package.json; a test keeps them equal). */
const PRODUCT_VERSION = "0.1.0";

const CLASS_UID = 4001;
const CATEGORY_UID = 4;
const ACTIVITY_TRAFFIC = 6;

// An endpoint: ip and port when known; name: the workload name, or the aggregated name (host, pvt, pub).
function endpoint(o: JsonOut, v: FlowView, key: string, ip: i32, port: i32, name: i32, aggr: i32): void {
  o.obj(key);
  if (v.isStr(ip)) o.str("ip", v.str(ip));
  if (v.isNum(port)) o.num("port", v.num(port));
  const n = v.str(name);
  const a = v.str(aggr);
  if (!isPlaceholder(n)) o.str("name", n);
  else if (!isPlaceholder(a)) o.str("name", a);
  o.endObj();
}

function event(flow: Flow, o: JsonOut): void {
  const v = new FlowView(flow);
  const startMs = v.num(Fld.StartTime) * 1000;
  const endMs = v.num(Fld.EndTime) * 1000;
  const allow = v.str(Fld.Action) != "deny";
  const fromSrc = v.str(Fld.Reporter) != "dst";
  // OCSF traffic: *_out flows from src_endpoint to dst_endpoint. The flow log's
  // *_out were sent by the reporting end, which is the source only when it reported.
  const bytesIn = v.num(Fld.BytesIn), bytesOut = v.num(Fld.BytesOut);
  const pktsIn = v.num(Fld.PacketsIn), pktsOut = v.num(Fld.PacketsOut);

  o.obj(null);
  o.num("class_uid", CLASS_UID);
  o.str("class_name", "Network Activity");
  o.num("category_uid", CATEGORY_UID);
  o.str("category_name", "Network Activity");
  o.num("activity_id", ACTIVITY_TRAFFIC);
  o.str("activity_name", "Traffic");
  o.num("type_uid", CLASS_UID * 100 + ACTIVITY_TRAFFIC);
  o.str("type_name", "Network Activity: Traffic");
  o.num("time", endMs);
  o.num("start_time", startMs);
  o.num("end_time", endMs);
  o.num("duration", endMs - startMs);
  o.num("count", v.num(Fld.NumFlows));
  o.num("severity_id", 1);
  o.str("severity", "Informational");
  o.num("status_id", allow ? 1 : 2);
  o.str("status", allow ? "Success" : "Failure");
  // Security control profile: what the policy did, and the outcome.
  o.num("action_id", allow ? 1 : 2);
  o.str("action", allow ? "Allowed" : "Denied");
  o.num("disposition_id", allow ? 1 : 2);
  o.str("disposition", allow ? "Allowed" : "Blocked");

  o.obj("metadata");
  o.str("version", OCSF_VERSION);
  o.str("uid", flow.id);
  o.arr("profiles"); o.str(null, "host"); o.str(null, "security_control"); o.endArr();
  o.str("log_name", "flows");
  o.obj("product"); o.str("name", "procflow"); o.str("vendor_name", "procflow"); o.str("version", PRODUCT_VERSION); o.endObj();
  o.endObj();

  o.obj("device"); o.str("hostname", v.str(Fld.Host)); o.num("type_id", 0); o.str("type", "Unknown"); o.endObj();

  endpoint(o, v, "src_endpoint", Fld.SourceIp, Fld.SourcePort, Fld.SourceName, Fld.SourceNameAggr);
  endpoint(o, v, "dst_endpoint", Fld.DestIp, Fld.DestPort, Fld.DestName, Fld.DestNameAggr);

  o.obj("connection_info");
  const proto = v.str(Fld.Proto).toLowerCase();
  o.str("protocol_name", proto);
  const num = protoNumber(proto);
  if (num >= 0) o.num("protocol_num", num);
  const ipv = ipVersion(v.isStr(Fld.SourceIp) ? v.str(Fld.SourceIp) : v.str(Fld.DestIp));
  if (ipv != 0) o.num("protocol_ver_id", ipv);
  o.num("direction_id", fromSrc ? 2 : 1);
  o.str("direction", fromSrc ? "Outbound" : "Inbound");
  o.endObj();

  o.obj("traffic");
  o.num("bytes_in", fromSrc ? bytesIn : bytesOut);
  o.num("bytes_out", fromSrc ? bytesOut : bytesIn);
  o.num("packets_in", fromSrc ? pktsIn : pktsOut);
  o.num("packets_out", fromSrc ? pktsOut : pktsIn);
  o.num("bytes", bytesIn + bytesOut);
  o.num("packets", pktsIn + pktsOut);
  o.endObj();

  const p = new ProcessInfo(flow);
  if (p.name.length > 0 || p.pid >= 0) {
    o.obj("actor");
    o.obj("process");
    if (p.name.length > 0) o.str("name", p.name);
    if (p.pid >= 0) o.num("pid", <f64>p.pid);
    if (p.args !== null) o.str("cmd_line", p.commandLine());
    if (p.path.length > 0) {
      o.obj("file");
      o.str("name", baseName(p.path));
      o.str("path", p.path);
      o.num("type_id", 1);
      o.str("type", "Regular File");
      o.endObj();
    }
    const parent = new ParentInfo(v);
    if (parent.known) {
      o.obj("parent_process");
      if (parent.name.length > 0) o.str("name", parent.name);
      if (parent.pid >= 0) o.num("pid", <f64>parent.pid);
      if (parent.path.length > 0) {
        o.obj("file"); o.str("name", parent.name); o.str("path", parent.path); o.num("type_id", 1); o.str("type", "Regular File"); o.endObj();
      }
      o.endObj();
    }
    const container = containerIdOf(v);
    if (container.length > 0) { o.obj("container"); o.str("uid", container); o.endObj(); }
    o.endObj();
    o.endObj();
  }

  o.obj("unmapped");
  writeSchemaFields(o, v, Fld.Reporter, Fld.SourceIp);
  writeSchemaFields(o, v, Fld.SourceName, Fld.DestIp);
  writeSchemaFields(o, v, Fld.DestName, Fld.BytesIn);
  writeSchemaFields(o, v, Fld.NumFlows, Fld.Count);
  writeProcessFields(o, flow);
  o.endObj();
  o.endObj();
}

export function format(flows: Flow[], items: Items): void {
  for (let i = 0; i < flows.length; i++) {
    event(unchecked(flows[i]), new JsonOut(items.begin()));
    items.end();
  }
}

// Built-in formatter: each flow as an Elastic Common Schema (ECS 8.x) document.
// Mapping and placeholder rules: docs/formats.md#ecs. Fields ECS has no place
// for keep their flow log names under `procflow.*`, so nothing is lost.
import { Flow, Items, FlowView, Fld, JsonOut, ProcessInfo, ParentInfo, containerIdOf, protoNumber, ipVersion, writeIsoTime, writeSchemaFields, writeProcessFields } from "procflow-plugin-sdk";

/** The ECS version the documents follow. */
const ECS_VERSION = "8.11.0";

function time(o: JsonOut, key: string, secs: f64): void {
  const w = o.key(key);
  w.byte(0x22);
  writeIsoTime(w, <i64>secs);
  w.byte(0x22);
}

// One side of the connection: source or destination.
function endpoint(o: JsonOut, v: FlowView, key: string, ip: i32, port: i32, bytes: f64, packets: f64): void {
  o.obj(key);
  if (v.isStr(ip)) {
    const addr = v.str(ip);
    o.str("ip", addr);
    o.str("address", addr);
  }
  if (v.isNum(port)) o.num("port", v.num(port));
  o.num("bytes", bytes);
  o.num("packets", packets);
  o.endObj();
}

function document(flow: Flow, o: JsonOut): void {
  const v = new FlowView(flow);
  const start = v.num(Fld.StartTime);
  const end = v.num(Fld.EndTime);
  const allow = v.str(Fld.Action) != "deny";
  const fromSrc = v.str(Fld.Reporter) != "dst";
  // bytes_out/packets_out were sent by the reporting end: the source when it reported.
  const bytesIn = v.num(Fld.BytesIn), bytesOut = v.num(Fld.BytesOut);
  const pktsIn = v.num(Fld.PacketsIn), pktsOut = v.num(Fld.PacketsOut);

  o.obj(null);
  time(o, "@timestamp", end);
  o.obj("ecs"); o.str("version", ECS_VERSION); o.endObj();

  o.obj("event");
  o.str("kind", "event");
  o.arr("category"); o.str(null, "network"); o.endArr();
  o.arr("type"); o.str(null, "connection"); o.str(null, allow ? "allowed" : "denied"); o.endArr();
  o.str("action", v.str(Fld.Action));
  o.str("outcome", allow ? "success" : "failure");
  time(o, "start", start);
  time(o, "end", end);
  o.num("duration", (end - start) * 1e9);
  o.str("id", flow.id);
  o.str("module", "procflow");
  o.str("dataset", "procflow.flows");
  o.endObj();

  o.obj("host"); o.str("name", v.str(Fld.Host)); o.str("hostname", v.str(Fld.Host)); o.endObj();

  const p = new ProcessInfo(flow);
  if (p.name.length > 0 || p.pid >= 0) {
    o.obj("process");
    if (p.path.length > 0) o.str("executable", p.path);
    if (p.name.length > 0) o.str("name", p.name);
    if (p.pid >= 0) o.num("pid", <f64>p.pid);
    const args = p.args;
    if (args !== null) {
      o.arr("args");
      o.str(null, p.argv0);
      for (let i = 0; i < args.length; i++) o.str(null, unchecked(args[i]));
      o.endArr();
      o.num("args_count", <f64>(args.length + 1));
      o.str("command_line", p.commandLine());
    }
    const parent = new ParentInfo(v);
    if (parent.known) {
      o.obj("parent");
      if (parent.path.length > 0) o.str("executable", parent.path);
      if (parent.name.length > 0) o.str("name", parent.name);
      if (parent.pid >= 0) o.num("pid", <f64>parent.pid);
      o.endObj();
    }
    o.endObj();
  }
  const container = containerIdOf(v);
  if (container.length > 0) { o.obj("container"); o.str("id", container); o.endObj(); }

  endpoint(o, v, "source", Fld.SourceIp, Fld.SourcePort, fromSrc ? bytesOut : bytesIn, fromSrc ? pktsOut : pktsIn);
  endpoint(o, v, "destination", Fld.DestIp, Fld.DestPort, fromSrc ? bytesIn : bytesOut, fromSrc ? pktsIn : pktsOut);

  o.obj("network");
  const proto = v.str(Fld.Proto).toLowerCase();
  o.str("transport", proto);
  const iana = protoNumber(proto);
  if (iana >= 0) o.str("iana_number", iana.toString());
  const ipv = ipVersion(v.isStr(Fld.SourceIp) ? v.str(Fld.SourceIp) : v.str(Fld.DestIp));
  if (ipv != 0) o.str("type", ipv == 6 ? "ipv6" : "ipv4");
  o.str("direction", fromSrc ? "egress" : "ingress");
  o.num("bytes", bytesIn + bytesOut);
  o.num("packets", pktsIn + pktsOut);
  o.endObj();

  // Everything else, verbatim under its flow log name (aggregation names, counts, tcp_*, enrich-process fields; labels and policies when they are maps).
  o.obj("procflow");
  writeSchemaFields(o, v, Fld.Reporter, Fld.SourceIp);
  writeSchemaFields(o, v, Fld.SourceName, Fld.DestIp, true);
  writeSchemaFields(o, v, Fld.DestName, Fld.BytesIn, true);
  writeSchemaFields(o, v, Fld.NumFlows, Fld.Count);
  writeProcessFields(o, flow);
  o.endObj();
  o.endObj();
}

export function format(flows: Flow[], items: Items): void {
  for (let i = 0; i < flows.length; i++) {
    document(unchecked(flows[i]), new JsonOut(items.begin()));
    items.end();
  }
}

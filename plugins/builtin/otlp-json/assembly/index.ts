// Built-in formatter: each flow as ONE OpenTelemetry LogRecord in the OTLP/JSON
// encoding (int64 values as decimal strings, AnyValue wrappers). Items are bare
// LogRecords: wrapping them in resourceLogs/scopeLogs is the sink's job.
// Mapping (semantic-convention names, the rest under procflow.*): docs/formats.md#otlp-json.
import { Flow, Items, Reader, Writer, FlowView, Fld, JsonOut, ProcessInfo, ParentInfo, containerIdOf, fieldName, ipVersion, jsonNumber } from "procflow-plugin-sdk";

// One attribute {"key":K,"value":{…}}: opens the value object; close with endObj twice.
function attr(o: JsonOut, key: string): void {
  o.obj(null);
  o.str("key", key);
  o.obj("value");
}

function strAttr(o: JsonOut, key: string, s: string): void {
  attr(o, key);
  o.str("stringValue", s);
  o.endObj(); o.endObj();
}

function intAttr(o: JsonOut, key: string, v: f64): void {
  attr(o, key);
  intValue(o, v);
  o.endObj(); o.endObj();
}

/** Writes the MessagePack value at `r` as the members of an AnyValue object (the caller opened it). */
function anyValue(o: JsonOut, r: Reader): void {
  const b = r.peek();
  if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb) { o.str("stringValue", r.str()); return; }
  if (b == 0xc0) { r.u8(); return; } // nil: the empty AnyValue
  if (b == 0xc2 || b == 0xc3) { r.u8(); o.bool("boolValue", b == 0xc3); return; }
  if (b == 0xca || b == 0xcb) {
    // Counters above 2^32 arrive as float64 (ENCODING.md): integral values stay ints.
    const d = r.number();
    if (d == Math.floor(d) && Math.abs(d) < 9007199254740992.0) intValue(o, d);
    else o.num("doubleValue", d);
    return;
  }
  if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
    const n = r.arrayHeader();
    o.obj("arrayValue");
    o.arr("values");
    for (let i = 0; i < n; i++) { o.obj(null); anyValue(o, r); o.endObj(); }
    o.endArr();
    o.endObj();
    return;
  }
  if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
    const n = r.mapHeader();
    o.obj("kvlistValue");
    o.arr("values");
    for (let i = 0; i < n; i++) {
      o.obj(null);
      o.str("key", r.str());
      o.obj("value"); anyValue(o, r); o.endObj();
      o.endObj();
    }
    o.endArr();
    o.endObj();
    return;
  }
  intValue(o, r.number()); // any integer width
}

// OTLP/JSON writes int64 as a decimal string.
function intValue(o: JsonOut, v: f64): void {
  const w = o.key("intValue");
  w.byte(0x22);
  jsonNumber(w, v);
  w.byte(0x22);
}

// A schema field as `procflow.<flow log name>`, value as it is (maps become kvlists).
function schemaAttr(o: JsonOut, v: FlowView, k: i32): void {
  if (!v.has(k) || v.tag(k) == 0xc0) return; // absent or nil: no attribute
  attr(o, "procflow." + fieldName(k));
  anyValue(o, v.reader(k));
  o.endObj(); o.endObj();
}

function nanos(w: Writer, secs: f64): void {
  w.byte(0x22);
  w.utf8((<u64>secs * 1000000000).toString());
  w.byte(0x22);
}

// A one-line summary for log viewers: `allow tcp 10.0.0.1:40000 -> 10.0.0.2:5432 /usr/bin/psql[1000]`.
function summary(v: FlowView, flow: Flow): string {
  const src = v.isStr(Fld.SourceIp) ? v.str(Fld.SourceIp) : v.str(Fld.SourceNameAggr);
  const dst = v.isStr(Fld.DestIp) ? v.str(Fld.DestIp) : v.str(Fld.DestNameAggr);
  const sp = v.isNum(Fld.SourcePort) ? ":" + (<i64>v.num(Fld.SourcePort)).toString() : "";
  const dp = v.isNum(Fld.DestPort) ? ":" + (<i64>v.num(Fld.DestPort)).toString() : "";
  return v.str(Fld.Action) + " " + v.str(Fld.Proto) + " " + src + sp + " -> " + dst + dp + " " + flow.processName + "[" + flow.processId + "]";
}

function record(flow: Flow, o: JsonOut): void {
  const v = new FlowView(flow);
  const end = v.num(Fld.EndTime);
  o.obj(null);
  nanos(o.key("timeUnixNano"), end);
  nanos(o.key("observedTimeUnixNano"), end);
  o.num("severityNumber", 9);
  o.str("severityText", "INFO");
  o.obj("body"); o.str("stringValue", summary(v, flow)); o.endObj();
  // OTLP 1.5's LogRecord.eventName; older receivers ignore unknown fields (OTLP/JSON rule).
  o.str("eventName", "procflow.flow");

  o.arr("attributes");
  const p = new ProcessInfo(flow);
  if (p.path.length > 0) strAttr(o, "process.executable.path", p.path);
  if (p.name.length > 0) strAttr(o, "process.executable.name", p.name);
  if (p.pid >= 0) intAttr(o, "process.pid", <f64>p.pid);
  const args = p.args;
  if (args !== null) {
    attr(o, "process.command_args");
    o.obj("arrayValue");
    o.arr("values");
    o.obj(null); o.str("stringValue", p.argv0); o.endObj();
    for (let i = 0; i < args.length; i++) { o.obj(null); o.str("stringValue", unchecked(args[i])); o.endObj(); }
    o.endArr();
    o.endObj();
    o.endObj(); o.endObj();
    intAttr(o, "process.args_count", <f64>(args.length + 1));
  }
  const parent = new ParentInfo(v);
  if (parent.pid >= 0) intAttr(o, "process.parent_pid", <f64>parent.pid);
  const container = containerIdOf(v);
  if (container.length > 0) strAttr(o, "container.id", container);
  if (v.isStr(Fld.SourceIp)) strAttr(o, "source.address", v.str(Fld.SourceIp));
  if (v.isNum(Fld.SourcePort)) intAttr(o, "source.port", v.num(Fld.SourcePort));
  if (v.isStr(Fld.DestIp)) strAttr(o, "destination.address", v.str(Fld.DestIp));
  if (v.isNum(Fld.DestPort)) intAttr(o, "destination.port", v.num(Fld.DestPort));
  strAttr(o, "network.transport", v.str(Fld.Proto).toLowerCase());
  const ipv = ipVersion(v.isStr(Fld.SourceIp) ? v.str(Fld.SourceIp) : v.str(Fld.DestIp));
  if (ipv != 0) strAttr(o, "network.type", ipv == 6 ? "ipv6" : "ipv4");
  strAttr(o, "host.name", v.str(Fld.Host));
  // The schema fields not mapped above, verbatim under procflow.* (the process fields as flows.log has them).
  for (let k = 0; k < Fld.Count; k++) {
    if (k == Fld.EndTime || k == Fld.Host || k == Fld.Proto || k == Fld.SourceIp || k == Fld.SourcePort || k == Fld.DestIp || k == Fld.DestPort) continue;
    schemaAttr(o, v, k);
  }
  strAttr(o, "procflow.process_name", flow.processName);
  strAttr(o, "procflow.process_id", flow.processId);
  attr(o, "procflow.process_args");
  o.obj("arrayValue");
  o.arr("values");
  const lists = flow.processArgs;
  for (let i = 0; i < lists.length; i++) { o.obj(null); o.str("stringValue", unchecked(lists[i]).join(" ")); o.endObj(); }
  o.endArr();
  o.endObj();
  o.endObj(); o.endObj();
  o.endArr();
  o.endObj();
}

export function format(flows: Flow[], items: Items): void {
  for (let i = 0; i < flows.length; i++) {
    record(unchecked(flows[i]), new JsonOut(items.begin()));
    items.end();
  }
}

// Built-in formatter: each flow as one ArcSight CEF event (no syslog header:
// the syslog sink adds it). The event is the one the syslog sink writes with
// `format: cef`, byte for byte; config `vendor` / `product` rename the
// header's device vendor and product. Mapping: docs/formats.md#cef.
import { Flow, Items, Writer, FlowView, Fld, config, jsonString, jsonNumber } from "procflow-plugin-sdk";

/** procflow's version (package.json; a test keeps them equal). */
const PRODUCT_VERSION = "0.1.0";

/** A header field: `\` and `|` escaped, line breaks (not allowed in the header) as spaces. */
function headerField(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replaceAll("\r\n", " ").replaceAll("\n", " ").replaceAll("\r", " ");
}

/** An extension value: `\` and `=` escaped, a line break (CR, LF or CRLF) as `\n`. */
function extValue(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("=", "\\=").replaceAll("\r\n", "\\n").replaceAll("\n", "\\n").replaceAll("\r", "\\n");
}

class Ext {
  w: Writer;
  first: bool = true;
  constructor(w: Writer) {
    this.w = w;
  }
  /** `key=value`, skipped when the value is empty. */
  str(key: string, value: string): void {
    if (value.length == 0) return;
    if (!this.first) this.w.byte(0x20);
    this.first = false;
    this.w.utf8(key);
    this.w.byte(0x3d);
    this.w.utf8(extValue(value));
  }
  num(key: string, v: f64): void {
    const t = new Writer(24);
    jsonNumber(t, v);
    this.str(key, String.UTF8.decodeUnsafe(t.ptr, t.len));
  }
}

function event(flow: Flow, w: Writer, header: string): void {
  const v = new FlowView(flow);
  w.utf8(header);
  const e = new Ext(w);
  const start = v.num(Fld.StartTime), end = v.num(Fld.EndTime);
  e.num("rt", end * 1000);
  e.num("start", start * 1000);
  e.num("end", end * 1000);
  e.str("dvchost", v.str(Fld.Host));
  e.str("act", v.str(Fld.Action));
  e.str("proto", v.str(Fld.Proto).toUpperCase());
  if (v.isStr(Fld.SourceIp)) e.str("src", v.str(Fld.SourceIp));
  if (v.isNum(Fld.SourcePort)) e.num("spt", v.num(Fld.SourcePort));
  if (v.isStr(Fld.DestIp)) e.str("dst", v.str(Fld.DestIp));
  if (v.isNum(Fld.DestPort)) e.num("dpt", v.num(Fld.DestPort));
  e.num("in", v.num(Fld.BytesIn));
  e.num("out", v.num(Fld.BytesOut));
  e.num("cnt", v.num(Fld.NumFlows));
  // The reporting end is where the process runs: source for `src`, destination for `dst`.
  const reporter = v.str(Fld.Reporter);
  const side = reporter == "src" ? "s" : "d";
  e.str(side + "proc", flow.processName);
  e.str(side + "pid", flow.processId);
  const args = new Writer(256);
  args.byte(0x5b);
  const lists = flow.processArgs;
  for (let i = 0; i < lists.length; i++) {
    if (i > 0) args.byte(0x2c);
    jsonString(args, unchecked(lists[i]).join(" "));
  }
  args.byte(0x5d);
  e.str("cs1Label", "process_args");
  e.str("cs1", String.UTF8.decodeUnsafe(args.ptr, args.len));
  e.str("cs2Label", "reporter");
  e.str("cs2", reporter);
  e.str("cs3Label", "source_name_aggr");
  e.str("cs3", v.str(Fld.SourceNameAggr));
  e.str("cs4Label", "dest_name_aggr");
  e.str("cs4", v.str(Fld.DestNameAggr));
  e.str("externalId", flow.id);
}

export function format(flows: Flow[], items: Items): void {
  const cfg = config();
  const vendor = cfg.has("vendor") ? cfg.get("vendor") : "procflow";
  const product = cfg.has("product") ? cfg.get("product") : "procflow";
  const header = "CEF:0|" + headerField(vendor) + "|" + headerField(product) + "|" + PRODUCT_VERSION + "|flow|Network flow with process|1|";
  for (let i = 0; i < flows.length; i++) {
    event(unchecked(flows[i]), items.begin(), header);
    items.end();
  }
}

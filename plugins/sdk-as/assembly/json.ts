// JSON output: the flows.log line of a flow (what the host's built-in format
// writes), transcoded from the batch's MessagePack bytes without building objects.
import { Reader, Writer } from "./msgpack";
import { Flow } from "./flow";

const HEX = "0123456789abcdef";

/** Writes UTF-8 bytes as a JSON string body, escaping quotes, backslashes and control characters. */
function escapeBytes(w: Writer, ptr: usize, n: usize): void {
  w.ensure(n + 2);
  w.byte(0x22);
  let start = ptr;
  const end = ptr + n;
  for (let p = ptr; p < end; p++) {
    const c = load<u8>(p);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    w.copy(start, p - start);
    start = p + 1;
    w.byte(0x5c);
    if (c == 0x22 || c == 0x5c) w.byte(c);
    else if (c == 0x0a) w.byte(0x6e);
    else if (c == 0x0d) w.byte(0x72);
    else if (c == 0x09) w.byte(0x74);
    else if (c == 0x08) w.byte(0x62);
    else if (c == 0x0c) w.byte(0x66);
    else {
      w.byte(0x75); w.byte(0x30); w.byte(0x30);
      w.byte(<u8>HEX.charCodeAt(c >> 4));
      w.byte(<u8>HEX.charCodeAt(c & 15));
    }
  }
  w.copy(start, end - start);
  w.byte(0x22);
}

/** Writes an AS string as a JSON string. */
export function jsonString(w: Writer, s: string): void {
  const n = <usize>String.UTF8.byteLength(s);
  const tmp = heap.alloc(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, tmp);
  escapeBytes(w, tmp, n);
}

function writeU64(w: Writer, v: u64): void {
  if (v < 10) { w.byte(<u8>(0x30 + <u32>v)); return; }
  w.utf8(v.toString());
}

function writeI64(w: Writer, v: i64): void {
  if (v < 0) { w.byte(0x2d); writeU64(w, <u64>(-v)); } else writeU64(w, <u64>v);
}

/** Writes a number as JavaScript's JSON.stringify would (integers without a fraction). */
export function jsonNumber(w: Writer, v: f64): void {
  if (!isFinite(v)) { w.utf8("null"); return; }
  if (v == Math.floor(v) && Math.abs(v) < 9007199254740992.0) { writeI64(w, <i64>v); return; }
  w.utf8(v.toString());
}

/** Transcodes one MessagePack value at the reader's position into JSON. */
export function transcode(r: Reader, w: Writer): void {
  const b = r.peek();
  if (b < 0x80) { r.u8(); writeU64(w, b); return; }
  if (b >= 0xe0) { r.u8(); writeI64(w, <i8>b); return; }
  if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb) {
    const n = r.strHeader();
    escapeBytes(w, r.pos, n);
    r.pos += n;
    return;
  }
  if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
    const n = r.arrayHeader();
    w.byte(0x5b);
    for (let i = 0; i < n; i++) {
      if (i > 0) w.byte(0x2c);
      transcode(r, w);
    }
    w.byte(0x5d);
    return;
  }
  if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
    const n = r.mapHeader();
    w.byte(0x7b);
    for (let i = 0; i < n; i++) {
      if (i > 0) w.byte(0x2c);
      transcode(r, w);
      w.byte(0x3a);
      transcode(r, w);
    }
    w.byte(0x7d);
    return;
  }
  switch (b) {
    case 0xc0: r.u8(); w.utf8("null"); return;
    case 0xc2: r.u8(); w.utf8("false"); return;
    case 0xc3: r.u8(); w.utf8("true"); return;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
      r.u8();
      if (b == 0xcc) writeU64(w, r.u8());
      else if (b == 0xcd) writeU64(w, r.u16());
      else if (b == 0xce) writeU64(w, r.u32());
      else writeU64(w, r.u64());
      return;
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: case 0xca: case 0xcb:
      jsonNumber(w, r.number());
      return;
  }
  unreachable();
}

/**
 * Writes the flows.log JSON line of a flow (without newline): every field in
 * batch order except `id`, then `process_args` with each list joined by spaces.
 */
export function writeFlowLogJson(flow: Flow, w: Writer): void {
  w.byte(0x7b);
  let first = true;
  const n = flow.fields.length;
  for (let j = 0; j < n; j++) {
    const kind = unchecked(flow.kinds[j]);
    if (kind == 1 || kind == 4) continue; // id, process_args (written last)
    const f = unchecked(flow.fields[j]);
    if (!first) w.byte(0x2c);
    first = false;
    const nk = f.newKey;
    if (nk !== null) jsonString(w, nk);
    else escapeBytes(w, f.keyPtr, f.keyLen);
    w.byte(0x3a);
    if (kind == 2) jsonString(w, flow.processName);
    else if (kind == 3) jsonString(w, flow.processId);
    else if (f.replaced !== null) transcode(new Reader(f.replaced!.ptr, f.replaced!.len), w);
    else transcode(new Reader(f.valPtr, f.valEnd - f.valPtr), w);
  }
  if (!first) w.byte(0x2c);
  w.utf8("\"process_args\":[");
  const args = flow.processArgs;
  for (let i = 0; i < args.length; i++) {
    if (i > 0) w.byte(0x2c);
    jsonString(w, unchecked(args[i]).join(" "));
  }
  w.byte(0x5d);
  w.byte(0x7d);
}

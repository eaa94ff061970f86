// JSON output: the flows.log line of a flow (what the host's built-in format
// writes), transcoded from the batch's MessagePack bytes without building objects.
import { Reader, Writer } from "./msgpack";
import { Flow } from "./flow";

const HEX = "0123456789abcdef";

/**
 * Writes UTF-8 bytes escaped for the inside of a JSON string (quotes,
 * backslashes, control characters), copying while it scans: eight bytes at a
 * time while none needs escaping, stored as one word.
 */
function escapeBody(w: Writer, ptr: usize, n: usize): void {
  w.ensure(n);
  let d = w.ptr + w.len;
  let p = ptr;
  const end = ptr + n;
  while (p < end) {
    if (p + 8 <= end) {
      const v = load<u64>(p);
      const q = v ^ 0x2222222222222222;
      const b = v ^ 0x5c5c5c5c5c5c5c5c;
      const flags = ((v - 0x2020202020202020) & ~v) | ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b);
      if ((flags & 0x8080808080808080) == 0) {
        store<u64>(d, v);
        p += 8;
        d += 8;
        continue;
      }
    }
    const c = load<u8>(p++);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) {
      store<u8>(d++, c);
      continue;
    }
    // An escape takes up to 6 bytes for 1: make room for it and the rest.
    w.len = d - w.ptr;
    w.ensure(6 + (end - p));
    d = w.ptr + w.len;
    store<u8>(d++, 0x5c);
    if (c == 0x22 || c == 0x5c) store<u8>(d++, c);
    else if (c == 0x0a) store<u8>(d++, 0x6e);
    else if (c == 0x0d) store<u8>(d++, 0x72);
    else if (c == 0x09) store<u8>(d++, 0x74);
    else if (c == 0x08) store<u8>(d++, 0x62);
    else if (c == 0x0c) store<u8>(d++, 0x66);
    else {
      store<u8>(d++, 0x75); store<u8>(d++, 0x30); store<u8>(d++, 0x30);
      store<u8>(d++, <u8>HEX.charCodeAt(c >> 4));
      store<u8>(d++, <u8>HEX.charCodeAt(c & 15));
    }
  }
  w.len = d - w.ptr;
}

/** Writes `,"key":` (no comma for the first field) for key bytes at `ptr`. */
function jsonKey(w: Writer, ptr: usize, n: usize, first: bool): void {
  w.ensure(n + 4);
  if (!first) store<u8>(w.ptr + w.len++, 0x2c);
  store<u8>(w.ptr + w.len++, 0x22);
  escapeBody(w, ptr, n);
  w.ensure(2);
  store<u16>(w.ptr + w.len, 0x3a22); // '"' ':'
  w.len += 2;
}

/** Writes UTF-8 bytes as a JSON string (quoted, escaped). */
export function jsonStringBytes(w: Writer, ptr: usize, n: usize): void {
  w.byte(0x22);
  escapeBody(w, ptr, n);
  w.byte(0x22);
}

/** Writes an AS string as a JSON string. */
export function jsonString(w: Writer, s: string): void {
  const n = <usize>String.UTF8.byteLength(s);
  const tmp = heap.alloc(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, tmp);
  jsonStringBytes(w, tmp, n);
}

/** Writes an unsigned integer in decimal (no allocation). */
export function writeU64(w: Writer, v: u64): void {
  if (v < 10) { w.byte(<u8>(0x30 + <u32>v)); return; }
  let digits = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  w.ensure(digits);
  let p = w.ptr + w.len + digits;
  for (let t = v; ; ) {
    store<u8>(--p, <u8>(0x30 + <u32>(t % 10)));
    t /= 10;
    if (t == 0) break;
  }
  w.len += digits;
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
    jsonStringBytes(w, r.pos, n);
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

/** Writes a MessagePack argument-list value as flows.log does: one JSON string per list, elements joined by spaces. */
function writeArgsJoined(w: Writer, r: Reader): void {
  w.byte(0x5b);
  if (!r.isNil()) {
    const n = r.arrayHeader();
    for (let i = 0; i < n; i++) {
      if (i > 0) w.byte(0x2c);
      w.byte(0x22);
      const m = r.arrayHeader();
      for (let j = 0; j < m; j++) {
        if (j > 0) w.byte(0x20);
        const len = r.strHeader();
        escapeBody(w, r.pos, len);
        r.pos += len;
      }
      w.byte(0x22);
    }
  }
  w.byte(0x5d);
}

/**
 * Writes the flows.log JSON line of a flow (without newline): every field in
 * batch order except `id`, then `process_args` with each list joined by spaces.
 */
export function writeFlowLogJson(flow: Flow, w: Writer): void {
  w.byte(0x7b);
  let first = true;
  const n = flow.count;
  const ex = flow.extras;
  const r = new Reader(0, 0);
  for (let j = 0; j < n; j++) {
    if (j == flow.iId || j == flow.iArgs) continue; // process_args is written last
    jsonKey(w, flow.keyPtr(j), flow.keyLen(j), first);
    first = false;
    const rep = ex !== null ? flow.replacement(j) : null;
    let s: string | null = null;
    if (rep === null) {
      if (j == flow.iName) s = flow.touchedName();
      else if (j == flow.iPid) s = flow.touchedPid();
    }
    if (s !== null) { jsonString(w, s!); continue; }
    if (rep !== null) { r.pos = rep.ptr; r.end = rep.ptr + rep.len; }
    else {
      const v = flow.valPtr(j);
      const b = load<u8>(v);
      // The common values inline: short strings and small integers.
      if ((b & 0xe0) == 0xa0) { jsonStringBytes(w, v + 1, <usize>(b & 0x1f)); continue; }
      if (b < 0x80) { writeU64(w, b); continue; }
      r.pos = v; r.end = flow.valEnd(j);
    }
    transcode(r, w);
  }
  if (ex !== null) {
    for (let k = 0; k < ex.length; k++) {
      const e = unchecked(ex[k]);
      if (e.index >= 0) continue;
      if (!first) w.byte(0x2c);
      first = false;
      jsonString(w, e.key);
      w.byte(0x3a);
      r.pos = e.value.ptr;
      r.end = e.value.ptr + e.value.len;
      transcode(r, w);
    }
  }
  if (!first) w.byte(0x2c);
  w.utf8("\"process_args\":");
  const args = flow.touchedArgs();
  if (args !== null) {
    w.byte(0x5b);
    for (let i = 0; i < args!.length; i++) {
      if (i > 0) w.byte(0x2c);
      jsonString(w, unchecked(args![i]).join(" "));
    }
    w.byte(0x5d);
  } else if (flow.iArgs >= 0) {
    r.pos = flow.valPtr(flow.iArgs);
    r.end = flow.valEnd(flow.iArgs);
    writeArgsJoined(w, r);
  } else w.utf8("[]");
  w.byte(0x7d);
}

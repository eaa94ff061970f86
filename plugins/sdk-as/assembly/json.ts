// JSON output: the flows.log line of a flow (what the host's built-in format
// writes), transcoded from the batch's MessagePack bytes without building objects.
// The writers below store through a raw output pointer `d` and ask for room
// (`room`) once per value or field, not per byte; they return the new end.
import { Reader, Writer } from "./msgpack";
import { Extra, Flow } from "./flow";
import { arenaEpoch } from "./abi";

/** Lowercase hex digits, for `\u00XX` escapes. */
const HEX: usize = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
/** `,"process_args":` (16 bytes), padded so that the word loads at offset 1 stay inside. */
const KEY_ARGS: usize = memory.data<u8>([0x2c, 0x22, 0x70, 0x72, 0x6f, 0x63, 0x65, 0x73, 0x73, 0x5f, 0x61, 0x72, 0x67, 0x73, 0x22, 0x3a, 0, 0, 0, 0, 0, 0, 0, 0]);

/** Strings are escaped in chunks of this many bytes, so the room asked for stays small. */
const CHUNK: usize = 4096;

// The writer being written and the end of its capacity (set by `start`).
let cw: Writer | null = null;
let capEnd: usize = 0;
// The transcoder's read position and end (globals: no Reader per value).
let rp: usize = 0;
let re: usize = 0;

@inline function start(w: Writer): usize {
  cw = w;
  capEnd = w.ptr + w.cap;
  return w.ptr + w.len;
}

/** `d`, with room for `n` more bytes: the writer grows (its buffer may move) when it lacks them. */
@inline function room(d: usize, n: usize): usize {
  return d + n <= capEnd ? d : grow(d, n);
}

function grow(d: usize, n: usize): usize {
  const w = cw!;
  w.len = d - w.ptr;
  w.ensure(n);
  capEnd = w.ptr + w.cap;
  return w.ptr + w.len;
}

/** Position of `n` bytes at the read position, which moves past them; traps past the value's end. */
@inline function need(n: usize): usize {
  const p = rp;
  if (p + n > re) unreachable();
  rp = p + n;
  return p;
}

/**
 * The high bit of each byte of `v` that needs escaping ('"', '\\', < 0x20).
 * Borrows only carry upwards, so the lowest flagged byte is always a real one.
 */
@inline function escapeFlags(v: u64): u64 {
  const q = v ^ 0x2222222222222222;
  const b = v ^ 0x5c5c5c5c5c5c5c5c;
  return (((v - 0x2020202020202020) & ~v) | ((q - 0x0101010101010101) & ~q) | ((b - 0x0101010101010101) & ~b)) & 0x8080808080808080;
}

/** Writes the escape of byte `c` as JSON.stringify does: short forms, else `\u00XX`. */
function escapeByte(d: usize, c: u32): usize {
  store<u8>(d, 0x5c);
  let e: u32 = 0;
  if (c == 0x22 || c == 0x5c) e = c;
  else if (c == 0x0a) e = 0x6e;
  else if (c == 0x0d) e = 0x72;
  else if (c == 0x09) e = 0x74;
  else if (c == 0x08) e = 0x62;
  else if (c == 0x0c) e = 0x66;
  if (e != 0) {
    store<u8>(d, <u8>e, 1);
    return d + 2;
  }
  store<u8>(d, 0x75, 1);
  store<u16>(d, 0x3030, 2);
  store<u8>(d, load<u8>(HEX + (c >> 4)), 4);
  store<u8>(d, load<u8>(HEX + (c & 15)), 5);
  return d + 6;
}

/**
 * Copies the `n` UTF-8 bytes at `p` to `d` escaped for the inside of a JSON
 * string; `d` must have room for 6n + 8. Eight bytes at a time, stored as one
 * word while none needs escaping; the last word is read whole too (bytes past
 * the end masked off) unless it would cross the end of memory.
 */
function escapeTo(d: usize, p: usize, n: usize): usize {
  const end = p + n;
  const top = <usize>memory.size() << 16;
  while (p < end) {
    const left = end - p;
    if (left >= 8 || p + 8 <= top) {
      const v = load<u64>(p);
      let f = escapeFlags(v);
      let k: usize = 8;
      if (left < 8) {
        f &= ((<u64>1) << (<u64>left << 3)) - 1;
        k = left;
      }
      store<u64>(d, v);
      if (f == 0) {
        p += k;
        d += k;
        continue;
      }
      k = <usize>(ctz(f) >> 3);
      p += k;
      d += k;
    }
    const c = <u32>load<u8>(p++);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) store<u8>(d++, <u8>c);
    else d = escapeByte(d, c);
  }
  return d;
}

/**
 * escapeTo for the short strings of a flow (keys, most values): up to 16
 * bytes as two words straight, when none needs escaping and memory extends
 * past them (`top`: the end of memory).
 */
@inline function escapeShort(d: usize, p: usize, n: usize, top: usize): usize {
  if (n > 16 || p + 16 > top) return escapeTo(d, p, n);
  const a = load<u64>(p);
  const b = load<u64>(p, 8);
  const bits = <u64>n << 3;
  let f = escapeFlags(a) & (bits >= 64 ? u64.MAX_VALUE : ((<u64>1) << bits) - 1);
  f |= escapeFlags(b) & (bits >= 128 ? u64.MAX_VALUE : bits <= 64 ? 0 : ((<u64>1) << (bits - 64)) - 1);
  if (f != 0) return escapeTo(d, p, n);
  store<u64>(d, a);
  store<u64>(d, b, 8);
  return d + n;
}

/** Escapes `n` bytes at `p` (no quotes), asking for room a chunk at a time; leaves room for 16 more bytes. */
function escapeLong(d: usize, p: usize, n: usize): usize {
  while (n > CHUNK) {
    d = escapeTo(room(d, 6 * CHUNK + 16), p, CHUNK);
    p += CHUNK;
    n -= CHUNK;
  }
  return escapeTo(room(d, 6 * n + 16), p, n);
}

/** Writes the `n` UTF-8 bytes at `p` as a quoted JSON string. */
function quoted(d: usize, p: usize, n: usize): usize {
  if (n > CHUNK) {
    d = room(d, 8);
    store<u8>(d, 0x22);
    d = escapeLong(d + 1, p, n);
  } else {
    d = room(d, 6 * n + 16);
    store<u8>(d, 0x22);
    d = escapeTo(d + 1, p, n);
  }
  store<u8>(d, 0x22);
  return d + 1;
}

/** Writes an AS string as a quoted JSON string. */
function quotedString(d: usize, s: string): usize {
  const n = <usize>String.UTF8.byteLength(s);
  const tmp = heap.alloc(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, tmp);
  return quoted(d, tmp, n);
}

/** Writes ASCII text (literals, number text) as is. */
function ascii(d: usize, s: string): usize {
  const n = <usize>s.length;
  d = room(d, n);
  for (let i: usize = 0; i < n; i++) store<u8>(d + i, <u8>load<u16>(changetype<usize>(s) + (i << 1)));
  return d + n;
}

/** Number of decimal digits of `v`. */
@inline function digits32(v: u32): usize {
  if (v < 100000) return v < 100 ? (v < 10 ? 1 : 2) : v < 10000 ? (v < 1000 ? 3 : 4) : 5;
  return v < 10000000 ? (v < 1000000 ? 6 : 7) : v < 1000000000 ? (v < 100000000 ? 8 : 9) : 10;
}

/** Two ASCII digits of `r` < 100, as a little-endian pair. */
@inline function digitPair(r: u32): u16 {
  const t = r / 10;
  return <u16>((0x30 + t) | ((0x30 + r - t * 10) << 8));
}

/** Writes `v` in decimal, two digits per division (room for 10 bytes needed). */
function u32To(d: usize, v: u32): usize {
  const n = digits32(v);
  let p = d + n;
  while (v >= 100) {
    const q = v / 100;
    p -= 2;
    store<u16>(p, digitPair(v - q * 100));
    v = q;
  }
  if (v >= 10) store<u16>(p - 2, digitPair(v));
  else store<u8>(p - 1, <u8>(0x30 + v));
  return d + n;
}

/** Writes `v` in decimal (room for 20 bytes needed). */
function u64To(d: usize, v: u64): usize {
  if (v <= <u64>u32.MAX_VALUE) return u32To(d, <u32>v);
  let n: usize = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  let p = d + n;
  for (let t = v; ; ) {
    store<u8>(--p, <u8>(0x30 + <u32>(t % 10)));
    t /= 10;
    if (t == 0) break;
  }
  return d + n;
}

function i64To(d: usize, v: i64): usize {
  if (v >= 0) return u64To(d, <u64>v);
  store<u8>(d, 0x2d);
  return u64To(d + 1, <u64>(-v));
}

/** A number as JavaScript's JSON.stringify would write it (integers without a fraction, non-finite as null). */
function numberTo(d: usize, v: f64): usize {
  d = room(d, 24);
  if (!isFinite(v)) {
    store<u32>(d, 0x6c6c756e); // null
    return d + 4;
  }
  if (v == Math.floor(v) && Math.abs(v) < 9007199254740992.0) return i64To(d, <i64>v);
  // AssemblyScript writes integral values in fixed notation with ".0" (JavaScript without)
  let s = v.toString();
  if (s.endsWith(".0")) s = s.substring(0, s.length - 2);
  return ascii(d, s);
}

/** A MessagePack array (`isMap` false) or map of `n` entries at `rp` as a JSON array or object at `d`. */
function containerTo(d: usize, n: u32, isMap: bool): usize {
  store<u8>(d++, isMap ? 0x7b : 0x5b);
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) {
      d = room(d, 1);
      store<u8>(d++, 0x2c);
    }
    d = transcodeTo(d);
    if (isMap) {
      d = room(d, 1);
      store<u8>(d++, 0x3a);
      d = transcodeTo(d);
    }
  }
  d = room(d, 1);
  store<u8>(d, isMap ? 0x7d : 0x5d);
  return d + 1;
}

/** Transcodes the MessagePack value at `rp` (ending by `re`) into JSON at `d`. */
function transcodeTo(d: usize): usize {
  d = room(d, 32);
  const b = <u32>load<u8>(need(1));
  if (b < 0x80) return u32To(d, b);
  if (b >= 0xe0) {
    store<u8>(d, 0x2d);
    return u32To(d + 1, 0x100 - b);
  }
  if ((b & 0xe0) == 0xa0) {
    const n = <usize>(b & 0x1f);
    return quoted(d, need(n), n);
  }
  if ((b & 0xf0) == 0x90) return containerTo(d, b & 0x0f, false);
  if ((b & 0xf0) == 0x80) return containerTo(d, b & 0x0f, true);
  switch (b) {
    case 0xc0: store<u32>(d, 0x6c6c756e); return d + 4; // null
    case 0xc2: store<u32>(d, 0x736c6166); store<u8>(d, 0x65, 4); return d + 5; // false
    case 0xc3: store<u32>(d, 0x65757274); return d + 4; // true
    case 0xcc: return u32To(d, load<u8>(need(1)));
    case 0xcd: return u32To(d, bswap<u16>(load<u16>(need(2))));
    case 0xce: return u32To(d, bswap<u32>(load<u32>(need(4))));
    case 0xcf: return u64To(d, bswap<u64>(load<u64>(need(8))));
    case 0xd0: return i64To(d, <i64>(<i8>load<u8>(need(1))));
    case 0xd1: return i64To(d, <i64>(<i16>bswap<u16>(load<u16>(need(2)))));
    case 0xd2: return i64To(d, <i64>(<i32>bswap<u32>(load<u32>(need(4)))));
    // int64 goes through f64, as JSON.stringify sees it
    case 0xd3: return numberTo(d, <f64>(<i64>bswap<u64>(load<u64>(need(8)))));
    case 0xca: return numberTo(d, <f64>reinterpret<f32>(bswap<u32>(load<u32>(need(4)))));
    case 0xcb: return numberTo(d, reinterpret<f64>(bswap<u64>(load<u64>(need(8)))));
    case 0xd9: { const n = <usize>load<u8>(need(1)); return quoted(d, need(n), n); }
    case 0xda: { const n = <usize>bswap<u16>(load<u16>(need(2))); return quoted(d, need(n), n); }
    case 0xdb: { const n = <usize>bswap<u32>(load<u32>(need(4))); return quoted(d, need(n), n); }
    case 0xdc: return containerTo(d, bswap<u16>(load<u16>(need(2))), false);
    case 0xdd: return containerTo(d, bswap<u32>(load<u32>(need(4))), false);
    case 0xde: return containerTo(d, bswap<u16>(load<u16>(need(2))), true);
    case 0xdf: return containerTo(d, bswap<u32>(load<u32>(need(4))), true);
  }
  unreachable();
  return d;
}

function arrayHeader(): u32 {
  const b = <u32>load<u8>(need(1));
  if ((b & 0xf0) == 0x90) return b & 0x0f;
  if (b == 0xdc) return bswap<u16>(load<u16>(need(2)));
  if (b == 0xdd) return bswap<u32>(load<u32>(need(4)));
  unreachable();
  return 0;
}

function strHeader(): usize {
  const b = <u32>load<u8>(need(1));
  if ((b & 0xe0) == 0xa0) return b & 0x1f;
  if (b == 0xd9) return load<u8>(need(1));
  if (b == 0xda) return bswap<u16>(load<u16>(need(2)));
  if (b == 0xdb) return bswap<u32>(load<u32>(need(4)));
  unreachable();
  return 0;
}

/** Writes the argument lists at `rp` as flows.log does: one JSON string per list, elements joined by spaces. */
function argsJoinedTo(d: usize): usize {
  d = room(d, 2);
  store<u8>(d++, 0x5b);
  if (load<u8>(need(1)) != 0xc0) {
    rp--;
    const n = arrayHeader();
    for (let i: u32 = 0; i < n; i++) {
      d = room(d, 2);
      if (i > 0) store<u8>(d++, 0x2c);
      store<u8>(d++, 0x22);
      const m = arrayHeader();
      for (let j: u32 = 0; j < m; j++) {
        d = room(d, 1);
        if (j > 0) store<u8>(d++, 0x20);
        const len = strHeader();
        d = escapeLong(d, need(len), len);
      }
      d = room(d, 1);
      store<u8>(d++, 0x22);
    }
  }
  d = room(d, 1);
  store<u8>(d, 0x5d);
  return d + 1;
}

/** Writes UTF-8 bytes as a JSON string (quoted, escaped). */
export function jsonStringBytes(w: Writer, ptr: usize, n: usize): void {
  w.len = quoted(start(w), ptr, n) - w.ptr;
}

/** Writes an AS string as a JSON string. */
export function jsonString(w: Writer, s: string): void {
  w.len = quotedString(start(w), s) - w.ptr;
}

/** Writes an unsigned integer in decimal (no allocation). */
export function writeU64(w: Writer, v: u64): void {
  w.len = u64To(room(start(w), 20), v) - w.ptr;
}

/** Writes a number as JavaScript's JSON.stringify would (integers without a fraction). */
export function jsonNumber(w: Writer, v: f64): void {
  w.len = numberTo(start(w), v) - w.ptr;
}

/** Transcodes one MessagePack value at the reader's position into JSON. */
export function transcode(r: Reader, w: Writer): void {
  rp = r.pos;
  re = r.end;
  w.len = transcodeTo(start(w)) - w.ptr;
  r.pos = rp;
}

// Per field index (up to FIELD_CACHE_SIZE), the previous flow's field: its
// key pointer and the length through the value's end, then where its JSON
// (key through value) lies in the writer and its length (4 × u32).
const FIELD_CACHE_SIZE: i32 = 64;
const FIELD_CACHE: usize = memory.data(FIELD_CACHE_SIZE << 4, 8);
let cacheEpoch: u32 = u32.MAX_VALUE;
let cacheWriter: usize = 0;
let cacheEnd: usize = 0;

/** True when the `n` bytes at `a` and `b` are equal (`top`: end of memory, for whole-word reads of the tail). */
@inline function sameBytes(a: usize, b: usize, n: usize, top: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  if (i == n) return true;
  if (a + i + 8 > top || b + i + 8 > top) return memory.compare(a + i, b + i, n - i) == 0;
  return ((load<u64>(a + i) ^ load<u64>(b + i)) & (((<u64>1) << (<u64>(n - i) << 3)) - 1)) == 0;
}

/** Copies `n` bytes from earlier output `src` to `d` (room for n + 8: whole words). */
@inline function copyWords(d: usize, src: usize, n: usize): void {
  if (n > 64) {
    memory.copy(d, src, n);
    return;
  }
  for (let i: usize = 0; i < n; i += 8) store<u64>(d + i, load<u64>(src + i));
}

/** Writes `"key":value` of field `j`: room for 6 × klen + 204 bytes is there. */
function fieldTo(d: usize, flow: Flow, j: i32, kp: usize, klen: usize, ex: Extra[] | null, name: string | null, pid: string | null, top: usize): usize {
  store<u8>(d, 0x22);
  d = escapeShort(d + 1, kp, klen, top);
  store<u16>(d, 0x3a22); // '"' ':'
  d += 2;
  const rep = ex !== null ? flow.replacement(j) : null;
  if (rep === null && (j == flow.iName || j == flow.iPid)) {
    const s = j == flow.iName ? name : pid;
    // (a null test, not `!== null`: that calls String.__eq)
    if (changetype<usize>(s) != 0) return quotedString(d, changetype<string>(s));
  }
  if (rep !== null) {
    rp = rep.ptr;
    re = rep.ptr + rep.len;
  } else {
    const v = flow.valPtr(j);
    const b = <u32>load<u8>(v);
    // The common values inline: short strings and small integers.
    if ((b & 0xe0) == 0xa0) {
      const len = <usize>(b & 0x1f);
      store<u8>(d, 0x22);
      d = escapeShort(d + 1, v + 1, len, top);
      store<u8>(d, 0x22);
      return d + 1;
    }
    if (b < 0x80) return u32To(d, b);
    // ports and counters: uint16/uint32 (the value's end is checked by decodeBatch)
    if (b == 0xcd) return u32To(d, bswap<u16>(load<u16>(v, 1)));
    if (b == 0xce) return u32To(d, bswap<u32>(load<u32>(v, 1)));
    rp = v;
    re = flow.valEnd(j);
  }
  return transcodeTo(d);
}

/** True when field `j`'s JSON is a function of its input bytes alone: not replaced, not a process field the plugin read or set. */
@inline function untouched(flow: Flow, j: i32, ex: Extra[] | null, name: string | null, pid: string | null): bool {
  // (null tests on the pointer, not `!== null`: that calls String.__eq)
  return (ex === null || flow.replacement(j) === null) &&
    !(j == flow.iName && changetype<usize>(name) != 0) && !(j == flow.iPid && changetype<usize>(pid) != 0);
}

/**
 * Writes the flows.log JSON line of a flow (without newline): every field in
 * batch order except `id`, then `process_args` with each list joined by spaces.
 * Into Items' buffer, a field whose bytes equal the previous flow's is copied
 * from that flow's item.
 */
export function writeFlowLogJson(flow: Flow, w: Writer): void {
  let d = room(start(w), 1);
  store<u8>(d++, 0x7b);
  let first = true;
  const n = flow.count;
  const ex = flow.extras;
  // decoded or set by the plugin (null: untouched, transcode the input bytes)
  const name = flow.touchedName();
  const pid = flow.touchedPid();
  const top = <usize>memory.size() << 16;
  // The field cache holds the previous flow's fields only when they were
  // written to this writer, in this call, and are still there (a writer whose
  // bytes stay: Items').
  const useCache = w.appendOnly;
  if (useCache && (cacheEpoch != arenaEpoch || cacheWriter != changetype<usize>(w) || w.len < cacheEnd)) {
    memory.fill(FIELD_CACHE, 0, FIELD_CACHE_SIZE << 4);
    cacheEpoch = arenaEpoch;
    cacheWriter = changetype<usize>(w);
  }
  const iId = flow.iId;
  const iArgs = flow.iArgs;
  const iName = flow.iName;
  const iPid = flow.iPid;
  for (let j = 0; j < n; j++) {
    if (j == iId || j == iArgs) continue; // process_args is written last
    const kp = flow.keyPtr(j);
    const klen = <usize>flow.keyLen(j);
    const inLen = flow.valEnd(j) - kp;
    // One check for the comma, the key and an inline value (a fixstr: at most 6 × 31 + 2 bytes).
    d = room(d, 6 * klen + 208);
    store<u8>(d, 0x2c);
    if (!first) d++;
    first = false;
    const c = FIELD_CACHE + (<usize>j << 4);
    // A replaced or touched value's JSON is not a function of the input bytes: not cached.
    const plain = untouched(flow, j, ex, name, pid);
    const cached = useCache && j < FIELD_CACHE_SIZE;
    // The same key and value bytes as the previous flow's field j: the same JSON, copied from its item;
    // with the fields after it that are the same too and whose JSON follows on there (a comma between),
    // in one copy. Their cache entries move to this item, so the next flow finds them together.
    if (cached && plain && <usize>load<u32>(c, 4) == inLen && sameBytes(<usize>load<u32>(c), kp, inLen, top)) {
      const from = <usize>load<u32>(c, 8);
      const out = d - w.ptr;
      store<u32>(c, <u32>out, 8);
      let to = from + <usize>load<u32>(c, 12);
      let k = j + 1;
      for (; k < n && k < FIELD_CACHE_SIZE; k++) {
        if (k == iId || k == iArgs || !untouched(flow, k, ex, name, pid)) break;
        const ck = FIELD_CACHE + (<usize>k << 4);
        const at = <usize>load<u32>(ck, 8);
        if (at != to + 1) break;
        const kpk = flow.keyPtr(k);
        const lenk = flow.valEnd(k) - kpk;
        if (<usize>load<u32>(ck, 4) != lenk || !sameBytes(<usize>load<u32>(ck), kpk, lenk, top)) break;
        store<u32>(ck, <u32>(out + at - from), 8);
        to = at + <usize>load<u32>(ck, 12);
      }
      const len = to - from;
      d = room(d, len + 8);
      copyWords(d, w.ptr + from, len);
      d += len;
      j = k - 1;
      continue;
    }
    const out = d - w.ptr;
    d = fieldTo(d, flow, j, kp, klen, ex, name, pid, top);
    if (cached) {
      store<u32>(c, <u32>kp);
      store<u32>(c, plain ? <u32>inLen : 0, 4);
      store<u32>(c, <u32>out, 8);
      store<u32>(c, <u32>(d - w.ptr - out), 12);
    }
  }
  if (ex !== null) {
    for (let k = 0; k < ex.length; k++) {
      const e = unchecked(ex[k]);
      if (e.index >= 0) continue;
      d = room(d, 1);
      if (!first) store<u8>(d++, 0x2c);
      first = false;
      d = quotedString(d, e.key);
      d = room(d, 1);
      store<u8>(d++, 0x3a);
      rp = e.value.ptr;
      re = e.value.ptr + e.value.len;
      d = transcodeTo(d);
    }
  }
  // `,"process_args":` (without the comma when no field came before)
  d = room(d, 16);
  const off: usize = first ? 1 : 0;
  store<u64>(d, load<u64>(KEY_ARGS + off));
  store<u64>(d, load<u64>(KEY_ARGS + off, 8), 8);
  d += 16 - off;
  const args = flow.touchedArgs();
  if (args !== null) {
    d = room(d, 1);
    store<u8>(d++, 0x5b);
    for (let i = 0; i < args.length; i++) {
      if (i > 0) {
        d = room(d, 1);
        store<u8>(d++, 0x2c);
      }
      d = quotedString(d, unchecked(args[i]).join(" "));
    }
    d = room(d, 1);
    store<u8>(d++, 0x5d);
  } else if (flow.iArgs >= 0) {
    rp = flow.valPtr(flow.iArgs);
    re = flow.valEnd(flow.iArgs);
    d = argsJoinedTo(d);
  } else {
    d = room(d, 2);
    store<u16>(d, 0x5d5b); // []
    d += 2;
  }
  d = room(d, 1);
  store<u8>(d++, 0x7d);
  w.len = d - w.ptr;
  if (useCache) cacheEnd = w.len;
}

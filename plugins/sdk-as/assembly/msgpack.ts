// The MessagePack subset procflow batches use (ENCODING.md): maps with string
// keys, strings, integers, float64, nil, booleans, arrays, bin.

/** The UTF-8 at [p, p + n) as a string: ASCII (most argument text) widened straight into an exact-size string, the rest through String.UTF8. */
function decodeUtf8(p: usize, n: usize): string {
  let i: usize = 0;
  while (i + 8 <= n) {
    if ((load<u64>(p + i) & 0x8080808080808080) != 0) return String.UTF8.decodeUnsafe(p, n);
    i += 8;
  }
  while (i < n) {
    if (load<u8>(p + i) >= 0x80) return String.UTF8.decodeUnsafe(p, n);
    i++;
  }
  if (n == 0) return "";
  const s = __new(n << 1, idof<String>());
  for (let k: usize = 0; k < n; k++) store<u16>(s + (k << 1), <u16>load<u8>(p + k));
  return changetype<string>(s);
}

/** Reads MessagePack from linear memory; malformed input traps (the host only sends valid batches). */
export class Reader {
  pos: usize;
  end: usize;
  constructor(ptr: usize, len: usize) {
    this.pos = ptr;
    this.end = ptr + len;
  }
  @inline private need(n: usize): void {
    if (this.pos + n > this.end) unreachable();
  }
  @inline peek(): u8 {
    this.need(1);
    return load<u8>(this.pos);
  }
  @inline u8(): u8 {
    this.need(1);
    return load<u8>(this.pos++);
  }
  @inline u16(): u32 {
    this.need(2);
    const v = bswap<u16>(load<u16>(this.pos));
    this.pos += 2;
    return <u32>v;
  }
  @inline u32(): u32 {
    this.need(4);
    const v = bswap<u32>(load<u32>(this.pos));
    this.pos += 4;
    return v;
  }
  @inline u64(): u64 {
    this.need(8);
    const v = bswap<u64>(load<u64>(this.pos));
    this.pos += 8;
    return v;
  }
  isNil(): bool {
    return this.peek() == 0xc0;
  }
  mapHeader(): i32 {
    const b = this.u8();
    if ((b & 0xf0) == 0x80) return b & 0x0f;
    if (b == 0xde) return <i32>this.u16();
    if (b == 0xdf) return <i32>this.u32();
    unreachable();
    return 0;
  }
  arrayHeader(): i32 {
    const b = this.u8();
    if ((b & 0xf0) == 0x90) return b & 0x0f;
    if (b == 0xdc) return <i32>this.u16();
    if (b == 0xdd) return <i32>this.u32();
    unreachable();
    return 0;
  }
  /** Length of a string whose header is at `pos`; leaves `pos` on its first byte. */
  strHeader(): u32 {
    const b = this.u8();
    if ((b & 0xe0) == 0xa0) return b & 0x1f;
    if (b == 0xd9) return this.u8();
    if (b == 0xda) return this.u16();
    if (b == 0xdb) return this.u32();
    unreachable();
    return 0;
  }
  str(): string {
    const n = this.strHeader();
    this.need(n);
    const p = this.pos;
    this.pos += n;
    return decodeUtf8(p, n);
  }
  /** A number of any MessagePack numeric type, as f64. */
  number(): f64 {
    const b = this.u8();
    if (b < 0x80) return <f64>b;
    if (b >= 0xe0) return <f64>(<i8>b);
    switch (b) {
      case 0xcc: return <f64>this.u8();
      case 0xcd: return <f64>this.u16();
      case 0xce: return <f64>this.u32();
      case 0xcf: return <f64>this.u64();
      case 0xd0: return <f64>(<i8>this.u8());
      case 0xd1: return <f64>(<i16>this.u16());
      case 0xd2: return <f64>(<i32>this.u32());
      case 0xd3: return <f64>(<i64>this.u64());
      case 0xca: return <f64>reinterpret<f32>(this.u32());
      case 0xcb: return reinterpret<f64>(this.u64());
    }
    unreachable();
    return 0;
  }
  /** Skips one value of any type. */
  skip(): void {
    const b = this.u8();
    if (b < 0x80 || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return;
    if ((b & 0xf0) == 0x80) { this.skipN((b & 0x0f) * 2); return; }
    if ((b & 0xf0) == 0x90) { this.skipN(b & 0x0f); return; }
    if ((b & 0xe0) == 0xa0) { this.bytes(b & 0x1f); return; }
    switch (b) {
      case 0xcc: case 0xd0: this.bytes(1); return;
      case 0xcd: case 0xd1: this.bytes(2); return;
      case 0xce: case 0xd2: case 0xca: this.bytes(4); return;
      case 0xcf: case 0xd3: case 0xcb: this.bytes(8); return;
      case 0xd9: case 0xc4: this.bytes(this.u8()); return;
      case 0xda: case 0xc5: this.bytes(this.u16()); return;
      case 0xdb: case 0xc6: this.bytes(this.u32()); return;
      case 0xdc: this.skipN(<i32>this.u16()); return;
      case 0xdd: this.skipN(<i32>this.u32()); return;
      case 0xde: this.skipN(<i32>this.u16() * 2); return;
      case 0xdf: this.skipN(<i32>this.u32() * 2); return;
    }
    unreachable();
  }
  @inline private bytes(n: usize): void {
    this.need(n);
    this.pos += n;
  }
  private skipN(n: i32): void {
    for (let i = 0; i < n; i++) this.skip();
  }
}

/** A growable output buffer in the call's arena. */
export class Writer {
  ptr: usize;
  len: usize = 0;
  cap: usize;
  /** Bytes once written stay as they are (Items' buffer): the SDK may copy from them (writeFlowLogJson's field cache). */
  appendOnly: bool = false;
  constructor(cap: usize = 4096) {
    this.ptr = heap.alloc(cap);
    this.cap = cap;
  }
  @inline ensure(n: usize): void {
    if (this.len + n > this.cap) this.grow(n);
  }
  private grow(n: usize): void {
    let cap = this.cap << 1;
    if (cap < this.len + n) cap = this.len + n;
    this.ptr = heap.realloc(this.ptr, cap);
    this.cap = cap;
  }
  @inline byte(b: u8): void {
    this.ensure(1);
    store<u8>(this.ptr + this.len++, b);
  }
  copy(src: usize, n: usize): void {
    this.ensure(n);
    memory.copy(this.ptr + this.len, src, n);
    this.len += n;
  }
  @inline be16(v: u32): void {
    this.ensure(2);
    store<u16>(this.ptr + this.len, bswap<u16>(<u16>v));
    this.len += 2;
  }
  @inline be32(v: u32): void {
    this.ensure(4);
    store<u32>(this.ptr + this.len, bswap<u32>(v));
    this.len += 4;
  }
  /** Writes an ASCII/UTF-16 string as UTF-8 bytes (no header). */
  utf8(s: string): void {
    const n = <usize>String.UTF8.byteLength(s);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.ptr + this.len);
    this.len += n;
  }
  mapHeader(n: u32): void {
    if (n < 16) this.byte(<u8>(0x80 | n));
    else if (n < 0x10000) { this.byte(0xde); this.be16(n); }
    else { this.byte(0xdf); this.be32(n); }
  }
  arrayHeader(n: u32): void {
    if (n < 16) this.byte(<u8>(0x90 | n));
    else if (n < 0x10000) { this.byte(0xdc); this.be16(n); }
    else { this.byte(0xdd); this.be32(n); }
  }
  strHeader(n: u32): void {
    if (n < 32) this.byte(<u8>(0xa0 | n));
    else if (n < 0x100) { this.byte(0xd9); this.byte(<u8>n); }
    else if (n < 0x10000) { this.byte(0xda); this.be16(n); }
    else { this.byte(0xdb); this.be32(n); }
  }
  str(s: string): void {
    const n = <usize>s.length;
    const src = changetype<usize>(s);
    for (let i: usize = 0; i < n; i++) {
      if (load<u16>(src + (i << 1)) >= 0x80) {
        this.strHeader(<u32>String.UTF8.byteLength(s));
        this.utf8(s);
        return;
      }
    }
    // ASCII: one byte per unit, no UTF-8 length pass
    this.strHeader(<u32>n);
    this.ensure(n);
    const dst = this.ptr + this.len;
    for (let i: usize = 0; i < n; i++) store<u8>(dst + i, <u8>load<u16>(src + (i << 1)));
    this.len += n;
  }
  number(v: f64): void {
    if (v == Math.floor(v) && v >= 0 && v < 4294967296.0) {
      const u = <u32>v;
      if (u < 0x80) this.byte(<u8>u);
      else { this.byte(0xce); this.be32(u); }
      return;
    }
    this.byte(0xcb);
    this.ensure(8);
    store<u64>(this.ptr + this.len, bswap<u64>(reinterpret<u64>(v)));
    this.len += 8;
  }
  nil(): void {
    this.byte(0xc0);
  }
}

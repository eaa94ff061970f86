// Flow records as an author sees them. Decoding a batch only indexes it: per
// flow one table of byte ranges (key and value of every field) into the input
// batch. The process fields are decoded into strings when first read, every
// other field when asked for, and untouched fields are copied byte for byte on
// output — a plugin pays only for what it touches.
import { Reader, Writer } from "./msgpack";

// One span per field: 4 u32 (key pointer, key length, value pointer, value end).
const SPAN: usize = 16;

/** A field an enricher set: a replacement of field `index`, or a new field (`index` -1, `key`). */
export class Extra {
  index: i32 = -1;
  key: string = "";
  /** The value, MessagePack-encoded. */
  value: Writer;
  constructor(value: Writer) {
    this.value = value;
  }
}

function keyIs(ptr: usize, len: u32, key: string): bool {
  if (<i32>len != key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (<u32>load<u8>(ptr + i) != <u32>key.charCodeAt(i)) return false;
  }
  return true;
}

/** True when `s`, UTF-8-encoded, is exactly the `len` bytes at `ptr`. */
export function strEqualsBytes(s: string, ptr: usize, len: usize): bool {
  const n = s.length;
  let ascii = true;
  if (<usize>n == len) {
    for (let i = 0; i < n; i++) {
      const c = <u32>s.charCodeAt(i);
      if (c >= 0x80) { ascii = false; break; }
      if (c != <u32>load<u8>(ptr + i)) return false;
    }
    if (ascii) return true;
  }
  const m = <usize>String.UTF8.byteLength(s);
  if (m != len) return false;
  const tmp = heap.alloc(m);
  String.UTF8.encodeUnsafe(changetype<usize>(s), n, tmp);
  return memory.compare(tmp, ptr, m) == 0;
}

// Key bytes as little-endian words: "id", "process_", "name", "args".
const KEY_ID: u16 = 0x6469;
const KEY_PROCESS_: u64 = 0x5f737365636f7270;
const KEY_NAME: u32 = 0x656d616e;
const KEY_ARGS: u32 = 0x73677261;

/** Reads a MessagePack string value lying at [ptr, end). */
function strAt(ptr: usize, end: usize): string {
  return new Reader(ptr, end - ptr).str();
}

function readArgs(ptr: usize, end: usize): string[][] {
  const r = new Reader(ptr, end - ptr);
  if (r.isNil()) return [];
  const n = r.arrayHeader();
  const out = new Array<string[]>(n);
  for (let i = 0; i < n; i++) {
    const m = r.arrayHeader();
    const argv = new Array<string>(m);
    for (let j = 0; j < m; j++) unchecked(argv[j] = r.str());
    unchecked(out[i] = argv);
  }
  return out;
}

/**
 * True when `args` are exactly the MessagePack argument lists at [ptr, end)
 * (compared without encoding). `decoded` (snapshotArgs, or 0): a string that is
 * the one decoded at its place is equal without comparing.
 */
function argsEqualRaw(args: string[][], ptr: usize, end: usize, decoded: usize): bool {
  const r = new Reader(ptr, end - ptr);
  if (r.isNil()) return args.length == 0;
  const b = r.peek();
  if (!((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)) return false;
  const n = r.arrayHeader();
  if (n != args.length) return false;
  // the snapshot has the decoded lists' shape; use it only while the shape matches
  let t = decoded;
  if (t != 0 && load<u32>(t) != <u32>n) t = 0;
  if (t != 0) t += 4;
  for (let i = 0; i < n; i++) {
    const argv = unchecked(args[i]);
    const c = r.peek();
    if (!((c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd)) return false;
    const m = r.arrayHeader();
    if (m != argv.length) return false;
    if (t != 0 && load<u32>(t) != <u32>m) t = 0;
    if (t != 0) t += 4;
    for (let j = 0; j < m; j++) {
      const d = r.peek();
      if (!((d & 0xe0) == 0xa0 || d == 0xd9 || d == 0xda || d == 0xdb)) return false;
      const len = r.strHeader();
      const s = unchecked(argv[j]);
      const same = t != 0 && load<u32>(t + (<usize>j << 2)) == <u32>changetype<usize>(s);
      if (!same && !strEqualsBytes(s, r.pos, len)) return false;
      r.pos += len;
    }
    if (t != 0) t += <usize>m << 2;
  }
  return true;
}

/**
 * The argument lists as decoded: a table of u32 (list count, then per list its
 * length and the pointers of its strings), so that lists the plugin left alone
 * are recognised by identity instead of comparing every argument with the batch.
 */
function snapshotArgs(args: string[][]): usize {
  let words = 1 + args.length;
  for (let i = 0; i < args.length; i++) words += unchecked(args[i]).length;
  const t = heap.alloc(<usize>words * 4);
  let p = t;
  store<u32>(p, <u32>args.length);
  p += 4;
  for (let i = 0; i < args.length; i++) {
    const argv = unchecked(args[i]);
    store<u32>(p, <u32>argv.length);
    p += 4;
    for (let j = 0; j < argv.length; j++) {
      store<u32>(p, <u32>changetype<usize>(unchecked(argv[j])));
      p += 4;
    }
  }
  return t;
}

/** True when `args` holds exactly the strings decoded from the batch (snapshotArgs), in place: nothing changed. */
function sameAsDecoded(args: string[][], t: usize): bool {
  if (t == 0) return false;
  let p = t;
  if (load<u32>(p) != <u32>args.length) return false;
  p += 4;
  for (let i = 0; i < args.length; i++) {
    const argv = unchecked(args[i]);
    if (load<u32>(p) != <u32>argv.length) return false;
    p += 4;
    for (let j = 0; j < argv.length; j++) {
      if (load<u32>(p) != <u32>changetype<usize>(unchecked(argv[j]))) return false;
      p += 4;
    }
  }
  return true;
}

/** Writes argument lists as MessagePack. */
export function writeArgs(w: Writer, args: string[][]): void {
  w.arrayHeader(<u32>args.length);
  for (let i = 0; i < args.length; i++) {
    const argv = unchecked(args[i]);
    w.arrayHeader(<u32>argv.length);
    for (let j = 0; j < argv.length; j++) w.str(unchecked(argv[j]));
  }
}

/** One flow record of a batch (field names are the flow log's: `dest_port`, `bytes_out`, …). */
export class Flow {
  // Internal (used by the SDK's encoders): the field table and where the typed fields are.
  spans: usize = 0;
  count: i32 = 0;
  iId: i32 = -1;
  iName: i32 = -1;
  iPid: i32 = -1;
  iArgs: i32 = -1;
  extras: Extra[] | null = null;
  private _id: string | null = null;
  private _name: string | null = null;
  private _pid: string | null = null;
  private _args: string[][] | null = null;
  // Set by the setters: a field only read is unchanged (strings are immutable).
  private _nameSet: bool = false;
  private _pidSet: bool = false;
  /** snapshotArgs of the decoded lists (0: not decoded). */
  private _argsRead: usize = 0;

  @inline keyPtr(i: i32): usize { return <usize>load<u32>(this.spans + <usize>i * SPAN); }
  @inline keyLen(i: i32): u32 { return load<u32>(this.spans + <usize>i * SPAN, 4); }
  @inline valPtr(i: i32): usize { return <usize>load<u32>(this.spans + <usize>i * SPAN, 8); }
  @inline valEnd(i: i32): usize { return <usize>load<u32>(this.spans + <usize>i * SPAN, 12); }

  /** Stable record id. Do not change it: the host matches outputs to inputs by id. */
  get id(): string {
    if (this._id === null) this._id = this.iId >= 0 ? strAt(this.valPtr(this.iId), this.valEnd(this.iId)) : "";
    return this._id!;
  }
  set id(v: string) { this._id = v; }

  /** Full executable path (or comm); `-` / `*` placeholders as in the schema. */
  get processName(): string {
    if (this._name === null) this._name = this.iName >= 0 ? strAt(this.valPtr(this.iName), this.valEnd(this.iName)) : "";
    return this._name!;
  }
  set processName(v: string) { this._name = v; this._nameSet = true; }

  /** The pid as a string, `*` or `-`. */
  get processId(): string {
    if (this._pid === null) this._pid = this.iPid >= 0 ? strAt(this.valPtr(this.iPid), this.valEnd(this.iPid)) : "";
    return this._pid!;
  }
  set processId(v: string) { this._pid = v; this._pidSet = true; }

  /** Distinct argument lists, each argv after argv[0]. Change elements in place or assign new lists. */
  get processArgs(): string[][] {
    if (this._args === null) {
      if (this.iArgs >= 0) {
        const a = readArgs(this.valPtr(this.iArgs), this.valEnd(this.iArgs));
        this._args = a;
        this._argsRead = snapshotArgs(a);
      } else this._args = [];
    }
    return this._args!;
  }
  set processArgs(v: string[][]) { this._args = v; }

  /** Number of fields of the input record (fields added by `set…` not counted). */
  get fieldCount(): i32 {
    return this.count;
  }

  /** Name of input field `i` (0 ≤ i < fieldCount), in batch order. */
  fieldKey(i: i32): string {
    return String.UTF8.decodeUnsafe(this.keyPtr(i), this.keyLen(i));
  }

  private findIndex(key: string): i32 {
    for (let i = 0; i < this.count; i++) if (keyIs(this.keyPtr(i), this.keyLen(i), key)) return i;
    return -1;
  }

  private findExtra(index: i32, key: string): Extra | null {
    const ex = this.extras;
    if (ex === null) return null;
    for (let i = 0; i < ex.length; i++) {
      const e = unchecked(ex[i]);
      if (index >= 0 ? e.index == index : e.index < 0 && e.key == key) return e;
    }
    return null;
  }

  /** The extra set for input field `i`, if an enricher replaced it. */
  replacement(i: i32): Writer | null {
    const e = this.findExtra(i, "");
    return e === null ? null : e.value;
  }

  /** A reader over the current value of `key`, or null when absent. */
  private valueReader(key: string): Reader | null {
    const i = this.findIndex(key);
    const e = this.findExtra(i, key);
    if (e !== null) return new Reader(e.value.ptr, e.value.len);
    if (i < 0) return null;
    return new Reader(this.valPtr(i), this.valEnd(i) - this.valPtr(i));
  }

  /** True when the flow has the field. */
  has(key: string): bool {
    return this.findIndex(key) >= 0 || this.findExtra(-1, key) !== null;
  }

  /** A string field (e.g. `dest_name`), or null when absent or not a string. */
  getString(key: string): string | null {
    const r = this.valueReader(key);
    if (r === null) return null;
    const b = r.peek();
    if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb) return r.str();
    return null;
  }

  /** A numeric field (e.g. `dest_port`, `bytes_out`), or NaN when absent, null or not a number. */
  getNumber(key: string): f64 {
    const r = this.valueReader(key);
    if (r === null) return NaN;
    const b = r.peek();
    if (b < 0x80 || b >= 0xe0 || (b >= 0xca && b <= 0xd3)) return r.number();
    return NaN;
  }

  private slot(key: string, value: Writer): void {
    const i = this.findIndex(key);
    let e = this.findExtra(i, key);
    if (e === null) {
      e = new Extra(value);
      e.index = i;
      e.key = key;
      if (this.extras === null) this.extras = [];
      this.extras!.push(e);
    }
    e.value = value;
  }

  /** Sets (or adds) a string field. Enrichers only: redactors may change the process fields alone. */
  setString(key: string, value: string): void {
    const w = new Writer(<usize>value.length * 3 + 8);
    w.str(value);
    this.slot(key, w);
  }

  /** Sets (or adds) a numeric field. Enrichers only. */
  setNumber(key: string, value: f64): void {
    const w = new Writer(16);
    w.number(value);
    this.slot(key, w);
  }

  /** Sets (or adds) a field to null. Enrichers only. */
  setNull(key: string): void {
    const w = new Writer(1);
    w.nil();
    this.slot(key, w);
  }

  // ---- used by the SDK's encoders ----

  /** The decoded id/name/pid if the plugin read or set them (null: untouched, copy the input bytes). */
  touchedId(): string | null { return this._id; }
  touchedName(): string | null { return this._name; }
  touchedPid(): string | null { return this._pid; }
  touchedArgs(): string[][] | null { return this._args; }

  /** True when the process name now differs from the input. */
  nameChanged(): bool { return this._nameSet && this.strChanged(this._name, this.iName); }
  /** True when the pid now differs from the input. */
  pidChanged(): bool { return this._pidSet && this.strChanged(this._pid, this.iPid); }

  private strChanged(s: string | null, i: i32): bool {
    if (s === null) return false;
    if (i < 0) return true;
    const r = new Reader(this.valPtr(i), this.valEnd(i) - this.valPtr(i));
    const b = r.peek();
    if (!((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb)) return true;
    const n = r.strHeader();
    return !strEqualsBytes(s!, r.pos, n);
  }

  /** True when the argument lists were not read, or hold exactly the strings decoded from the batch. */
  argsUntouched(): bool {
    const a = this._args;
    return a === null || sameAsDecoded(a!, this._argsRead);
  }

  /**
   * Writes the argument lists to `w` when they differ from the input and
   * returns true; leaves `w` as it was and returns false when they are equal.
   */
  writeArgsIfChanged(w: Writer): bool {
    const a = this._args;
    if (a === null) return false;
    // valid UTF-8 in (the host writes it): a string decoded from the batch encodes back to the same bytes
    if (this.iArgs >= 0 && (sameAsDecoded(a!, this._argsRead) || argsEqualRaw(a!, this.valPtr(this.iArgs), this.valEnd(this.iArgs), this._argsRead))) return false;
    writeArgs(w, a!);
    return true;
  }
}

/** Indexes a MessagePack batch (an array of flow maps) that lies at `ptr`. */
export function decodeBatch(ptr: usize, len: usize): Flow[] {
  const r = new Reader(ptr, len);
  const n = r.arrayHeader();
  const flows = new Array<Flow>(n);
  for (let i = 0; i < n; i++) {
    const flow = new Flow();
    const m = r.mapHeader();
    const spans = heap.alloc(<usize>m * SPAN);
    const end = r.end;
    let p = r.pos; // a local: r.pos only for the slow paths (a field would be stored and reloaded per field)
    for (let j = 0; j < m; j++) {
      // Keys are fixstr but for the odd long one.
      if (p >= end) unreachable();
      let klen: u32;
      let kp: usize;
      const kb = <u32>load<u8>(p);
      if ((kb & 0xe0) == 0xa0) {
        klen = kb & 0x1f;
        kp = p + 1;
      } else {
        r.pos = p;
        klen = r.strHeader();
        kp = r.pos;
      }
      const vp = kp + <usize>klen;
      if (vp >= end) unreachable();
      // The typed fields, by length first (most keys are not these), then as words (vp < end: the key's bytes are there).
      if (klen == 2) { if (load<u16>(kp) == KEY_ID) flow.iId = j; }
      else if (klen == 12) {
        if (load<u64>(kp) == KEY_PROCESS_) {
          const tail = load<u32>(kp, 8);
          if (tail == KEY_NAME) flow.iName = j;
          else if (tail == KEY_ARGS) flow.iArgs = j;
        }
      } else if (klen == 10 && load<u64>(kp) == KEY_PROCESS_ && load<u16>(kp, 8) == KEY_ID) flow.iPid = j;
      // Most values are fixstr or fixint: skipped inline.
      const b = <u32>load<u8>(vp);
      if ((b & 0xe0) == 0xa0) {
        p = vp + 1 + <usize>(b & 0x1f);
        if (p > end) unreachable();
      } else if (b < 0x80) p = vp + 1;
      else if (b >= 0xcc && b <= 0xce) {
        // uint8/16/32: ports, counters, times
        p = vp + 1 + (<usize>1 << <usize>(b - 0xcc));
        if (p > end) unreachable();
      } else if (b == 0xd9) {
        // str8: a path or argument of 32 to 255 bytes
        if (vp + 2 > end) unreachable();
        p = vp + 2 + <usize>load<u8>(vp, 1);
        if (p > end) unreachable();
      } else {
        r.pos = vp;
        r.skip();
        p = r.pos;
      }
      const s = spans + <usize>j * SPAN;
      store<u64>(s, <u64>kp | (<u64>klen << 32));
      store<u64>(s, <u64>vp | (<u64>p << 32), 8);
    }
    r.pos = p;
    flow.spans = spans;
    flow.count = m;
    unchecked(flows[i] = flow);
  }
  return flows;
}

/** Encodes whole flows (enricher output): untouched fields are copied byte for byte. */
export function encodeBatch(flows: Flow[], w: Writer): void {
  w.arrayHeader(<u32>flows.length);
  for (let i = 0; i < flows.length; i++) {
    const flow = unchecked(flows[i]);
    const n = flow.count;
    const ex = flow.extras;
    let added = 0;
    if (ex !== null) for (let k = 0; k < ex.length; k++) if (unchecked(ex[k]).index < 0) added++;
    w.mapHeader(<u32>(n + added));
    for (let j = 0; j < n; j++) {
      w.strHeader(flow.keyLen(j));
      w.copy(flow.keyPtr(j), flow.keyLen(j));
      const rep = ex !== null ? flow.replacement(j) : null;
      if (rep !== null) { w.copy(rep.ptr, rep.len); continue; }
      let s: string | null = null;
      if (j == flow.iId) s = flow.touchedId();
      else if (j == flow.iName) s = flow.touchedName();
      else if (j == flow.iPid) s = flow.touchedPid();
      else if (j == flow.iArgs && flow.touchedArgs() !== null) { writeArgs(w, flow.touchedArgs()!); continue; }
      if (s !== null) w.str(s!);
      else w.copy(flow.valPtr(j), flow.valEnd(j) - flow.valPtr(j));
    }
    if (ex !== null) {
      for (let k = 0; k < ex.length; k++) {
        const e = unchecked(ex[k]);
        if (e.index >= 0) continue;
        w.str(e.key);
        w.copy(e.value.ptr, e.value.len);
      }
    }
  }
}

/**
 * Encodes the redactor output: per flow, `id` and only the process fields
 * that changed (ENCODING.md: an absent field is unchanged).
 */
export function encodeProcessFields(flows: Flow[], w: Writer): void {
  w.arrayHeader(<u32>flows.length);
  for (let i = 0; i < flows.length; i++) {
    const flow = unchecked(flows[i]);
    const header = w.len;
    w.byte(0x81); // fixmap, count patched below (≤ 4)
    let count: u8 = 1;
    w.str("id");
    const touched = flow.touchedId();
    if (touched !== null || flow.iId < 0) w.str(flow.id);
    else w.copy(flow.valPtr(flow.iId), flow.valEnd(flow.iId) - flow.valPtr(flow.iId));
    if (flow.nameChanged()) { w.str("process_name"); w.str(flow.processName); count++; }
    if (flow.pidChanged()) { w.str("process_id"); w.str(flow.processId); count++; }
    if (!flow.argsUntouched()) {
      const keyAt = w.len;
      w.str("process_args");
      if (flow.writeArgsIfChanged(w)) count++;
      else w.len = keyAt;
    }
    store<u8>(w.ptr + header, 0x80 | count);
  }
}

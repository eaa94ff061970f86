// Flow records as an author sees them. The process fields (what redactors
// change) are decoded into typed properties; every other field stays as its
// MessagePack bytes in the input batch until read, and is copied verbatim on
// output, so a plugin pays only for what it touches.
import { Reader, Writer } from "./msgpack";

/** One field of a flow: key and value as byte ranges of the batch, or a replacement value. */
export class Field {
  keyPtr: usize = 0;
  keyLen: u32 = 0;
  valPtr: usize = 0;
  valEnd: usize = 0;
  /** Set by setString/setNumber: the new value, MessagePack-encoded. */
  replaced: Writer | null = null;
  /** For fields added by the plugin. */
  newKey: string | null = null;
}

// Which typed property a field maps to.
const K_OTHER: u8 = 0;
const K_ID: u8 = 1;
const K_NAME: u8 = 2;
const K_PID: u8 = 3;
const K_ARGS: u8 = 4;

function keyIs(ptr: usize, len: u32, key: string): bool {
  if (<i32>len != key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (<u32>load<u8>(ptr + i) != <u32>key.charCodeAt(i)) return false;
  }
  return true;
}

function keyKind(ptr: usize, len: u32): u8 {
  if (len == 2 && keyIs(ptr, len, "id")) return K_ID;
  if (len == 12 && keyIs(ptr, len, "process_name")) return K_NAME;
  if (len == 10 && keyIs(ptr, len, "process_id")) return K_PID;
  if (len == 12 && keyIs(ptr, len, "process_args")) return K_ARGS;
  return K_OTHER;
}

/** One flow record of a batch (field names are the flow log's: `dest_port`, `bytes_out`, …). */
export class Flow {
  /** Stable record id. Do not change it: the host matches outputs to inputs by id. */
  id: string = "";
  /** Full executable path (or comm); `-` / `*` placeholders as in the schema. */
  processName: string = "";
  /** The pid as a string, `*` or `-`. */
  processId: string = "";
  /** Distinct argument lists, each argv after argv[0]. */
  processArgs: string[][] = [];
  /** Every field in batch order (the typed ones included). */
  fields: Field[] = [];
  kinds: u8[] = [];

  private find(key: string): Field | null {
    const n = this.fields.length;
    for (let i = 0; i < n; i++) {
      const f = unchecked(this.fields[i]);
      const nk = f.newKey;
      if (nk !== null) {
        if (nk == key) return f;
      } else if (keyIs(f.keyPtr, f.keyLen, key)) return f;
    }
    return null;
  }

  /** True when the flow has the field. */
  has(key: string): bool {
    return this.find(key) !== null;
  }

  /** A string field (e.g. `dest_name`), or null when absent or not a string. */
  getString(key: string): string | null {
    const f = this.find(key);
    if (f === null) return null;
    const r = f.replaced !== null ? new Reader(f.replaced!.ptr, f.replaced!.len) : new Reader(f.valPtr, f.valEnd - f.valPtr);
    const b = r.peek();
    if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb) return r.str();
    return null;
  }

  /** A numeric field (e.g. `dest_port`, `bytes_out`), or NaN when absent, null or not a number. */
  getNumber(key: string): f64 {
    const f = this.find(key);
    if (f === null) return NaN;
    const r = f.replaced !== null ? new Reader(f.replaced!.ptr, f.replaced!.len) : new Reader(f.valPtr, f.valEnd - f.valPtr);
    const b = r.peek();
    if (b < 0x80 || b >= 0xe0 || (b >= 0xca && b <= 0xd3)) return r.number();
    return NaN;
  }

  private slot(key: string): Field {
    let f = this.find(key);
    if (f === null) {
      f = new Field();
      f.newKey = key;
      this.fields.push(f);
      this.kinds.push(K_OTHER);
    }
    return f;
  }

  /** Sets (or adds) a string field. Enrichers only: redactors may change the process fields alone. */
  setString(key: string, value: string): void {
    const w = new Writer(<usize>value.length * 3 + 8);
    w.str(value);
    this.slot(key).replaced = w;
  }

  /** Sets (or adds) a numeric field. Enrichers only. */
  setNumber(key: string, value: f64): void {
    const w = new Writer(16);
    w.number(value);
    this.slot(key).replaced = w;
  }

  /** Sets (or adds) a field to null. Enrichers only. */
  setNull(key: string): void {
    const w = new Writer(1);
    w.nil();
    this.slot(key).replaced = w;
  }
}

function readArgs(r: Reader): string[][] {
  if (r.isNil()) { r.u8(); return []; }
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

/** Decodes a MessagePack batch (an array of flow maps) that lies at `ptr`. */
export function decodeBatch(ptr: usize, len: usize): Flow[] {
  const r = new Reader(ptr, len);
  const n = r.arrayHeader();
  const flows = new Array<Flow>(n);
  for (let i = 0; i < n; i++) {
    const flow = new Flow();
    const m = r.mapHeader();
    const fields = new Array<Field>(m);
    const kinds = new Array<u8>(m);
    for (let j = 0; j < m; j++) {
      const klen = r.strHeader();
      const f = new Field();
      f.keyPtr = r.pos;
      f.keyLen = klen;
      r.pos += klen;
      f.valPtr = r.pos;
      const kind = keyKind(f.keyPtr, klen);
      if (kind == K_ID) flow.id = r.str();
      else if (kind == K_NAME) flow.processName = r.str();
      else if (kind == K_PID) flow.processId = r.str();
      else if (kind == K_ARGS) flow.processArgs = readArgs(r);
      else r.skip();
      f.valEnd = r.pos;
      unchecked(fields[j] = f);
      unchecked(kinds[j] = kind);
    }
    flow.fields = fields;
    flow.kinds = kinds;
    unchecked(flows[i] = flow);
  }
  return flows;
}

function writeArgs(w: Writer, args: string[][]): void {
  w.arrayHeader(<u32>args.length);
  for (let i = 0; i < args.length; i++) {
    const argv = unchecked(args[i]);
    w.arrayHeader(<u32>argv.length);
    for (let j = 0; j < argv.length; j++) w.str(unchecked(argv[j]));
  }
}

/** Encodes whole flows (enricher output): untouched fields are copied byte for byte. */
export function encodeBatch(flows: Flow[], w: Writer): void {
  w.arrayHeader(<u32>flows.length);
  for (let i = 0; i < flows.length; i++) {
    const flow = unchecked(flows[i]);
    const n = flow.fields.length;
    w.mapHeader(<u32>n);
    for (let j = 0; j < n; j++) {
      const f = unchecked(flow.fields[j]);
      const kind = unchecked(flow.kinds[j]);
      const nk = f.newKey;
      if (nk !== null) w.str(nk);
      else {
        w.strHeader(f.keyLen);
        w.copy(f.keyPtr, f.keyLen);
      }
      if (kind == K_ID) w.str(flow.id);
      else if (kind == K_NAME) w.str(flow.processName);
      else if (kind == K_PID) w.str(flow.processId);
      else if (kind == K_ARGS) writeArgs(w, flow.processArgs);
      else if (f.replaced !== null) w.copy(f.replaced!.ptr, f.replaced!.len);
      else w.copy(f.valPtr, f.valEnd - f.valPtr);
    }
  }
}

/** Encodes the redactor output: per flow, `id` and the process fields only. */
export function encodeProcessFields(flows: Flow[], w: Writer): void {
  w.arrayHeader(<u32>flows.length);
  for (let i = 0; i < flows.length; i++) {
    const flow = unchecked(flows[i]);
    w.mapHeader(4);
    w.str("id");
    w.str(flow.id);
    w.str("process_name");
    w.str(flow.processName);
    w.str("process_id");
    w.str(flow.processId);
    w.str("process_args");
    writeArgs(w, flow.processArgs);
  }
}

// The stage worlds' exports, minus the author's function: the generated entry
// of a plugin calls these with the author's handler.
import { retErr, retOk, retString, takeError } from "./abi";
import { decodeBatch, encodeBatch, encodeProcessFields, Flow } from "./flow";
import { Writer } from "./msgpack";

/** The WIT `encoding` enum: AssemblyScript plugins read and write MessagePack. */
export const ENCODING_MSGPACK: i32 = 0;

/** enricher.enrich: decode, let the author change the flows, encode them whole. */
export function runEnrich(handler: (flows: Flow[]) => void, ptr: usize, len: usize): usize {
  const flows = decodeBatch(ptr, len);
  handler(flows);
  const err = takeError();
  if (err !== null) return retErr(err);
  const w = new Writer(len + (len >> 2) + 64);
  encodeBatch(flows, w);
  return retOk(w.ptr, w.len);
}

/** redactor.redact: decode, let the author mask, return the process fields only. */
export function runRedact(handler: (flows: Flow[]) => void, ptr: usize, len: usize): usize {
  const flows = decodeBatch(ptr, len);
  handler(flows);
  const err = takeError();
  if (err !== null) return retErr(err);
  const w = new Writer((len >> 1) + 64);
  encodeProcessFields(flows, w);
  return retOk(w.ptr, w.len);
}

/** Collects a formatter's items: one per flow, in order. */
export class Items {
  /** All item bytes back to back. */
  out: Writer;
  /** Per item a pair of u32: its start offset in `out` and its length (runFormat turns the offsets into pointers). */
  list: usize;
  private cap: i32;
  private n: i32 = 0;
  constructor(sizeHint: usize, countHint: i32 = 16) {
    this.out = new Writer(sizeHint);
    this.out.appendOnly = true; // items are never rewritten
    this.cap = countHint > 0 ? countHint : 1;
    this.list = heap.alloc(<usize>this.cap << 3);
  }
  /** Starts the next item; write its bytes to `out`, then call `end`. */
  begin(): Writer {
    if (this.n == this.cap) {
      this.cap <<= 1;
      this.list = heap.realloc(this.list, <usize>this.cap << 3);
    }
    store<u32>(this.list + (<usize>this.n << 3), <u32>this.out.len);
    return this.out;
  }
  /** Ends the item started with `begin`. */
  end(): void {
    const e = this.list + (<usize>this.n << 3);
    store<u32>(e, <u32>this.out.len - load<u32>(e), 4);
    this.n++;
  }
  /** Adds a whole item from a string (UTF-8). */
  addString(s: string): void {
    this.begin().utf8(s);
    this.end();
  }
  get count(): i32 {
    return this.n;
  }
}

/** formatter.format: the author appends one item per flow to `items`. */
export function runFormat(handler: (flows: Flow[], items: Items) => void, ptr: usize, len: usize): usize {
  const flows = decodeBatch(ptr, len);
  const items = new Items(len + (len >> 1) + 64, flows.length);
  handler(flows, items);
  const err = takeError();
  if (err !== null) return retErr(err);
  const n = items.count;
  // list<list<u8>>: n (ptr, len) pairs pointing into the items buffer.
  const list = items.list;
  const base = <u32>items.out.ptr;
  for (let i = 0; i < n; i++) store<u32>(list + (<usize>i << 3), load<u32>(list + (<usize>i << 3)) + base);
  return retOk(list, n);
}

/** formatter.content-type. */
export function runContentType(ct: string): usize {
  return retString(ct);
}

/**
 * Fast msgpack encoding of a forward entry `[end_time, flowLogObject(r)]`:
 * the same value msgpackr packs (maps, str, int, float64, nil; anything else
 * through msgpackr), written straight into an arena chunk without building
 * the map object. An encoder is generated per key order (key bytes inlined as
 * numbers; values read with JSON-quoted property names, so no key can inject
 * code) and reused while records keep that order. test/sinks/encoders.test.ts
 * checks that it decodes to what msgpackr's encoding decodes to.
 */
import type { Packr } from 'msgpackr';
import type { FlowRecord } from '../../flows/record.js';
import type { Arena } from './arena.js';

/** Where the encoder writes: set per record by flowLogEntry. */
let B: Buffer = Buffer.alloc(0);
let O = 0;
let END = 0;
let fallback: Packr | undefined;
/** Thrown when the chunk has no room left: the record is encoded again with more. */
const NO_ROOM = new Error('no room');

function room(n: number): void {
  if (O + n > END) throw NO_ROOM;
}

function strHeader(at: number, size: number, len: number): void {
  if (size === 1) B[at] = 0xa0 | len;
  else if (size === 2) {
    B[at] = 0xd9;
    B[at + 1] = len;
  } else if (size === 3) {
    B[at] = 0xda;
    B.writeUInt16BE(len, at + 1);
  } else {
    B[at] = 0xdb;
    B.writeUInt32BE(len, at + 1);
  }
}

const headerSize = (len: number) => (len < 32 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5);

function str(s: string): void {
  const n = s.length;
  if (n < 32) {
    // Short ASCII strings (most fields) byte by byte.
    room(n + 1);
    let o = O + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return strUtf8(s);
      B[o++] = c;
    }
    B[O] = 0xa0 | n;
    O = o;
    return;
  }
  strUtf8(s);
}

function strUtf8(s: string): void {
  const max = s.length * 3;
  room(max + 5);
  const guess = headerSize(max);
  const len = B.write(s, O + guess, 'utf8');
  const size = headerSize(len);
  if (size !== guess) B.copyWithin(O + size, O + guess, O + guess + len);
  strHeader(O, size, len);
  O += size + len;
}

function num(v: number): void {
  room(9);
  if (Number.isInteger(v)) {
    if (v >= 0) {
      if (v < 128) {
        B[O++] = v;
        return;
      }
      if (v < 256) {
        B[O++] = 0xcc;
        B[O++] = v;
        return;
      }
      if (v < 65536) {
        B[O] = 0xcd;
        B.writeUInt16BE(v, O + 1);
        O += 3;
        return;
      }
      if (v <= 0xffffffff) {
        B[O] = 0xce;
        B.writeUInt32BE(v, O + 1);
        O += 5;
        return;
      }
    } else {
      if (v >= -32) {
        B[O++] = v & 0xff;
        return;
      }
      if (v >= -128) {
        B[O] = 0xd0;
        B.writeInt8(v, O + 1);
        O += 2;
        return;
      }
      if (v >= -32768) {
        B[O] = 0xd1;
        B.writeInt16BE(v, O + 1);
        O += 3;
        return;
      }
      if (v >= -2147483648) {
        B[O] = 0xd2;
        B.writeInt32BE(v, O + 1);
        O += 5;
        return;
      }
    }
  }
  B[O] = 0xcb;
  B.writeDoubleBE(v, O + 1);
  O += 9;
}

function val(v: unknown): void {
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number') return num(v);
  if (v === null || v === undefined) {
    room(1);
    B[O++] = 0xc0;
    return;
  }
  if (typeof v === 'boolean') {
    room(1);
    B[O++] = v ? 0xc3 : 0xc2;
    return;
  }
  const b = fallback!.pack(v);
  room(b.length);
  b.copy(B, O);
  O += b.length;
}

function collectionHeader(n: number, fix: number, c16: number, c32: number): void {
  room(5);
  if (n < 16) B[O++] = fix | n;
  else if (n < 65536) {
    B[O] = c16;
    B.writeUInt16BE(n, O + 1);
    O += 3;
  } else {
    B[O] = c32;
    B.writeUInt32BE(n, O + 1);
    O += 5;
  }
}

function args(lists: readonly (readonly string[])[]): void {
  collectionHeader(lists.length, 0x90, 0xdc, 0xdd);
  for (let i = 0; i < lists.length; i++) str(lists[i]!.join(' '));
}

/** A key's msgpack bytes. */
function keyBytes(k: string): Uint8Array {
  const bytes = Buffer.from(k, 'utf8');
  const out = Buffer.allocUnsafe(headerSize(bytes.length) + bytes.length);
  const [b, o] = [B, O];
  B = out;
  strHeader(0, headerSize(bytes.length), bytes.length);
  [B, O] = [b, o];
  bytes.copy(out, out.length - bytes.length);
  return new Uint8Array(out);
}

function key(k: Uint8Array): void {
  const n = k.length;
  room(n);
  for (let i = 0; i < n; i++) B[O + i] = k[i]!;
  O += n;
}

/** The encoding of one key order: the keys' bytes, and a generated reader of the values in that order. */
interface Shape {
  keys: Uint8Array[];
  values: (r: FlowRecord) => unknown[];
}

function compile(keys: readonly string[]): Shape {
  const fields = keys.filter((k) => k !== 'id' && k !== 'process_args');
  // Named property loads (monomorphic) instead of r[k] over changing keys; keys quoted with JSON.stringify.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const values = new Function('r', `return [${fields.map((k) => `r[${JSON.stringify(k)}]`).join(', ')}];`) as Shape['values'];
  return { keys: [...fields, 'process_args', 'id'].map(keyBytes), values };
}

let lastKeys: string[] = [];
let lastShape: Shape | undefined;
const byShape = new Map<string, Shape>();

function shapeOf(r: FlowRecord): Shape {
  let i = 0;
  let same = lastShape !== undefined;
  if (same) {
    for (const k in r) {
      if (lastKeys[i++] !== k) {
        same = false;
        break;
      }
    }
    if (i !== lastKeys.length) same = false;
  }
  if (same) return lastShape!;
  lastKeys = Object.keys(r);
  const id = lastKeys.join('\0');
  let shape = byShape.get(id);
  if (!shape) {
    if (byShape.size > 64) byShape.clear();
    shape = compile(lastKeys);
    byShape.set(id, shape);
  }
  lastShape = shape;
  return shape;
}

function encode(r: FlowRecord, shape: Shape): void {
  const vals = shape.values(r);
  const keys = shape.keys;
  room(1);
  B[O++] = 0x92;
  val(r.end_time);
  collectionHeader(keys.length, 0x80, 0xde, 0xdf);
  const n = vals.length;
  for (let i = 0; i < n; i++) {
    key(keys[i]!);
    val(vals[i]);
  }
  key(keys[n]!);
  args(r.process_args);
  key(keys[n + 1]!);
  val(r.id);
}

/**
 * The forward entry `[end_time, flowLogObject(r)]` in msgpack, as a view into
 * `arena`. `packr` encodes values that are not strings, numbers, booleans or null.
 */
export function flowLogEntry(r: FlowRecord, arena: Arena, packr: Packr): Buffer {
  fallback = packr;
  const shape = shapeOf(r);
  for (let max = 4096; ; max *= 4) {
    const at = arena.reserve(max);
    B = at.buf;
    O = at.off;
    END = at.buf.length;
    try {
      encode(r, shape);
    } catch (err) {
      if (err === NO_ROOM) continue;
      throw err;
    }
    return arena.commit(O - at.off);
  }
}

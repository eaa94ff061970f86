/**
 * Fast msgpack encoding of a forward entry `[end_time, flowLogObject(r)]`:
 * the same value msgpackr packs (maps, str, int, float64, nil; anything else
 * through msgpackr), written straight into an arena chunk without building
 * the map object. An encoder is generated per key order: key bytes are
 * inline stores (numbers), values read with JSON-quoted property names, so no
 * key can inject code; strings and numbers have inline fast paths.
 * test/sinks/encoders.test.ts checks that it decodes to what msgpackr's
 * encoding decodes to.
 */
import type { Packr } from 'msgpackr';
import type { FlowRecord } from '../../flows/record.js';
import type { Arena } from './arena.js';
import { ShapeCache } from '../../shape-cache.js';

/** Buffer#utf8Write: what Buffer#write calls after checking its arguments (msgpackr uses it too). */
const HAS_UTF8_WRITE = typeof (Buffer.prototype as unknown as { utf8Write?: unknown }).utf8Write === 'function';
function utf8Write(b: Buffer, s: string, at: number): number {
  return HAS_UTF8_WRITE ? (b as unknown as { utf8Write(s: string, at: number): number }).utf8Write(s, at) : b.write(s, at, 'utf8');
}

// Helpers of the generated code: each writes at O and returns the new offset, or -1 when END is reached.

const headerSize = (len: number) => (len < 32 ? 1 : len < 256 ? 2 : len < 65536 ? 3 : 5);

function strHeader(B: Uint8Array | Buffer, at: number, size: number, len: number): void {
  if (size === 1) B[at] = 0xa0 | len;
  else if (size === 2) {
    B[at] = 0xd9;
    B[at + 1] = len;
  } else if (size === 3) {
    B[at] = 0xda;
    B[at + 1] = len >> 8;
    B[at + 2] = len & 0xff;
  } else {
    B[at] = 0xdb;
    B[at + 1] = len >>> 24;
    B[at + 2] = (len >> 16) & 0xff;
    B[at + 3] = (len >> 8) & 0xff;
    B[at + 4] = len & 0xff;
  }
}

function str(B: Buffer, O: number, END: number, s: string): number {
  const n = s.length;
  if (n < 32) {
    // Short ASCII strings (most fields) byte by byte.
    if (O + n + 1 > END) return -1;
    let o = O + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return strUtf8(B, O, END, s);
      B[o++] = c;
    }
    B[O] = 0xa0 | n;
    return o;
  }
  return strUtf8(B, O, END, s);
}

function strUtf8(B: Buffer, O: number, END: number, s: string): number {
  const max = s.length * 3;
  if (O + max + 5 > END) return -1;
  const guess = headerSize(max);
  const len = utf8Write(B, s, O + guess);
  const size = headerSize(len);
  if (size !== guess) B.copyWithin(O + size, O + guess, O + guess + len);
  strHeader(B, O, size, len);
  return O + size + len;
}

function num(B: Buffer, O: number, END: number, v: number): number {
  if (O + 9 > END) return -1;
  if (Number.isInteger(v)) {
    if (v >= 0) {
      if (v < 128) {
        B[O] = v;
        return O + 1;
      }
      if (v < 256) {
        B[O] = 0xcc;
        B[O + 1] = v;
        return O + 2;
      }
      if (v < 65536) {
        B[O] = 0xcd;
        B[O + 1] = v >> 8;
        B[O + 2] = v & 0xff;
        return O + 3;
      }
      if (v <= 0xffffffff) {
        B[O] = 0xce;
        B.writeUInt32BE(v, O + 1);
        return O + 5;
      }
    } else {
      if (v >= -32) {
        B[O] = v & 0xff;
        return O + 1;
      }
      if (v >= -128) {
        B[O] = 0xd0;
        B.writeInt8(v, O + 1);
        return O + 2;
      }
      if (v >= -32768) {
        B[O] = 0xd1;
        B.writeInt16BE(v, O + 1);
        return O + 3;
      }
      if (v >= -2147483648) {
        B[O] = 0xd2;
        B.writeInt32BE(v, O + 1);
        return O + 5;
      }
    }
  }
  B[O] = 0xcb;
  B.writeDoubleBE(v, O + 1);
  return O + 9;
}

let fallback: Packr | undefined;

/** Values other than strings and numbers. */
function other(B: Buffer, O: number, END: number, v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') {
    if (O + 1 > END) return -1;
    B[O] = v === true ? 0xc3 : v === false ? 0xc2 : 0xc0;
    return O + 1;
  }
  const b = fallback!.pack(v);
  if (O + b.length > END) return -1;
  b.copy(B, O);
  return O + b.length;
}

function val(B: Buffer, O: number, END: number, v: unknown): number {
  return typeof v === 'string' ? str(B, O, END, v) : typeof v === 'number' ? num(B, O, END, v) : other(B, O, END, v);
}

function collectionHeader(B: Buffer, O: number, END: number, n: number, fix: number, c16: number, c32: number): number {
  if (O + 5 > END) return -1;
  if (n < 16) {
    B[O] = fix | n;
    return O + 1;
  }
  if (n < 65536) {
    B[O] = c16;
    B[O + 1] = n >> 8;
    B[O + 2] = n & 0xff;
    return O + 3;
  }
  B[O] = c32;
  B.writeUInt32BE(n, O + 1);
  return O + 5;
}

function args(B: Buffer, O: number, END: number, lists: readonly (readonly string[])[]): number {
  O = collectionHeader(B, O, END, lists.length, 0x90, 0xdc, 0xdd);
  for (let i = 0; i < lists.length && O >= 0; i++) O = joined(B, O, END, lists[i]!);
  return O;
}

/** `list.join(' ')` as a msgpack str, written element by element (no joined copy). */
function joined(B: Buffer, O: number, END: number, list: readonly string[]): number {
  let max = list.length;
  for (let i = 0; i < list.length; i++) max += list[i]!.length * 3;
  if (O + max + 5 > END) return -1;
  const guess = headerSize(max);
  let o = O + guess;
  for (let i = 0; i < list.length; i++) {
    if (i > 0) B[o++] = 32;
    const a = list[i]!;
    const n = a.length;
    if (n >= 24) {
      o += utf8Write(B, a, o);
      continue;
    }
    for (let k = 0; k < n; k++) {
      const c = a.charCodeAt(k);
      if (c >= 0x80) {
        o += utf8Write(B, a.slice(k), o);
        break;
      }
      B[o++] = c;
    }
  }
  const len = o - O - guess;
  const size = headerSize(len);
  if (size !== guess) B.copyWithin(O + size, O + guess, o);
  strHeader(B, O, size, len);
  return O + size + len;
}

/** A key's msgpack bytes. */
function keyBytes(k: string): number[] {
  const bytes = Buffer.from(k, 'utf8');
  const head = new Uint8Array(5);
  const size = headerSize(bytes.length);
  strHeader(head, 0, size, bytes.length);
  return [...head.subarray(0, size), ...bytes];
}

/** Writes the entry at O; returns the new offset or -1. */
type EntryWriter = (r: FlowRecord, B: Buffer, O: number, END: number) => number;

function compile(keys: readonly string[]): EntryWriter {
  const fields = keys.filter((k) => k !== 'id' && k !== 'process_args');
  const stores = (k: string) => {
    const kb = keyBytes(k);
    return `if (O + ${kb.length} > END) return -1; ${kb.map((b, i) => `B[O + ${i}] = ${b};`).join(' ')} O += ${kb.length};`;
  };
  const body = fields.map((k) => `${stores(k)}
  v = r[${JSON.stringify(k)}];
  O = typeof v === 'string' ? str(B, O, END, v) : typeof v === 'number' ? num(B, O, END, v) : other(B, O, END, v);
  if (O < 0) return -1;`).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('h', `const { str, num, other, val, args, collectionHeader } = h; return function (r, B, O, END) {
  let v;
  if (O + 1 > END) return -1;
  B[O++] = 0x92;
  O = val(B, O, END, r.end_time);
  if (O < 0) return -1;
  O = collectionHeader(B, O, END, ${fields.length + 2}, 0x80, 0xde, 0xdf);
  if (O < 0) return -1;
  ${body}
  ${stores('process_args')}
  O = args(B, O, END, r.process_args);
  if (O < 0) return -1;
  ${stores('id')}
  return val(B, O, END, r.id);
};`)({ str, num, other, val, args, collectionHeader }) as EntryWriter;
}

const shapes = new ShapeCache<EntryWriter>((keys) => compile(keys));


/**
 * The forward entry `[end_time, flowLogObject(r)]` in msgpack, as a view into
 * `arena`. `packr` encodes values that are not strings, numbers, booleans or null.
 */
export function flowLogEntry(r: FlowRecord, arena: Arena, packr: Packr): Buffer {
  for (let max = 4096; ; max *= 4) {
    const { buf, off } = arena.reserve(max);
    const end = writeFlowLogEntry(r, buf, off, buf.length, packr);
    if (end >= 0) return arena.commit(end - off);
  }
}

/** The bytes of flowLogEntry written at `O` of `B`, not past `END`: returns the offset after them, or -1 when they do not fit. */
export function writeFlowLogEntry(r: FlowRecord, B: Buffer, O: number, END: number, packr: Packr): number {
  fallback = packr;
  return shapes.for(r)(r, B, O, END);
}

/**
 * The flows.log document written straight into an arena chunk as UTF-8: the
 * same bytes as `Buffer.from(flowLogJson(r))` without building the string.
 * An encoder is generated per key order: field names are inline byte stores,
 * strings and numbers have inline fast paths (short ASCII strings byte by
 * byte, longer ones through Buffer#write, integers digit by digit), anything
 * else goes through JSON.stringify. Property names are quoted with
 * JSON.stringify and field names become numbers, so no key can inject code.
 * Used for Elasticsearch `_bulk` items; test/sinks/encoders.test.ts checks
 * the bytes against flowLogJson.
 */
import type { FlowRecord } from '../../flows/record.js';
import type { Arena } from './arena.js';
import { ShapeCache } from '../../shape-cache.js';

/** Characters JSON.stringify escapes (as in flow-log-json.ts). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Buffer#utf8Write: what Buffer#write calls after checking its arguments (msgpackr uses it too). */
const HAS_UTF8_WRITE = typeof (Buffer.prototype as unknown as { utf8Write?: unknown }).utf8Write === 'function';
function utf8Write(b: Buffer, s: string, at: number): number {
  return HAS_UTF8_WRITE ? (b as unknown as { utf8Write(s: string, at: number): number }).utf8Write(s, at) : b.write(s, at, 'utf8');
}

/** Copies a few bytes (a loop beats TypedArray#set at this size). */
function put(B: Buffer, O: number, bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; i++) B[O + i] = bytes[i]!;
  return O + n;
}

// Helpers of the generated code: each writes at O and returns the new offset, or -1 when END is reached.

/** Any text, as UTF-8. */
function text(B: Buffer, O: number, END: number, s: string): number {
  if (O + s.length * 3 > END) return -1;
  return O + utf8Write(B, s, O);
}

/** A JSON string. */
function str(B: Buffer, O: number, END: number, s: string): number {
  const n = s.length;
  if (n > 64) {
    if (NEEDS_ESCAPE.test(s)) return text(B, O, END, JSON.stringify(s));
    if (O + n * 3 + 2 > END) return -1;
    B[O] = 34;
    const o = O + 1 + utf8Write(B, s, O + 1);
    B[o] = 34;
    return o + 1;
  }
  if (O + n + 2 > END) return -1;
  let o = O;
  B[o++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92 || c >= 0x80) return text(B, O, END, NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
    B[o++] = c;
  }
  B[o++] = 34;
  return o;
}

/** A number as JSON.stringify writes it. */
function num(B: Buffer, O: number, END: number, v: number): number {
  if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
    // int32 arithmetic (a division by 10 becomes a multiplication); -0 is written 0, as JSON.stringify does.
    let x = v | 0;
    const len = x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7 : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10;
    if (O + len > END) return -1;
    for (let i = O + len - 1; i > O; i--) {
      const q = (x / 10) | 0;
      B[i] = 48 + x - q * 10;
      x = q;
    }
    B[O] = 48 + x;
    return O + len;
  }
  if (v >= 0 && Number.isSafeInteger(v)) {
    let len = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) len++;
    if (O + len > END) return -1;
    let x = v;
    for (let i = O + len - 1; i >= O; i--) {
      B[i] = 48 + (x % 10);
      x = Math.floor(x / 10);
    }
    return O + len;
  }
  return text(B, O, END, v - v === 0 ? String(v) : 'null');
}

/** `null`. */
function nul(B: Buffer, O: number, END: number): number {
  if (O + 4 > END) return -1;
  B[O] = 110;
  B[O + 1] = 117;
  B[O + 2] = 108;
  B[O + 3] = 108;
  return O + 4;
}

/** `key` and a value other than a string or number; nothing when JSON.stringify leaves the member out. */
function other(B: Buffer, O: number, END: number, key: Uint8Array, v: unknown): number {
  const j = JSON.stringify(v) as string | undefined;
  if (j === undefined) return O;
  if (O + key.length > END) return -1;
  return text(B, put(B, O, key), END, j);
}

/** `,"process_args":[…]`, each list joined by spaces. */
function args(B: Buffer, O: number, END: number, lists: readonly (readonly string[])[]): number {
  if (O + ARGS_KEY.length + 1 > END) return -1;
  O = put(B, O, ARGS_KEY);
  for (let i = 0; i < lists.length; i++) {
    if (i > 0) {
      if (O + 1 > END) return -1;
      B[O++] = 44;
    }
    O = joined(B, O, END, lists[i]!);
    if (O < 0) return -1;
  }
  if (O + 1 > END) return -1;
  B[O++] = 93;
  return O;
}

/**
 * The JSON string of `list.join(' ')`, written element by element (no joined
 * copy) while the elements are plain ASCII; anything else (escapes, non-ASCII)
 * starts over with the joined string.
 */
function joined(B: Buffer, O: number, END: number, list: readonly string[]): number {
  let max = 2 + list.length;
  for (let i = 0; i < list.length; i++) max += list[i]!.length * 3;
  if (O + max > END) return -1;
  const start = O;
  B[O++] = 34;
  for (let i = 0; i < list.length; i++) {
    if (i > 0) B[O++] = 32;
    const a = list[i]!;
    const n = a.length;
    if (n > 64) {
      if (NEEDS_ESCAPE.test(a)) return str(B, start, END, list.join(' '));
      O += utf8Write(B, a, O);
      continue;
    }
    for (let k = 0; k < n; k++) {
      const c = a.charCodeAt(k);
      if (c < 0x20 || c === 34 || c === 92 || c >= 0x80) return str(B, start, END, list.join(' '));
      B[O++] = c;
    }
  }
  B[O++] = 34;
  return O;
}

const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const ARGS_KEY = bytesOf(',"process_args":[');

/** Writes the document at O; returns the new offset or -1. */
type DocWriter = (r: FlowRecord, B: Buffer, O: number, END: number) => number;

function compile(keys: readonly string[]): DocWriter {
  const fields = keys.filter((k) => k !== 'id' && k !== 'process_args');
  const keyBytes = fields.map((k) => bytesOf(`,${JSON.stringify(k)}:`));
  const stores = (kb: Uint8Array) => `if (O + ${kb.length} > END) return -1; ${[...kb].map((b, i) => `B[O + ${i}] = ${b};`).join(' ')} O += ${kb.length};`;
  // The key is stored once per field (one copy of its stores: smaller code than one per value type).
  const body = fields.map((k, i) => `v = r[${JSON.stringify(k)}];
  if (typeof v === 'string' || typeof v === 'number' || v === null) {
    ${stores(keyBytes[i]!)}
    O = typeof v === 'string' ? str(B, O, END, v) : typeof v === 'number' ? num(B, O, END, v) : nul(B, O, END);
  } else O = other(B, O, END, K[${i}], v);
  if (O < 0) return -1;`).join('\n');
  // Every member starts with a comma; the first one's becomes the brace (process_args is always written).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('h', `const { str, num, nul, other, args, K } = h; return function (r, B, O, END) {
  const start = O; let v;
  ${body}
  O = args(B, O, END, r.process_args);
  if (O < 0 || O + 1 > END) return -1;
  B[start] = 123; B[O++] = 125;
  return O;
};`)({ str, num, nul, other, args, K: keyBytes }) as DocWriter;
}

const shapes = new ShapeCache<DocWriter>((keys) => compile(keys));


/**
 * `prefix`, the JSON string of `id`, `infix`, the record's flows.log document
 * (the bytes of `flowLogJson(r)`) and a newline, as one view into `arena`.
 * (For a _bulk item: the action line up to `"_id":`, the id, `}}\n`, the document.)
 */
export function flowLogJsonItem(r: FlowRecord, arena: Arena, prefix: Uint8Array, id: string, infix: Uint8Array): Buffer {
  for (let max = 4096; ; max *= 4) {
    const { buf, off } = arena.reserve(max);
    const end = writeFlowLogJsonItem(r, buf, off, buf.length, prefix, id, infix);
    if (end >= 0) return arena.commit(end - off);
  }
}

/** The bytes of flowLogJsonItem written at `O` of `B`, not past `END`: returns the offset after them, or -1 when they do not fit. */
export function writeFlowLogJsonItem(r: FlowRecord, B: Buffer, O: number, END: number, prefix: Uint8Array, id: string, infix: Uint8Array): number {
  const doc = shapes.for(r);
  if (O + prefix.length > END) return -1;
  O = str(B, put(B, O, prefix), END, id);
  if (O < 0 || O + infix.length > END) return -1;
  O = doc(r, B, put(B, O, infix), END);
  if (O < 0 || O + 1 > END) return -1;
  B[O++] = 10;
  return O;
}

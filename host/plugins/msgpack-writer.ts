/**
 * A MessagePack encoder for plugin batches (wit/plugin-0.1.0/ENCODING.md):
 * plain maps with string keys, strings, numbers, nil, booleans and arrays —
 * the subset the SDKs read. Written for the pipeline's hot path: ASCII
 * strings are written char by char (no intermediate Buffer), numbers without
 * allocation, into one growing buffer. Keys whose value is `undefined` are
 * left out (as JSON.stringify does).
 */
import { ShapeCache } from '../shape-cache.js';
import type { BatchBuffers } from './batch-buffers.js';

const TWO_32 = 4294967296;

/** A fixstr key's bytes (an ASCII key shorter than 32 chars). */
function fixKey(k: string): Uint8Array {
  return Uint8Array.from([0xa0 | k.length, ...[...k].map((c) => c.charCodeAt(0))]);
}
const KEY_ID = fixKey('id');
const KEY_NAME = fixKey('process_name');
const KEY_PID = fixKey('process_id');
const KEY_ARGS = fixKey('process_args');

/** A growable output buffer with MessagePack writers. */
export class MsgpackWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Starts writing again from the beginning of the buffer. */
  restart(): void {
    this.pos = 0;
  }

  /** The bytes written, copied into an ArrayBuffer of their own, from `buffers` when given (safe to transfer: batch-buffers.ts `transferable`). */
  take(buffers?: BatchBuffers): Uint8Array {
    const out = buffers ? buffers.view(this.pos) : Buffer.allocUnsafeSlow(this.pos); // every byte is set below: no zero fill
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  /** Appends bytes (one bulk copy). */
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Copies raw, already-encoded bytes. */
  raw(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n < 64) {
      const b = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) b[p++] = src[i];
      this.pos = p;
    } else {
      this.buf.set(src.subarray(start, end), this.pos);
      this.pos += n;
    }
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      b[this.pos] = 0xdc;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdd;
      b.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }

  mapHeader(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      b[this.pos] = 0xde;
      b[this.pos + 1] = n >>> 8;
      b[this.pos + 2] = n & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdf;
      b.writeUInt32BE(n, this.pos + 1);
      this.pos += 5;
    }
  }

  /** A string, UTF-8. */
  str(s: string): void {
    const n = s.length;
    if (n < 256) {
      // ASCII fast path (fixstr or str8): char by char, no call into C++; back out on the first non-ASCII char.
      const head = n < 32 ? 1 : 2;
      this.ensure(head + n);
      const b = this.buf;
      const start = this.pos;
      let p = start + head;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        if (head === 1) b[start] = 0xa0 | n;
        else {
          b[start] = 0xd9;
          b[start + 1] = n;
        }
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + len);
    const b = this.buf;
    if (len < 32) b[this.pos++] = 0xa0 | len;
    else if (len < 0x100) {
      b[this.pos] = 0xd9;
      b[this.pos + 1] = len;
      this.pos += 2;
    } else if (len < 0x10000) {
      b[this.pos] = 0xda;
      b[this.pos + 1] = len >>> 8;
      b[this.pos + 2] = len & 0xff;
      this.pos += 3;
    } else {
      b[this.pos] = 0xdb;
      b.writeUInt32BE(len, this.pos + 1);
      this.pos += 5;
    }
    this.pos += b.write(s, this.pos, len, 'utf8');
  }

  /** A flow's id and process fields as a map of four (`{id, process_name, process_id, process_args}`, in that order). */
  processFields(f: { id: string; process_name: string; process_id: string; process_args: string[][] }): void {
    this.ensure(1);
    this.buf[this.pos++] = 0x84;
    this.bytes(KEY_ID);
    this.str(f.id);
    this.bytes(KEY_NAME);
    this.str(f.process_name);
    this.bytes(KEY_PID);
    this.str(f.process_id);
    this.bytes(KEY_ARGS);
    this.list(f.process_args);
  }

  /** A number: the smallest integer form for integers in [-2^31, 2^32), else float64. */
  num(v: number): void {
    this.ensure(9);
    const b = this.buf;
    float: if (Number.isInteger(v)) {
      if (v >= 0) {
        if (v < 0x80) b[this.pos++] = v;
        else if (v < 0x100) {
          b[this.pos] = 0xcc;
          b[this.pos + 1] = v;
          this.pos += 2;
        } else if (v < 0x10000) {
          b[this.pos] = 0xcd;
          b[this.pos + 1] = v >>> 8;
          b[this.pos + 2] = v & 0xff;
          this.pos += 3;
        } else if (v < TWO_32) {
          b[this.pos] = 0xce;
          b[this.pos + 1] = v >>> 24;
          b[this.pos + 2] = (v >>> 16) & 0xff;
          b[this.pos + 3] = (v >>> 8) & 0xff;
          b[this.pos + 4] = v & 0xff;
          this.pos += 5;
        } else break float; // ENCODING.md: values above 2^32 come as float64
        return;
      }
      if (v >= -32) {
        b[this.pos++] = v & 0xff;
        return;
      }
      if (v >= -0x80000000) {
        b[this.pos] = 0xd2;
        b.writeInt32BE(v, this.pos + 1);
        this.pos += 5;
        return;
      }
    }
    b[this.pos] = 0xcb;
    b.writeDoubleBE(v, this.pos + 1);
    this.pos += 9;
  }

  /** Any JSON-like value (maps with string keys, arrays, strings, numbers, booleans, null). */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.str(v);
        return;
      case 'number':
        this.num(v);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object':
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else if (Array.isArray(v)) this.list(v);
        else this.map(v as Record<string, unknown>);
        return;
      default:
        throw new TypeError(`cannot encode a ${typeof v} in a plugin batch`);
    }
  }

  /** An array; strings and nested arrays (argument lists) without the dispatch of `value`. */
  list(v: readonly unknown[]): void {
    this.arrayHeader(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') this.str(x);
      else if (Array.isArray(x)) this.list(x);
      else this.value(x);
    }
  }

  /**
   * A map of the object's own enumerable keys (undefined values left out).
   * Objects of a shape seen before (flow records: one or two shapes per
   * batch) go through an encoder generated for that key list, which writes
   * the fields that stay the same from record to record as pre-encoded
   * segments; others through the generic loop.
   */
  map(o: Record<string, unknown>): void {
    const last = shapes.ifLast(o); // records of a batch: nearly always the last shape
    if (last) {
      last(this, o);
      return;
    }
    if (countKeysAtLeast(o, SHAPE_MIN_KEYS)) {
      const enc = shapes.for(o);
      if (enc) {
        enc(this, o);
        return;
      }
    }
    this.mapGeneric(o);
  }

  /** A map written key by key (no generated encoder). */
  mapGeneric(o: Record<string, unknown>): void {
    let n = 0;
    for (const k in o) if (o[k] !== undefined) n++;
    this.mapHeader(n);
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      this.str(k);
      this.value(v);
    }
  }
}

type ShapeEncoder = (w: MsgpackWriter, o: Record<string, unknown>) => void;

/**
 * What a shape's encoder has learned of its records: which fields hold the
 * same value record after record (constants: host, action, placeholders…),
 * and their key and value bytes, encoded once and joined into one segment
 * per run of consecutive constants. A record whose constants still hold is
 * written as those segments (one bulk copy each) and its varying fields.
 * Byte for byte the same as writing every field: a segment is what the
 * fields' own encoding gives.
 */
interface ShapeState {
  /** 1 where a field is encoded per record; 0 where it is the constant `consts[j]`. */
  varying: Uint8Array;
  consts: unknown[];
  /** At the first field of each run of constants: the run's bytes (keys and values); undefined elsewhere. */
  segs: (Uint8Array | undefined)[];
  /** At the first field of each run of constants: the run's bytes and the key of the varying field after it (`after`), written when that field is. */
  segsKeyed: (Uint8Array | undefined)[];
  /** At the first field of each run of constants: the varying field after the run (n: none). */
  after: Int32Array;
  /** Scratch, per record: 1 where a varying field has a value (is written). */
  has: Uint8Array;
  /** How many fields are constants (never undefined, so always written). */
  nConst: number;
  /** Records written since the constants were learned afresh (then every primitive field of one record is taken as constant). */
  written: number;
  /** Set while a record is being written: a record of the same shape nested in it goes through the generic loop. */
  busy: boolean;
}

/** Objects with fewer keys (labels, policies) are not worth a generated encoder. */
const SHAPE_MIN_KEYS = 8;
/** Constants are learned afresh this often (records), so a field that varied once can become a constant again. */
const RELEARN_EVERY = 65536;
/** Strings longer than this are never constants (a shape keeps its constants' bytes). */
const MAX_CONST_CHARS = 1024;

function countKeysAtLeast(o: object, n: number): boolean {
  let i = 0;
  for (const _ in o) if (++i >= n) return true;
  return false;
}

/** A value a shape may keep as a constant: a primitive that `===` compares by value, and not a long string. */
function constCandidate(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      return v.length <= MAX_CONST_CHARS;
    case 'number':
      return !Number.isNaN(v);
    case 'boolean':
      return true;
    default:
      return v === null;
  }
}

const scratch = new MsgpackWriter(1 << 12);

/**
 * Updates a shape's constants from a record's values `vals`: afresh (every
 * candidate value becomes a constant), or by turning each constant the record
 * does not match into a varying field. Then joins the segments again.
 */
function learnConstants(S: ShapeState, keys: string[], vals: unknown[], fresh: boolean): void {
  const n = keys.length;
  for (let j = 0; j < n; j++) {
    if (fresh) S.varying[j] = constCandidate(vals[j]) ? 0 : 1;
    else if (S.varying[j] === 0 && vals[j] !== S.consts[j]) S.varying[j] = 1;
    S.consts[j] = S.varying[j] === 0 ? vals[j] : undefined;
  }
  S.nConst = 0;
  for (let j = 0; j < n; ) {
    if (S.varying[j] === 1) {
      S.segs[j] = S.segsKeyed[j] = undefined;
      j++;
      continue;
    }
    const first = j;
    scratch.restart();
    for (; j < n && S.varying[j] === 0; j++) {
      scratch.str(keys[j]);
      scratch.value(S.consts[j]);
      S.nConst++;
      if (j > first) S.segs[j] = S.segsKeyed[j] = undefined;
    }
    S.segs[first] = scratch.take();
    S.after[first] = j;
    if (j < n) scratch.str(keys[j]);
    S.segsKeyed[first] = j < n ? scratch.take() : S.segs[first];
  }
  S.written = 0;
}

/**
 * The generated encoder of a key list; undefined (the generic loop) for keys
 * that are not identifiers. `sample`, the object the shape was first seen on,
 * says each varying value's likely type: strings and numbers are written by
 * direct calls behind a typeof check, so V8 can inline them; anything else
 * (or a value of another type) goes through `value`. Constants (ShapeState)
 * are checked with `===` and written as segments; a record that breaks one
 * makes that field varying before it is written.
 */
function compileShape(keys: string[], sample: Record<string, unknown>): ShapeEncoder | undefined {
  if (keys.some((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) return undefined;
  const n = keys.length;
  const write = (k: string, v: string) => {
    const t = typeof sample[k];
    if (t === 'string') return `if (typeof ${v} === 'string') w.str(${v}); else w.value(${v});`;
    if (t === 'number') return `if (typeof ${v} === 'number') w.num(${v}); else w.value(${v});`;
    if (Array.isArray(sample[k])) return `if (Array.isArray(${v})) w.list(${v}); else w.value(${v});`;
    return `w.value(${v});`;
  };
  // Key bytes written as constants (keys are ASCII identifiers shorter than 32 chars: fixstr).
  const key = (k: string) => (k.length < 32 ? `w.ensure(${k.length + 1}); b = w.buf; p = w.pos; ${[...fixKey(k)].map((x) => `b[p++] = ${x};`).join(' ')} w.pos = p;` : `w.str(${JSON.stringify(k)});`);
  const vs = keys.map((_, j) => `v${j}`);
  // Keys are identifiers (checked above), so they are safe to inline in the generated source.
  const body = [
    'return function (w, o) {',
    'if (S.busy) { w.mapGeneric(o); return; }',
    ...keys.map((k, j) => `const v${j} = o.${k};`),
    'const V = S.varying, C = S.consts, D = S.has;',
    // One pass: constants still hold? (else learn, and count again), varying fields with a value counted and flagged.
    'let miss = false, n = S.nConst;',
    ...vs.map((v, j) => `if (V[${j}] === 0) { if (${v} !== C[${j}]) miss = true; } else if (${v} !== undefined) { n++; D[${j}] = 1; } else D[${j}] = 0;`),
    `const due = S.written++ >= ${RELEARN_EVERY};`,
    'if (due || miss) {',
    `  learn(S, keys, [${vs.join(', ')}], due);`,
    '  n = S.nConst;',
    ...vs.map((v, j) => `  if (V[${j}] === 1) { if (${v} !== undefined) { n++; D[${j}] = 1; } else D[${j}] = 0; }`),
    '}',
    'w.mapHeader(n);',
    'const G = S.segs, GK = S.segsKeyed, A = S.after;',
    // K: the varying field whose key the segment before it carried.
    'let g, a, b, p, K = -1;',
    'S.busy = true;',
    'try {',
    ...keys.map((k, j) => `if (V[${j}] === 1) { if (v${j} !== undefined) { if (K !== ${j}) { ${key(k)} } ${write(k, `v${j}`)} } } else if ((g = G[${j}]) !== undefined) { a = A[${j}]; if (a < ${n} && D[a] === 1) { w.bytes(GK[${j}]); K = a; } else w.bytes(g); }`),
    '} finally { S.busy = false; }',
    '};',
  ].join('\n');
  const state: ShapeState = {
    varying: new Uint8Array(n).fill(1), consts: new Array(n).fill(undefined), segs: new Array(n).fill(undefined), segsKeyed: new Array(n).fill(undefined),
    after: new Int32Array(n), has: new Uint8Array(n), nConst: 0, written: RELEARN_EVERY, busy: false,
  };
  const enc = new Function('S', 'keys', 'learn', body)(state, keys, learnConstants) as ShapeEncoder;
  shapeStates.set(enc, { keys, state });
  return enc;
}

const shapeStates = new WeakMap<ShapeEncoder, { keys: string[]; state: ShapeState }>();

const shapes = new ShapeCache<ShapeEncoder | undefined>(compileShape);

/** The fields `o`'s shape currently writes from segments (its constants); undefined for a shape without a generated encoder. For tests and diagnostics. */
export function shapeConstants(o: object): string[] | undefined {
  const enc = shapes.for(o);
  const s = enc && shapeStates.get(enc);
  return s?.keys.filter((_, j) => s.state.varying[j] === 0);
}

/**
 * A MessagePack encoder for plugin batches (wit/plugin-0.1.0/ENCODING.md):
 * plain maps with string keys, strings, numbers, nil, booleans and arrays —
 * the subset the SDKs read. Written for the pipeline's hot path: ASCII
 * strings are written char by char (no intermediate Buffer), numbers without
 * allocation, into one growing buffer. Keys whose value is `undefined` are
 * left out (as JSON.stringify does).
 */
import { ShapeCache } from '../shape-cache.js';

const TWO_32 = 4294967296;

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

  /** The bytes written, copied into an ArrayBuffer of their own (safe to transfer). */
  take(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
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
        } else if (Array.isArray(v)) {
          this.arrayHeader(v.length);
          for (let i = 0; i < v.length; i++) this.value(v[i]);
        } else this.map(v as Record<string, unknown>);
        return;
      default:
        throw new TypeError(`cannot encode a ${typeof v} in a plugin batch`);
    }
  }

  /**
   * A map of the object's own enumerable keys (undefined values left out).
   * Objects of a shape seen before (flow records: one or two shapes per
   * batch) go through an encoder generated for that key list, whose
   * property reads V8 can inline; others through the generic loop.
   */
  map(o: Record<string, unknown>): void {
    if (countKeysAtLeast(o, SHAPE_MIN_KEYS)) {
      const enc = shapes.for(o);
      if (enc) {
        enc(this, o);
        return;
      }
    }
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

/** Objects with fewer keys (labels, policies) are not worth a generated encoder. */
const SHAPE_MIN_KEYS = 8;

function countKeysAtLeast(o: object, n: number): boolean {
  let i = 0;
  for (const _ in o) if (++i >= n) return true;
  return false;
}

/**
 * The generated encoder of a key list; undefined (the generic loop) for keys
 * that are not identifiers. `sample`, the object the shape was first seen on,
 * says each value's likely type: strings and numbers are written by direct
 * calls behind a typeof check, so V8 can inline them; anything else (or a
 * value of another type) goes through `value`.
 */
function compileShape(keys: string[], sample: Record<string, unknown>): ShapeEncoder | undefined {
  if (keys.some((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) return undefined;
  const write = (k: string) => {
    const t = typeof sample[k];
    if (t === 'string') return `if (typeof v === 'string') w.str(v); else w.value(v);`;
    if (t === 'number') return `if (typeof v === 'number') w.num(v); else w.value(v);`;
    return 'w.value(v);';
  };
  // Keys are identifiers (checked above), so they are safe to inline in the generated source.
  const body = [
    'let n = 0;',
    ...keys.map((k) => `if (o.${k} !== undefined) n++;`),
    'w.mapHeader(n);',
    'let v, b, p;',
    // Key bytes written as constants (keys are ASCII identifiers shorter than 32 chars: fixstr).
    ...keys.map((k) => `v = o.${k}; if (v !== undefined) { ${k.length < 32 ? `w.ensure(${k.length + 1}); b = w.buf; p = w.pos; ${[0xa0 | k.length, ...[...k].map((c) => c.charCodeAt(0))].map((x) => `b[p++] = ${x};`).join(' ')} w.pos = p;` : `w.str(${JSON.stringify(k)});`} ${write(k)} }`),
  ].join('\n');
  return new Function('w', 'o', body) as ShapeEncoder;
}

const shapes = new ShapeCache<ShapeEncoder | undefined>(compileShape);

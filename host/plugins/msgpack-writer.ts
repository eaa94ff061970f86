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
  /** Bumped by `restart`: bytes written before may be overwritten from then on (shape encoders stop reusing them). */
  seq = 0;

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
    this.seq++;
  }

  /** Appends a copy of bytes written earlier, [from, to) (before `pos`). */
  copyRun(from: number, to: number): void {
    const n = to - from;
    this.ensure(n); // a new buffer keeps the earlier bytes at their offsets
    const b = this.buf;
    if (n <= 32) {
      let p = this.pos;
      for (let i = from; i < to; i++) b[p++] = b[i];
      this.pos = p;
    } else {
      b.copyWithin(this.pos, from, to);
      this.pos += n;
    }
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

  /** A flow's id and process fields as a map of four (`{id, process_name, process_id, process_args}`, in that order). */
  processFields(f: { id: string; process_name: string; process_id: string; process_args: string[][] }): void {
    this.ensure(1);
    this.buf[this.pos++] = 0x84;
    this.raw(KEY_ID, 0, KEY_ID.length);
    this.str(f.id);
    this.raw(KEY_NAME, 0, KEY_NAME.length);
    this.str(f.process_name);
    this.raw(KEY_PID, 0, KEY_PID.length);
    this.str(f.process_id);
    this.raw(KEY_ARGS, 0, KEY_ARGS.length);
    const lists = f.process_args;
    this.arrayHeader(lists.length);
    for (let i = 0; i < lists.length; i++) {
      const argv = lists[i];
      this.arrayHeader(argv.length);
      for (let j = 0; j < argv.length; j++) this.str(argv[j]);
    }
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

/**
 * What a shape's encoder remembers of the last record it wrote: each field's
 * value and where its key and value bytes lie (-1: not reusable), valid while
 * the writer is the same, not restarted, and not moved back.
 */
interface ShapeState {
  writer: MsgpackWriter | undefined;
  /** Set while a record is being written (a nested record of the same shape must not touch the state). */
  busy: boolean;
  seq: number;
  end: number;
  vals: unknown[];
  /** Start and end of each field in the last record; `ns`/`ne` are filled for the record being written, then swapped in. */
  ps: Int32Array;
  pe: Int32Array;
  ns: Int32Array;
  ne: Int32Array;
}

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
 *
 * Records of one batch repeat most fields (host, action, names, placeholders,
 * counters): a string, number, boolean or null field equal (===) to the same
 * field of the record written just before in this batch is not encoded again;
 * its bytes (key and value) are copied from that record, and runs of such
 * fields are copied at once. Maps and arrays are always encoded.
 */
function compileShape(keys: string[], sample: Record<string, unknown>): ShapeEncoder | undefined {
  if (keys.some((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) return undefined;
  const write = (k: string) => {
    const t = typeof sample[k];
    if (t === 'string') return `if (typeof v === 'string') w.str(v); else w.value(v);`;
    if (t === 'number') return `if (typeof v === 'number') w.num(v); else w.value(v);`;
    return 'w.value(v);';
  };
  // Key bytes written as constants (keys are ASCII identifiers shorter than 32 chars: fixstr).
  const key = (k: string) => (k.length < 32 ? `w.ensure(${k.length + 1}); b = w.buf; p = w.pos; ${[...fixKey(k)].map((x) => `b[p++] = ${x};`).join(' ')} w.pos = p;` : `w.str(${JSON.stringify(k)});`);
  const flush = 'if (rf >= 0) { w.copyRun(rf, rt); rf = -1; }';
  const field = (k: string, j: number) => {
    const v = sample[k];
    const reusable = v === null || (typeof v !== 'object' && typeof v !== 'function');
    if (!reusable) return `v = o.${k}; ns[${j}] = -1; if (v !== undefined) { ${flush} ${key(k)} ${write(k)} }`;
    return [
      `v = o.${k};`,
      `if (v === undefined) ns[${j}] = -1;`,
      `else if (ok && ps[${j}] >= 0 && v === pv[${j}] && (v === null || typeof v !== 'object')) {`,
      `  if (rf < 0 || rt !== ps[${j}]) { ${flush} rf = ps[${j}]; }`,
      `  rt = pe[${j}]; ns[${j}] = w.pos + ps[${j}] - rf; ne[${j}] = w.pos + rt - rf;`,
      `} else { ${flush} ns[${j}] = w.pos; ${key(k)} ${write(k)} ne[${j}] = w.pos; pv[${j}] = v; }`,
    ].join('\n');
  };
  // Keys are identifiers (checked above), so they are safe to inline in the generated source.
  const body = [
    'return function (w, o) {',
    'let n = 0;',
    ...keys.map((k) => `if (o.${k} !== undefined) n++;`),
    'w.mapHeader(n);',
    // A record of this shape nested in one being written (re-entry) reuses nothing and keeps the state as it is.
    'const inner = S.busy;',
    'const ok = !inner && S.writer === w && S.seq === w.seq && w.pos >= S.end;',
    `const pv = inner ? new Array(${keys.length}) : S.vals, ps = S.ps, pe = S.pe, ns = inner ? new Int32Array(${keys.length}) : S.ns, ne = inner ? new Int32Array(${keys.length}) : S.ne;`,
    'let v, b, p, rf = -1, rt = -1;',
    'S.busy = true;',
    'try {',
    ...keys.map(field),
    flush,
    '} catch (err) { S.writer = undefined; throw err; } finally { if (!inner) S.busy = false; }',
    'if (!inner) { S.writer = w; S.seq = w.seq; S.end = w.pos; S.ps = ns; S.pe = ne; S.ns = ps; S.ne = pe; }',
    '};',
  ].join('\n');
  const n = keys.length;
  const state: ShapeState = { writer: undefined, busy: false, seq: 0, end: 0, vals: new Array(n).fill(undefined), ps: new Int32Array(n).fill(-1), pe: new Int32Array(n), ns: new Int32Array(n).fill(-1), ne: new Int32Array(n) };
  return new Function('S', body)(state) as ShapeEncoder;
}

const shapes = new ShapeCache<ShapeEncoder | undefined>(compileShape);

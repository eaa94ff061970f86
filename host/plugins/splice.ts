/**
 * A redactor's output spliced into its input batch, in bytes
 * (wit/plugin-0.1.0/ENCODING.md): flows the redactor left alone are copied,
 * changed process fields are replaced where they stand. The result is byte for
 * byte what the host's BatchEncoder writes for `applyRedaction`'s flows, so
 * the next stage sees the same batch whether the stages ran in one worker
 * call (protocol.ts RunMsg) or one call each.
 *
 * It only decides whether the output can be spliced: anything that breaks the
 * redactor contract (count, ids, keys, types) or holds invalid UTF-8 gives
 * `undefined`, and the host's own checks (policy.ts) then say what is wrong
 * and apply the failure policy.
 */
import { isUtf8 } from 'node:buffer';
import { MsgpackWriter } from './msgpack-writer.js';

// Key bytes of the fields a redactor may return.
const K_ID = Buffer.from('id');
const K_NAME = Buffer.from('process_name');
const K_PID = Buffer.from('process_id');
const K_ARGS = Buffer.from('process_args');

/** Reads MessagePack structure (no values) out of a byte range; -1 for anything out of bounds or not MessagePack. */
class Cursor {
  pos = 0;
  constructor(readonly b: Uint8Array) {}

  /** Length of the array at the cursor (cursor moves past the header), or -1. */
  array(): number {
    const b = this.b;
    const c = b[this.pos];
    if (c >= 0x90 && c <= 0x9f) { this.pos++; return c & 0x0f; }
    if (c === 0xdc) return this.len(2);
    if (c === 0xdd) return this.len(4);
    return -1;
  }

  /** Entries of the map at the cursor, or -1. */
  map(): number {
    const c = this.b[this.pos];
    if (c >= 0x80 && c <= 0x8f) { this.pos++; return c & 0x0f; }
    if (c === 0xde) return this.len(2);
    if (c === 0xdf) return this.len(4);
    return -1;
  }

  /** Byte length of the string at the cursor (cursor moves to its first byte), or -1. */
  str(): number {
    const c = this.b[this.pos];
    if (c >= 0xa0 && c <= 0xbf) { this.pos++; return this.fits(c & 0x1f); }
    if (c === 0xd9) return this.fits(this.len(1));
    if (c === 0xda) return this.fits(this.len(2));
    if (c === 0xdb) return this.fits(this.len(4));
    return -1;
  }

  private fits(n: number): number {
    return n >= 0 && this.pos + n <= this.b.length ? n : -1;
  }

  /** A big-endian length of `size` bytes after the type byte; -1 past the end. */
  private len(size: number): number {
    const b = this.b;
    const p = this.pos + 1;
    if (p + size > b.length) return -1;
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + b[p + i];
    this.pos = p + size;
    return n;
  }

  /** Moves past one value; false when it is not well-formed MessagePack within the range. */
  skip(): boolean {
    const b = this.b;
    if (this.pos >= b.length) return false;
    const c = b[this.pos];
    if (c >= 0xa0 && c <= 0xbf) {
      // fixstr, the most common value in a flow: inline
      const end = this.pos + 1 + (c & 0x1f);
      if (end > b.length) return false;
      this.pos = end;
      return true;
    }
    if (c < 0x80 || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) { this.pos++; return true; }
    if (c === 0xd9 || c === 0xda || c === 0xdb) {
      const n = this.str();
      if (n < 0) return false;
      this.pos += n;
      return true;
    }
    if ((c >= 0x90 && c <= 0x9f) || c === 0xdc || c === 0xdd) {
      const n = this.array();
      for (let i = 0; i < n; i++) if (!this.skip()) return false;
      return n >= 0;
    }
    if ((c >= 0x80 && c <= 0x8f) || c === 0xde || c === 0xdf) {
      const n = this.map();
      for (let i = 0; i < 2 * n; i++) if (!this.skip()) return false;
      return n >= 0;
    }
    const fixed = FIXED_SIZE[c];
    if (fixed === undefined || this.pos + fixed > b.length) return false;
    this.pos += fixed;
    return true;
  }
}

/** Sizes (type byte included) of the fixed-width MessagePack types the batches may hold. */
const FIXED_SIZE: Record<number, number> = {
  0xca: 5, 0xcb: 9, 0xcc: 2, 0xcd: 3, 0xce: 5, 0xcf: 9, 0xd0: 2, 0xd1: 3, 0xd2: 5, 0xd3: 9,
};

/** True when the `n` bytes at `start` are valid UTF-8 (ASCII checked inline; the rest by Node). */
function utf8At(b: Uint8Array, start: number, n: number): boolean {
  for (let i = start, end = start + n; i < end; i++) if (b[i] >= 0x80) return isUtf8(b.subarray(start, end));
  return true;
}

function bytesEqual(a: Uint8Array, as: number, b: Uint8Array, bs: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

function keyEquals(b: Uint8Array, start: number, len: number, key: Buffer): boolean {
  if (len !== key.length) return false;
  for (let i = 0; i < len; i++) if (b[start + i] !== key[i]) return false;
  return true;
}

/** What one output entry holds: where its id's bytes and each replaced value start in the output (-1: absent). */
interface Change {
  id: number; idLen: number;
  name: number;
  pid: number;
  args: number;
}

/** Reads one output entry into `ch`; undefined when it breaks the contract. */
function readChange(c: Cursor, ch: Change): Change | undefined {
  const m = c.map();
  if (m < 0) return undefined;
  ch.id = -1;
  ch.idLen = 0;
  ch.name = -1;
  ch.pid = -1;
  ch.args = -1;
  const b = c.b;
  for (let k = 0; k < m; k++) {
    const klen = c.str();
    if (klen < 0) return undefined;
    const kstart = c.pos;
    c.pos += klen;
    const v = c.pos;
    if (keyEquals(b, kstart, klen, K_ID)) {
      const n = c.str();
      if (n < 0) return undefined;
      ch.id = c.pos;
      ch.idLen = n;
      c.pos += n;
    } else if (keyEquals(b, kstart, klen, K_NAME) || keyEquals(b, kstart, klen, K_PID)) {
      const n = c.str();
      if (n < 0 || !utf8At(b, c.pos, n)) return undefined;
      c.pos += n;
      if (klen === K_NAME.length) ch.name = v;
      else ch.pid = v;
    } else if (keyEquals(b, kstart, klen, K_ARGS)) {
      const lists = c.array();
      if (lists < 0) return undefined;
      for (let i = 0; i < lists; i++) {
        const argc = c.array();
        if (argc < 0) return undefined;
        for (let j = 0; j < argc; j++) {
          const n = c.str();
          if (n < 0 || !utf8At(b, c.pos, n)) return undefined;
          c.pos += n;
        }
      }
      ch.args = v;
    } else return undefined; // a redactor may change process fields only
  }
  return ch.id < 0 ? undefined : ch;
}

/** Writes the string at the cursor with the smallest header (as MsgpackWriter does). */
function copyStr(w: MsgpackWriter, c: Cursor): void {
  const n = c.str();
  w.ensure(5 + n);
  const b = w.buf;
  if (n < 32) b[w.pos++] = 0xa0 | n;
  else if (n < 0x100) { b[w.pos++] = 0xd9; b[w.pos++] = n; }
  else if (n < 0x10000) { b[w.pos++] = 0xda; b[w.pos++] = n >>> 8; b[w.pos++] = n & 0xff; }
  else { b[w.pos++] = 0xdb; b.writeUInt32BE(n, w.pos); w.pos += 4; }
  w.raw(c.b, c.pos, c.pos + n);
  c.pos += n;
}

/** Writes a replacement value (already checked by readChange) canonically. */
function copyValue(w: MsgpackWriter, c: Cursor, start: number, isArgs: boolean): void {
  c.pos = start;
  if (!isArgs) return copyStr(w, c);
  const lists = c.array();
  w.arrayHeader(lists);
  for (let i = 0; i < lists; i++) {
    const argc = c.array();
    w.arrayHeader(argc);
    for (let j = 0; j < argc; j++) copyStr(w, c);
  }
}

/** The input's id string at the cursor equals the id the redactor returned (cursor left at the value). */
function idMatches(inp: Cursor, output: Uint8Array, ch: Change): boolean {
  const v = inp.pos;
  const len = inp.str();
  const ok = len === ch.idLen && bytesEqual(inp.b, inp.pos, output, ch.id, len);
  inp.pos = v;
  return ok;
}

/** Replaces the map header written at `at` for `was` entries by one for `now`, moving what follows when its size differs. */
function rewriteMapHeader(w: MsgpackWriter, at: number, was: number, now: number): void {
  const size = (n: number) => (n < 16 ? 1 : n < 0x10000 ? 3 : 5);
  const delta = size(now) - size(was);
  if (delta > 0) {
    w.ensure(delta);
    w.buf.copyWithin(at + size(now), at + size(was), w.pos);
    w.pos += delta;
  }
  const end = w.pos;
  w.pos = at;
  w.mapHeader(now);
  w.pos = end;
}

function writeKey(w: MsgpackWriter, key: Buffer): void {
  w.ensure(1 + key.length);
  w.buf[w.pos++] = 0xa0 | key.length;
  w.raw(key, 0, key.length);
}

/** A spliced batch: its bytes and where each flow starts in them (n + 1 offsets). */
export interface Spliced {
  batch: Uint8Array;
  starts: Uint32Array;
}

/**
 * The next stage's batch: `input` with the redactor's `output` applied, written
 * into `w` (the batch is a view of its buffer: valid until `w` is written
 * again). `starts`, where each flow of `input` starts (as the host's encoder
 * or a previous splice recorded them), lets a flow the redactor left alone be
 * copied without walking its fields. Undefined when the output cannot be
 * spliced (see the file comment).
 */
export function spliceRedaction(input: Uint8Array, output: Uint8Array, w = new MsgpackWriter(input.length + 1024), starts?: Uint32Array): Spliced | undefined {
  const inp = new Cursor(input);
  const out = new Cursor(output);
  const n = inp.array();
  if (n < 0 || out.array() !== n) return undefined;
  if (starts !== undefined && (starts.length !== n + 1 || starts[0] !== inp.pos || starts[n] !== input.length)) starts = undefined; // not this batch's
  const outStarts = new Uint32Array(n + 1);
  const change: Change = { id: -1, idLen: 0, name: -1, pid: -1, args: -1 }; // reused for every entry
  w.restart();
  w.arrayHeader(n);
  for (let i = 0; i < n; i++) {
    outStarts[i] = w.pos;
    const ch = readChange(out, change);
    if (ch === undefined) return undefined;
    const nextChange = out.pos; // copyValue below moves this cursor
    const flowStart = inp.pos;
    const m = inp.map();
    if (m < 0) return undefined;
    let idOk = false;
    if (ch.name < 0 && ch.pid < 0 && ch.args < 0) {
      // Unchanged: check the id, copy the flow (jumping to its end when the offsets are known).
      let jumped = false;
      for (let k = 0; k < m; k++) {
        const klen = inp.str();
        if (klen < 0) return undefined;
        const kstart = inp.pos;
        inp.pos += klen;
        if (klen === 2 && keyEquals(input, kstart, klen, K_ID)) {
          idOk = idMatches(inp, output, ch);
          if (idOk && starts !== undefined && starts[i] === flowStart && starts[i + 1] > inp.pos) {
            inp.pos = starts[i + 1];
            jumped = true;
            break;
          }
        }
        if (!inp.skip()) return undefined;
      }
      if (!jumped && starts !== undefined && inp.pos !== starts[i + 1]) starts = undefined; // offsets disagree with the bytes: stop trusting them
      if (!idOk) return undefined;
      w.raw(input, flowStart, inp.pos);
      continue;
    }
    // Changed, in one pass: the same keys in the same order, replaced values in place (runs of
    // untouched pairs copied at once), absent ones appended as `{ ...flow, field }` orders them.
    const header = w.pos;
    w.mapHeader(m);
    let run = inp.pos;
    let has = 0; // bit 0 name, 1 pid, 2 args: keys present in the flow
    for (let k = 0; k < m; k++) {
      const klen = inp.str();
      if (klen < 0) return undefined;
      const kstart = inp.pos;
      inp.pos += klen;
      let which = -1;
      if (klen === 2) {
        if (keyEquals(input, kstart, klen, K_ID)) idOk = idMatches(inp, output, ch);
      } else if (klen === 12) {
        if (keyEquals(input, kstart, klen, K_NAME)) { has |= 1; which = ch.name; }
        else if (keyEquals(input, kstart, klen, K_ARGS)) { has |= 4; which = ch.args; }
      } else if (klen === 10 && keyEquals(input, kstart, klen, K_PID)) { has |= 2; which = ch.pid; }
      if (which < 0) {
        if (!inp.skip()) return undefined;
        continue;
      }
      w.raw(input, run, inp.pos); // up to this key
      if (!inp.skip()) return undefined;
      run = inp.pos;
      copyValue(w, out, which, which === ch.args);
    }
    if (!idOk) return undefined;
    w.raw(input, run, inp.pos);
    if (starts !== undefined && inp.pos !== starts[i + 1]) starts = undefined;
    let added = 0;
    if (ch.name >= 0 && !(has & 1)) { writeKey(w, K_NAME); copyValue(w, out, ch.name, false); added++; }
    if (ch.pid >= 0 && !(has & 2)) { writeKey(w, K_PID); copyValue(w, out, ch.pid, false); added++; }
    if (ch.args >= 0 && !(has & 4)) { writeKey(w, K_ARGS); copyValue(w, out, ch.args, true); added++; }
    if (added > 0) rewriteMapHeader(w, header, m, m + added);
    out.pos = nextChange;
  }
  if (inp.pos !== input.length || out.pos !== output.length) return undefined; // trailing bytes: not a batch
  outStarts[n] = w.pos;
  return { batch: w.buf.subarray(0, w.pos), starts: outStarts };
}

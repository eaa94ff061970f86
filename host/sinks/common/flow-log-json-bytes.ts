/**
 * The flows.log document written straight into an arena chunk as UTF-8: the
 * same bytes as `Buffer.from(flowLogJson(r))` without building the string
 * (field names copied as bytes, ASCII strings and integers written byte by
 * byte, anything else through JSON.stringify). Used for Elasticsearch `_bulk`
 * items, where it saves about a third of the encoding time.
 * test/sinks/encoders.test.ts checks the bytes against flowLogJson.
 */
import type { FlowRecord } from '../../flows/record.js';
import type { Arena } from './arena.js';

let B: Buffer = Buffer.alloc(0);
let O = 0;
let END = 0;
/** Thrown when the chunk has no room left: the record is written again with more. */
const NO_ROOM = new Error('no room');
/** Characters JSON.stringify escapes (as in flow-log-json.ts). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function room(n: number): void {
  if (O + n > END) throw NO_ROOM;
}

function bytes(k: Uint8Array): void {
  const n = k.length;
  room(n);
  for (let i = 0; i < n; i++) B[O + i] = k[i]!; // a loop beats TypedArray#set for these few bytes
  O += n;
}

/** Any text, as UTF-8. */
function text(s: string): void {
  room(s.length * 3);
  O += B.write(s, O, 'utf8');
}

/** A JSON string: short ASCII ones byte by byte, longer ones through Buffer.write (native, faster per character). */
function str(s: string): void {
  const n = s.length;
  if (n >= 24) {
    if (NEEDS_ESCAPE.test(s)) return text(JSON.stringify(s));
    room(n * 3 + 2);
    B[O] = 34;
    O += 1 + B.write(s, O + 1, 'utf8');
    B[O++] = 34;
    return;
  }
  room(n + 2);
  let o = O;
  B[o++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92 || c >= 0x80) return text(NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
    B[o++] = c;
  }
  B[o++] = 34;
  O = o;
}

function num(v: number): void {
  if (Number.isSafeInteger(v) && v >= 0) {
    // Digits right to left.
    let len = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) len++;
    room(len);
    let x = v;
    for (let i = O + len - 1; i >= O; i--) {
      B[i] = 48 + (x % 10);
      x = Math.floor(x / 10);
    }
    O += len;
    return;
  }
  text(v - v === 0 ? String(v) : 'null');
}

/** One member (`,"key":value`), or nothing when JSON.stringify would leave it out. */
function member(key: Uint8Array, v: unknown): void {
  if (typeof v === 'string') {
    bytes(key);
    return str(v);
  }
  if (typeof v === 'number') {
    bytes(key);
    return num(v);
  }
  if (v === null) {
    bytes(key);
    return text('null');
  }
  const j = JSON.stringify(v) as string | undefined;
  if (j === undefined) return;
  bytes(key);
  text(j);
}

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const ARGS_KEY = enc(',"process_args":[');

function args(lists: readonly (readonly string[])[]): void {
  bytes(ARGS_KEY);
  for (let i = 0; i < lists.length; i++) {
    if (i > 0) {
      room(1);
      B[O++] = 44;
    }
    str(lists[i]!.join(' '));
  }
  room(1);
  B[O++] = 93;
}

/** One key order: the members' `,"key":` bytes and a generated reader of the values in that order. */
interface Shape {
  keys: Uint8Array[];
  values: (r: FlowRecord) => unknown[];
}

function compile(keys: readonly string[]): Shape {
  const fields = keys.filter((k) => k !== 'id' && k !== 'process_args');
  // Named property loads instead of r[k] over changing keys; keys quoted with JSON.stringify.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const values = new Function('r', `return [${fields.map((k) => `r[${JSON.stringify(k)}]`).join(', ')}];`) as Shape['values'];
  return { keys: fields.map((k) => enc(`,${JSON.stringify(k)}:`)), values };
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

function doc(r: FlowRecord, shape: Shape): void {
  const start = O;
  const vals = shape.values(r);
  const keys = shape.keys;
  for (let i = 0; i < vals.length; i++) member(keys[i]!, vals[i]);
  args(r.process_args);
  B[start] = 123; // the first member's comma becomes the opening brace (process_args is always there)
  room(1);
  B[O++] = 125;
}

/**
 * `prefix`, the JSON string of `id`, `infix`, the record's flows.log document
 * (the bytes of `flowLogJson(r)`) and a newline, as one view into `arena`.
 * (For a _bulk item: the action line up to `"_id":`, the id, `}}\n`, the document.)
 */
export function flowLogJsonItem(r: FlowRecord, arena: Arena, prefix: Uint8Array, id: string, infix: Uint8Array): Buffer {
  const shape = shapeOf(r);
  for (let max = 4096; ; max *= 4) {
    const at = arena.reserve(max);
    B = at.buf;
    O = at.off;
    END = at.buf.length;
    try {
      bytes(prefix);
      str(id);
      bytes(infix);
      doc(r, shape);
      room(1);
      B[O++] = 10;
    } catch (err) {
      if (err === NO_ROOM) continue;
      throw err;
    }
    return arena.commit(O - at.off);
  }
}

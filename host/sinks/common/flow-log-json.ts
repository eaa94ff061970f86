/**
 * Fast serialization of the flows.log form of a record: the same bytes as
 * `JSON.stringify(renderFlowLog(r))` (every field but `id` in the record's
 * key order, then `process_args` joined per list), without building the
 * rendered object. A serializer is generated per key order (keys are quoted
 * with JSON.stringify, so no key can inject code) and reused while records
 * keep that order, which pipeline records do. About twice as fast as
 * render + stringify; test/sinks/encoders.test.ts checks the bytes.
 */
import type { FlowRecord } from '../../flows/record.js';
import { ShapeCache } from '../../shape-cache.js';

type Serializer = (r: FlowRecord, extra: string) => string;

const shapes = new ShapeCache<Serializer>((keys) => compile(keys));

function compile(keys: readonly string[]): Serializer {
  const fields = keys.filter((k) => k !== 'id' && k !== 'process_args');
  // Every member starts with a comma; the first one's is cut. Finite numbers and strings that need no
  // escaping are written inline; anything else goes through JSON.stringify (members it would omit give '').
  const parts = fields.map((k, i) => {
    const prefix = JSON.stringify(`,${JSON.stringify(k)}:`);
    return `((v${i} = r[${JSON.stringify(k)}]), typeof v${i} === 'number' && v${i} - v${i} === 0 ? ${prefix}+v${i}`
      + ` : typeof v${i} === 'string' && !e.test(v${i}) ? ${prefix}+'"'+v${i}+'"' : v${i} === null ? ${prefix}+'null' : m(${prefix}, v${i}))`;
  });
  const vars = fields.map((_, i) => `v${i}`).join(', ');
  const body = [...parts, `',"process_args":'+a(r.process_args)`, 'extra'].join('+');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('m', 'a', 'e', `return function (r, extra) { ${vars ? `let ${vars};` : ''} return '{'+(${body}).slice(1)+'}'; }`)(member, argsJson, NEEDS_ESCAPE) as Serializer;
}

/** Characters JSON.stringify escapes in strings (quote, backslash, controls, lone surrogates: tested conservatively as any surrogate). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `,"key":value`, or '' when JSON.stringify would leave the member out (undefined, a function). */
function member(prefix: string, v: unknown): string {
  const j = JSON.stringify(v) as string | undefined;
  return j === undefined ? '' : prefix + j;
}

function argsJson(lists: readonly (readonly string[])[]): string {
  let s = '[';
  for (let i = 0; i < lists.length; i++) {
    const joined = lists[i]!.join(' ');
    s += (i === 0 ? '"' : ',"') + (NEEDS_ESCAPE.test(joined) ? JSON.stringify(joined).slice(1, -1) : joined) + '"';
  }
  return `${s}]`;
}


/**
 * `JSON.stringify(renderFlowLog(r))`; `extra` (e.g. `,"id":"…"`) is inserted
 * before the closing brace.
 */
export function flowLogJson(r: FlowRecord, extra = ''): string {
  return shapes.for(r)(r, extra);
}

/** The flows.log object of a record (renderFlowLog's result) plus its id: for msgpack encoders. */
export function flowLogObject(r: FlowRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k in r) {
    if (k !== 'id' && k !== 'process_args') o[k] = (r as unknown as Record<string, unknown>)[k];
  }
  o.process_args = r.process_args.map((argv) => argv.join(' '));
  o.id = r.id;
  return o;
}

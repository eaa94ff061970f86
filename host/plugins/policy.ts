/**
 * Stage contracts and failure policies. What each stage must return is
 * checked here; a stage that fails (timeout, trap, memory cap, error, or
 * malformed output) gets its safe default:
 *   redactor  → fails closed: arguments replaced by a marker, or flows dropped;
 *   enricher  → the batch passes through unchanged;
 *   formatter → the built-in JSON format.
 * Every outcome is counted.
 */
import type { FlowRecord } from '../flows/record.js';

/** Output that breaks a stage's contract. */
export class MalformedOutput extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isArgs(v: unknown): v is string[][] {
  return Array.isArray(v) && v.every((a) => Array.isArray(a) && a.every((s) => typeof s === 'string'));
}

const PROCESS_KEYS = new Set(['id', 'process_name', 'process_id', 'process_args']);

function sameLength(out: unknown, flows: readonly FlowRecord[]): unknown[] {
  if (!Array.isArray(out)) throw new MalformedOutput('output is not a list of flows');
  if (out.length !== flows.length) throw new MalformedOutput(`${out.length} flows returned for ${flows.length} given`);
  return out;
}

/** Applies a redactor's output: only process fields may change; ids and order must match. */
export function applyRedaction(flows: readonly FlowRecord[], out: unknown): FlowRecord[] {
  const list = sameLength(out, flows);
  const result: FlowRecord[] = new Array(flows.length);
  for (let i = 0; i < flows.length; i++) {
    const o = list[i];
    const f = flows[i];
    if (!isObj(o)) throw new MalformedOutput(`entry ${i} is not a map`);
    if (o.id !== f.id) throw new MalformedOutput(`entry ${i} has id ${JSON.stringify(o.id)}, expected ${JSON.stringify(f.id)}`);
    let changes = 0;
    for (const k in o) {
      if (!PROCESS_KEYS.has(k)) throw new MalformedOutput(`entry ${i} changes ${k}: a redactor may change process fields only`);
      changes++;
    }
    if (changes === 1) {
      result[i] = f; // only the id: unchanged (the same object lets the next stage reuse its encoded bytes)
      continue;
    }
    const r = { ...f };
    if (o.process_name !== undefined) {
      if (typeof o.process_name !== 'string') throw new MalformedOutput(`entry ${i}: process_name is not a string`);
      r.process_name = o.process_name;
    }
    if (o.process_id !== undefined) {
      if (typeof o.process_id !== 'string') throw new MalformedOutput(`entry ${i}: process_id is not a string`);
      r.process_id = o.process_id;
    }
    if (o.process_args !== undefined) {
      if (!isArgs(o.process_args)) throw new MalformedOutput(`entry ${i}: process_args is not a list of string lists`);
      r.process_args = o.process_args;
    }
    result[i] = r;
  }
  return result;
}

/** Applies an enricher's output: same ids in the same order, flow maps with the core fields intact in type. */
export function applyEnrichment(flows: readonly FlowRecord[], out: unknown): FlowRecord[] {
  const list = sameLength(out, flows);
  for (let i = 0; i < flows.length; i++) {
    const o = list[i];
    if (!isObj(o)) throw new MalformedOutput(`entry ${i} is not a map`);
    if (o.id !== flows[i].id) throw new MalformedOutput(`entry ${i} has id ${JSON.stringify(o.id)}, expected ${JSON.stringify(flows[i].id)}`);
    if (typeof o.process_name !== 'string' || typeof o.process_id !== 'string' || !isArgs(o.process_args)) {
      throw new MalformedOutput(`entry ${i}: process_name, process_id and process_args must keep their types`);
    }
  }
  return list as FlowRecord[];
}

/** Splits a formatter's items (one buffer + offsets) into one item per flow; the count must match. */
export function splitItems(flows: readonly FlowRecord[], items: { buf: Uint8Array; offsets: Uint32Array }): Uint8Array[] {
  const n = items.offsets.length - 1;
  if (n !== flows.length) throw new MalformedOutput(`${n} items returned for ${flows.length} flows`);
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = items.buf.subarray(items.offsets[i], items.offsets[i + 1]);
  return out;
}

/** Fail-closed masking: every argument list becomes the marker. */
export function maskArgs(flows: readonly FlowRecord[], marker: string): FlowRecord[] {
  return flows.map((f) => (f.process_args.length ? { ...f, process_args: f.process_args.map(() => [marker]) } : f));
}

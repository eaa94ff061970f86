/**
 * Per-process redaction results (a redactor entry's `perProcess`). A redactor
 * whose result for a flow depends on the flow's process alone (its executable
 * and argument lists; its pid too when the entry has lookups) need not see
 * every flow: the flows of one process repeat its lists, and a busy process
 * opens thousands of connections. The chain sends the redactor one flow per
 * distinct unknown process and applies the result to the others and to later
 * batches, so redaction costs per process, not per connection.
 *
 * Remembered from a process's second sight on. Bounded: two generations of at most `maxEntries / 2` each (a lookup in the
 * old one moves the entry to the young one; a full young generation becomes
 * the old one). Only what the redactor returned on success is remembered;
 * a failed call's policy (mask or drop) is never reused.
 */
import type { FlowRecord } from '../flows/record.js';

/** What a redactor did to a process: nothing (null), or the process fields it changed. */
export type ProcessRedaction = null | { name?: string; pid?: string; args?: string[][] };


/** Default bound on remembered processes per redactor instance. */
export const PROCESS_MEMO_ENTRIES = 8192;

/** Mixes a string into `h`: its length and at most its first and last 16 chars (equal hashes are confirmed in full, so a sample is enough). */
function mixStr(h: number, s: string): number {
  const n = s.length;
  if (n <= 32) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  } else {
    for (let i = 0; i < 16; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    for (let i = n - 16; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  }
  return Math.imul(h ^ n, 0x9e3779b1);
}

/** A 32-bit hash of a flow's process (FNV-1a over samples of its text, lengths mixed in); equal hashes are confirmed field by field. */
export function processHash(f: FlowRecord, withPid: boolean): number {
  let h = mixStr(0x811c9dc5, f.process_name);
  if (withPid) h = mixStr(h, f.process_id);
  for (const argv of f.process_args) {
    h = Math.imul(h ^ (argv.length + 1), 0x85ebca6b);
    for (const a of argv) h = mixStr(h, a);
  }
  return h >>> 0;
}

function sameArgs(a: readonly string[][], b: readonly string[][]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/** A remembered process: its fields as the redactor saw them, and the result; `next` chains equal hashes. */
interface Entry {
  name: string;
  pid: string;
  args: string[][];
  result: ProcessRedaction;
  next?: Entry;
}

/** A batch split by what is known: `out[i]` is flow i already redacted, or undefined when its process is `reps[repOf[i]]`. */
export interface MemoPlan {
  out: (FlowRecord | undefined)[];
  repOf: Int32Array;
  /** One flow per distinct process not known yet, in batch order: what the redactor must see. */
  reps: FlowRecord[];
  repHashes: number[];
  /** Whether the batch holds other flows of rep j's process. */
  repeated: boolean[];
  /** Flows resolved without the redactor (known processes and repeats of a rep). */
  fromCache: number;
}

/** Applies a remembered redaction to a flow (the same object when nothing changed). */
export function applyProcessRedaction(f: FlowRecord, r: ProcessRedaction): FlowRecord {
  if (r === null) return f;
  const out = { ...f };
  if (r.name !== undefined) out.process_name = r.name;
  if (r.pid !== undefined) out.process_id = r.pid;
  if (r.args !== undefined) out.process_args = r.args;
  return out;
}

/**
 * What a `perProcess` redactor is sent of a flow: its id and the process
 * fields a redactor may change (the entry says the plugin reads nothing
 * else), a tenth of the bytes to encode and decode.
 */
export function processOnly(f: FlowRecord): FlowRecord {
  return { id: f.id, process_name: f.process_name, process_id: f.process_id, process_args: f.process_args } as FlowRecord;
}

/** Batches in a row without a hit or a repeat before the memo is bypassed for a while (every flow its own process: nothing to gain). */
const MISSES_BEFORE_BYPASS = 4;
/** The longest bypass, in batches. */
const MAX_BYPASS = 64;

/** Remembered redactions of one redactor instance. */
export class ProcessMemo {
  private young = new Map<number, Entry>();
  private old = new Map<number, Entry>();
  private youngSize = 0;
  private missRun = 0;
  private bypass = 0;
  private bypassLen = 1;
  /** Hashes of processes redacted once and not remembered yet (see learn). */
  private readonly seenOnce = new Set<number>();

  /** `withPid`: processes differ by process_id too (a redactor with lookups may depend on it). */
  constructor(
    readonly withPid: boolean,
    readonly maxEntries = PROCESS_MEMO_ENTRIES,
  ) {}

  /** Processes remembered now (at most maxEntries). */
  get size(): number {
    let n = 0;
    for (const m of [this.young, this.old]) for (let e of m.values()) for (let x: Entry | undefined = e; x; x = x.next) n++;
    return n;
  }

  private find(m: Map<number, Entry>, h: number, f: FlowRecord): Entry | undefined {
    for (let e = m.get(h); e; e = e.next) if (e.name === f.process_name && (!this.withPid || e.pid === f.process_id) && sameArgs(e.args, f.process_args)) return e;
    return undefined;
  }

  private lookup(h: number, f: FlowRecord): Entry | undefined {
    const y = this.find(this.young, h, f);
    if (y) return y;
    const o = this.find(this.old, h, f);
    if (o) this.put(h, f, o.result); // used again: kept in the young generation
    return o;
  }

  private put(h: number, f: FlowRecord, result: ProcessRedaction): void {
    if (this.youngSize >= Math.max(1, this.maxEntries >> 1)) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
    this.young.set(h, { name: f.process_name, pid: f.process_id, args: f.process_args, result, next: this.young.get(h) });
    this.youngSize++;
  }

  /**
   * Splits `flows` into the ones resolved from memory and one representative
   * per unknown process; undefined when the memo is bypassed for this batch
   * (the last batches had every flow a process of its own).
   */
  plan(flows: readonly FlowRecord[]): MemoPlan | undefined {
    if (this.bypass > 0) {
      this.bypass--;
      return undefined;
    }
    const n = flows.length;
    const out: (FlowRecord | undefined)[] = new Array(n);
    const repOf = new Int32Array(n);
    const reps: FlowRecord[] = [];
    const repHashes: number[] = [];
    const repeated: boolean[] = [];
    const firstRep = new Map<number, number>(); // hash → the first rep of that hash; repNext chains the others
    const repNext: number[] = [];
    let fromCache = 0;
    next: for (let i = 0; i < n; i++) {
      const f = flows[i];
      const h = processHash(f, this.withPid);
      const e = this.lookup(h, f);
      if (e) {
        out[i] = applyProcessRedaction(f, e.result);
        repOf[i] = -1;
        fromCache++;
        continue;
      }
      const first = firstRep.get(h);
      if (first !== undefined) {
        let j = first;
        for (;;) {
          const r = reps[j];
          if (r.process_name === f.process_name && (!this.withPid || r.process_id === f.process_id) && sameArgs(r.process_args, f.process_args)) {
            repOf[i] = j;
            repeated[j] = true;
            fromCache++;
            continue next;
          }
          if (repNext[j] < 0) break;
          j = repNext[j];
        }
        repNext[j] = reps.length;
      } else firstRep.set(h, reps.length);
      repOf[i] = reps.length;
      repNext.push(-1);
      repeated.push(false);
      reps.push(f);
      repHashes.push(h);
    }
    if (fromCache > 0) {
      this.missRun = 0;
      this.bypassLen = 1;
    } else if (++this.missRun >= MISSES_BEFORE_BYPASS) {
      this.bypass = this.bypassLen;
      this.bypassLen = Math.min(MAX_BYPASS, this.bypassLen * 2);
    }
    return { out, repOf, reps, repHashes, repeated, fromCache };
  }

  /**
   * Remembers the redactor's successful output for `plan.reps`: `sent` is what
   * it was sent for them and `after` what came back, index for index. Returns
   * each rep's result. A process is remembered from its second sight on (a
   * repeat in the batch, or a second batch): one-off processes, which may be
   * most of them on a host running short jobs, never displace the others.
   */
  learn(plan: MemoPlan, sent: readonly FlowRecord[], after: readonly FlowRecord[]): ProcessRedaction[] {
    const results: ProcessRedaction[] = new Array(plan.reps.length);
    for (let j = 0; j < plan.reps.length; j++) {
      const a = after[j];
      const b = sent[j];
      let r: ProcessRedaction = null;
      if (a !== b) {
        r = {};
        if (a.process_name !== b.process_name) r.name = a.process_name;
        if (a.process_id !== b.process_id) r.pid = a.process_id;
        if (a.process_args !== b.process_args) r.args = a.process_args;
      }
      results[j] = r;
      const h = plan.repHashes[j];
      if (plan.repeated[j] || this.seenOnce.has(h)) this.put(h, plan.reps[j], r);
      else {
        if (this.seenOnce.size >= this.maxEntries * 2) this.seenOnce.clear();
        this.seenOnce.add(h);
      }
    }
    return results;
  }
}

/** The whole batch redacted: `plan.out`, with every flow of a process just learned filled in. */
export function fillPlan(plan: MemoPlan, flows: readonly FlowRecord[], results: readonly ProcessRedaction[]): FlowRecord[] {
  const out = plan.out as FlowRecord[];
  for (let i = 0; i < flows.length; i++) if (out[i] === undefined) out[i] = applyProcessRedaction(flows[i], results[plan.repOf[i]]);
  return out;
}

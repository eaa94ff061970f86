/**
 * Per-process redaction results (a redactor entry's `perProcess`). A redactor
 * whose result for a flow depends on the flow's process alone (its executable
 * and argument lists; its pid too when the entry has lookups) need not see
 * every flow: the flows of one process repeat its lists, and a busy process
 * opens thousands of connections. The chain sends the redactor one flow per
 * distinct unknown process and applies the result to the others and to later
 * batches, so redaction costs per process, not per connection.
 *
 * A process is remembered from its second sight on. Bounded: two
 * generations of at most `maxEntries / 2` processes and `maxChars / 2` chars
 * of their text each (a lookup in the old one moves the entry to the young
 * one; a full young generation becomes the old one). Only what the redactor
 * returned on success is remembered; a failed call's policy (mask or drop) is
 * never reused.
 */
import type { FlowRecord } from '../flows/record.js';

/** What a redactor did to a process: nothing (null), or the process fields it changed. */
export type ProcessRedaction = null | { name?: string; pid?: string; args?: string[][] };

/** Default bound on remembered processes per redactor instance. */
export const PROCESS_MEMO_ENTRIES = 8192;
/** Default bound on the text (chars of names and arguments, before and after redaction) they hold. */
export const PROCESS_MEMO_CHARS = 8 * 1024 * 1024;

function textChars(name: string, args: readonly string[][]): number {
  let n = name.length;
  for (const argv of args) for (const a of argv) n += a.length;
  return n;
}

/** Mixes a string into `h`: every char, then its length. */
function mixStr(h: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return Math.imul(h ^ n, 0x9e3779b1);
}

/**
 * A 32-bit hash of a flow's process (FNV-1a over its text from `seed`,
 * lengths mixed in); equal hashes are confirmed field by field. Each memo
 * has its own random seed, so nobody can precompute argument lists that
 * collide (a chain of collisions is also capped: see MAX_CHAIN).
 */
export function processHash(f: FlowRecord, withPid: boolean, seed = 0x811c9dc5): number {
  let h = mixStr(seed, f.process_name);
  if (withPid) h = mixStr(h, f.process_id);
  for (const argv of f.process_args) {
    h = Math.imul(h ^ (argv.length + 1), 0x85ebca6b);
    for (const a of argv) h = mixStr(h, a);
  }
  return h >>> 0;
}

/** Processes with one hash remembered at most (more would make each lookup of that hash a long scan). */
const MAX_CHAIN = 4;

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

/** Chars a remembered process holds: its own text and its result's. */
function entryChars(name: string, args: readonly string[][], result: ProcessRedaction): number {
  return textChars(name, args) + (result?.args ? textChars(result.name ?? '', result.args) : 0);
}

/** A batch split by what is known: flow i's remembered result is `known[i]` when `repOf[i]` is -1, else its process is `reps[repOf[i]]`. */
export interface MemoPlan {
  known: ProcessRedaction[];
  repOf: Int32Array;
  /** One flow per distinct process not known yet, in batch order: what the redactor must see. */
  reps: FlowRecord[];
  /** Where each rep lies in the batch. */
  repIndex: number[];
  repHashes: number[];
  /** Whether the batch holds other flows of rep j's process. */
  repeated: boolean[];
  /** Flows resolved without the redactor (known processes and repeats of a rep). */
  fromCache: number;
  /** Few enough unknown processes (PER_PROCESS_SHARE) to send the redactor only those. */
  worthIt: boolean;
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

/**
 * The redactor is sent only the unknown processes when they are at most 1/3
 * of the batch; above, every flow (fused with the next stages): the separate
 * calls and merges would cost the host thread more than the redactor saves in
 * the worker.
 */
export const PER_PROCESS_SHARE = 3;

/** Batches in a row above that share before the memo is bypassed for a while (mostly new processes: little to gain, and lookups to pay). */
const MISSES_BEFORE_BYPASS = 4;
/** The longest bypass, in batches. */
const MAX_BYPASS = 64;

/** Remembered redactions of one redactor instance. */
export class ProcessMemo {
  private young = new Map<number, Entry>();
  private old = new Map<number, Entry>();
  private youngSize = 0;
  private youngChars = 0;
  private missRun = 0;
  private bypass = 0;
  private bypassLen = 1;
  /** Hashes of processes redacted once and not remembered yet (see learn). */
  private readonly seenOnce = new Set<number>();
  private readonly seed = (Math.random() * 0x100000000) >>> 0;
  /** pid → the entry last found or stored for it (entries of the current generations only; at most maxEntries pids). */
  private readonly pidLast = new Map<string, Entry>();

  /** `withPid`: processes differ by process_id too (a redactor with lookups may depend on it). */
  constructor(
    readonly withPid: boolean,
    readonly maxEntries = PROCESS_MEMO_ENTRIES,
    readonly maxChars = PROCESS_MEMO_CHARS,
  ) {}

  /** Processes remembered now (at most maxEntries). */
  get size(): number {
    let n = 0;
    for (const _ of this.entries()) n++;
    return n;
  }

  /** Every remembered entry, both generations, chains included. */
  private *entries(): Generator<Entry> {
    for (const m of [this.young, this.old]) for (const e of m.values()) for (let x: Entry | undefined = e; x; x = x.next) yield x;
  }

  /** Whether `f` runs the process of name, pid and args (the pid counts only `withPid`). */
  private sameProcess(name: string, pid: string, args: readonly string[][], f: FlowRecord): boolean {
    return name === f.process_name && (!this.withPid || pid === f.process_id) && sameArgs(args, f.process_args);
  }

  private find(m: Map<number, Entry>, h: number, f: FlowRecord): Entry | undefined {
    for (let e = m.get(h); e; e = e.next) if (this.sameProcess(e.name, e.pid, e.args, f)) return e;
    return undefined;
  }

  private lookup(h: number, f: FlowRecord): Entry | undefined {
    const y = this.find(this.young, h, f);
    if (y) return y;
    const o = this.find(this.old, h, f);
    if (o) return this.put(h, f, o.result) ?? o; // used again: kept in the young generation
    return undefined;
  }

  /** The entry last used for the flow's pid, when it is this flow's process: no hash to compute (flows of one pid repeat). */
  private byPid(f: FlowRecord): Entry | undefined {
    const e = this.pidLast.get(f.process_id);
    return e !== undefined && this.sameProcess(e.name, e.pid, e.args, f) ? e : undefined;
  }

  private put(h: number, f: FlowRecord, result: ProcessRedaction): Entry | undefined {
    const chars = entryChars(f.process_name, f.process_args, result);
    if (this.youngSize >= Math.max(1, this.maxEntries >> 1) || this.youngChars + chars > this.maxChars >> 1) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
      this.youngChars = 0;
      this.pidLast.clear(); // it must not keep entries alive past their generation
    }
    if (chars > this.maxChars >> 1) return undefined; // larger than a generation: not remembered
    const head = this.young.get(h);
    let depth = 0;
    for (let e = head; e; e = e.next) if (++depth >= MAX_CHAIN) return undefined; // a colliding hash: not remembered
    const e: Entry = { name: f.process_name, pid: f.process_id, args: f.process_args, result, next: head };
    this.young.set(h, e);
    this.youngSize++;
    this.youngChars += chars;
    this.rememberPid(f.process_id, e);
    return e;
  }

  private rememberPid(pid: string, e: Entry): void {
    if (this.pidLast.size >= this.maxEntries) this.pidLast.clear();
    this.pidLast.set(pid, e);
  }

  /** Chars of text held now (at most maxChars). */
  get chars(): number {
    let n = 0;
    for (const x of this.entries()) n += entryChars(x.name, x.args, x.result);
    return n;
  }

  /**
   * Splits `flows` into the ones resolved from memory and one representative
   * per unknown process; undefined when the memo is bypassed for this batch
   * (the last batches were mostly processes it did not know: 1 batch, then
   * 2, 4 … up to 64 while that lasts).
   */
  plan(flows: readonly FlowRecord[]): MemoPlan | undefined {
    if (this.bypass > 0) {
      this.bypass--;
      return undefined;
    }
    const n = flows.length;
    const known: ProcessRedaction[] = new Array(n); // applied only when used (a batch sent whole does not need it)
    const repOf = new Int32Array(n);
    const reps: FlowRecord[] = [];
    const repIndex: number[] = [];
    const repHashes: number[] = [];
    const repeated: boolean[] = [];
    const firstRep = new Map<number, number>(); // hash → the first rep of that hash; repNext chains the others
    const repNext: number[] = [];
    let fromCache = 0;
    next: for (let i = 0; i < n; i++) {
      const f = flows[i];
      let e = this.byPid(f);
      const h = e ? 0 : processHash(f, this.withPid, this.seed);
      if (!e) {
        e = this.lookup(h, f);
        if (e) this.rememberPid(f.process_id, e);
      }
      if (e) {
        known[i] = e.result;
        repOf[i] = -1;
        fromCache++;
        continue;
      }
      const first = firstRep.get(h);
      if (first !== undefined) {
        let j = first;
        for (;;) {
          const r = reps[j];
          if (this.sameProcess(r.process_name, r.process_id, r.process_args, f)) {
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
      repIndex.push(i);
      reps.push(f);
      repHashes.push(h);
    }
    const worthIt = reps.length * PER_PROCESS_SHARE <= n;
    if (worthIt) {
      this.missRun = 0;
      this.bypassLen = 1;
    } else if (++this.missRun >= MISSES_BEFORE_BYPASS) {
      this.bypass = this.bypassLen;
      this.bypassLen = Math.min(MAX_BYPASS, this.bypassLen * 2);
    }
    return { known, repOf, reps, repIndex, repHashes, repeated, fromCache, worthIt };
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

/** Flow i redacted from memory, or undefined when its process was sent to the redactor (`plan.reps`). */
export function knownFlow(plan: MemoPlan, flows: readonly FlowRecord[], i: number): FlowRecord | undefined {
  return plan.repOf[i] < 0 ? applyProcessRedaction(flows[i], plan.known[i]) : undefined;
}

/** The whole batch redacted: known processes from memory, the others from `results` (the reps' results, from learn). */
export function fillPlan(plan: MemoPlan, flows: readonly FlowRecord[], results: readonly ProcessRedaction[]): FlowRecord[] {
  const out: FlowRecord[] = new Array(flows.length);
  for (let i = 0; i < flows.length; i++) {
    const j = plan.repOf[i];
    out[i] = applyProcessRedaction(flows[i], j < 0 ? plan.known[i] : results[j]);
  }
  return out;
}

/**
 * Decodes ring-buffer and iterator records (layout in ./layout.ts, contract
 * in bpf/procflow.h) into plain objects. u64 fields are read as two u32
 * halves into a Number: no BigInt per event.
 */
import {
  AF_INET6, DIR_PASSIVE, EventType, EXEC_ARGS_TRUNCATED, EXEC_NO_MM, EXEC_PATH_TRUNCATED, HOOK_NAMES,
  IPPROTO_TCP, LAYOUT, type HookName,
} from './layout.js';
import { decodeBytes } from './text.js';

const E = LAYOUT.pf_exec.fields;
const X = LAYOUT.pf_exit.fields;
const S = LAYOUT.pf_sock.fields;
const H = LAYOUT.pf_hdr.fields;

/** Fields every record has. */
export interface RecordBase {
  /** Which logical hook produced it. */
  hook: HookName;
  /** bpf_ktime_get_boot_ns() at the event (float; exact below 2^53 ns ≈ 104 days of uptime). */
  bootNs: number;
}

/** A successful exec, or (kind `task`) a process already running at snapshot time. */
export interface ExecRecord extends RecordBase {
  kind: 'exec' | 'task';
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  /** Group leader start time in ns since boot; /10^7 equals /proc/PID/stat field 22. */
  startNs: number;
  parentStartNs: number;
  comm: string;
  /** Resolved absolute path of the executable ('' for kernel threads). */
  path: string;
  /** argv including argv[0]; non-UTF-8 bytes written as \xNN. */
  argv: string[];
  /** The argv cap cut the list (elements are kept whole). */
  truncated: boolean;
  pathTruncated: boolean;
  /** Kernel thread or mm already gone: no argv. */
  noMm: boolean;
  /** cgroup v2 id of the task (inode number of its cgroup directory; 1 = root); 0 or absent when unknown. */
  cgroupId?: number;
  /** cgroup v2 path relative to the cgroup2 root, when the source read it directly (/proc fallback). */
  cgroupPath?: string;
}

/** The last thread of a process exited. */
export interface ExitRecord extends RecordBase {
  kind: 'exit';
  pid: number;
  tid: number;
  startNs: number;
  exitCode: number;
  /** Parent tgid at exit (after a reparent: the new parent). */
  ppid: number;
  comm: string;
}

/** Socket record kinds, named as `procflow trace` prints them. */
export type SockKind = 'connect' | 'accept' | 'close' | 'udp_send' | 'udp_recv' | 'tcp_stats' | 'sock_owner';

/** A socket event: local/remote ends as the owner sees them, cumulative counters. */
export interface SockRecord extends RecordBase {
  kind: SockKind;
  cookie: number;
  /** Owner tgid; 0 when the kernel did not know it. */
  pid: number;
  tid: number;
  startNs: number;
  uid: number;
  comm: string;
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  /** The local end accepted (TCP) or received (UDP). */
  passive: boolean;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  fd: number;
  bytesOut: number;
  bytesIn: number;
  segsOut: number;
  segsIn: number;
}

export type BpfRecord = ExecRecord | ExitRecord | SockRecord;

const SOCK_KINDS: Record<number, SockKind> = {
  [EventType.TCP_CONNECT]: 'connect',
  [EventType.TCP_ACCEPT]: 'accept',
  [EventType.TCP_CLOSE]: 'close',
  [EventType.UDP_SEND]: 'udp_send',
  [EventType.UDP_RECV]: 'udp_recv',
  [EventType.TCP_STATS]: 'tcp_stats',
  [EventType.SOCK_OWNER]: 'sock_owner',
};

function u64(dv: DataView, off: number): number {
  return dv.getUint32(off + 4, true) * 0x1_0000_0000 + dv.getUint32(off, true);
}

function comm(u8: Uint8Array, off: number): string {
  let end = off;
  const max = off + 16;
  while (end < max && u8[end] !== 0) end++;
  return decodeBytes(u8, off, end);
}

/**
 * Decodes one record starting at `off` in `u8` (with `dv` over the same
 * memory). Returns undefined for an unknown type or a record too short for
 * its type (counted by the caller as malformed).
 */
export function decodeRecord(dv: DataView, u8: Uint8Array, off: number, len: number): BpfRecord | undefined {
  if (len < LAYOUT.pf_hdr.size) return undefined;
  const type = dv.getUint16(off + H.type[0], true);
  const hook = HOOK_NAMES[dv.getUint16(off + H.hook[0], true)] ?? 'exec';
  const bootNs = u64(dv, off + H.ts_ns[0]);
  if (type === EventType.EXEC || type === EventType.TASK) {
    if (len < LAYOUT.pf_exec.size) return undefined;
    const pathLen = dv.getUint32(off + E.path_len[0], true);
    const argsLen = dv.getUint32(off + E.args_len[0], true);
    const tail = off + LAYOUT.pf_exec.size;
    if (LAYOUT.pf_exec.size + pathLen + argsLen > len) return undefined;
    return new DecodedExec(dv, u8, off, type === EventType.EXEC ? 'exec' : 'task', hook, bootNs, tail, pathLen, argsLen);
  }
  if (type === EventType.EXIT) {
    if (len < LAYOUT.pf_exit.size) return undefined;
    return {
      kind: 'exit',
      hook,
      bootNs,
      pid: dv.getUint32(off + X.pid[0], true),
      tid: dv.getUint32(off + X.tid[0], true),
      startNs: u64(dv, off + X.start_ns[0]),
      exitCode: dv.getUint32(off + X.exit_code[0], true),
      ppid: dv.getUint32(off + X.ppid[0], true),
      comm: comm(u8, off + X.comm[0]),
    };
  }
  const kind = SOCK_KINDS[type];
  if (kind === undefined || len < LAYOUT.pf_sock.size) return undefined;
  return decodeSock(dv, u8, off, kind, hook, bootNs);
}

/** Decodes a struct pf_sock at `off` (also used for pf_udp_flows map values). */
export function decodeSock(
  dv: DataView, u8: Uint8Array, off: number, kind: SockKind, hook: HookName, bootNs: number,
): SockRecord {
  const family = dv.getUint16(off + S.family[0], true) === AF_INET6 ? 6 : 4;
  return {
    kind,
    hook,
    bootNs,
    cookie: u64(dv, off + S.cookie[0]),
    pid: dv.getUint32(off + S.pid[0], true),
    tid: dv.getUint32(off + S.tid[0], true),
    startNs: u64(dv, off + S.start_ns[0]),
    uid: dv.getUint32(off + S.uid[0], true),
    comm: comm(u8, off + S.comm[0]),
    proto: u8[off + S.proto[0]] === IPPROTO_TCP ? 'tcp' : 'udp',
    family,
    passive: u8[off + S.dir[0]] === DIR_PASSIVE,
    laddr: formatAddr(u8, off + S.laddr[0], family),
    lport: dv.getUint16(off + S.lport[0], true),
    raddr: formatAddr(u8, off + S.raddr[0], family),
    rport: dv.getUint16(off + S.rport[0], true),
    fd: dv.getUint32(off + S.fd[0], true),
    bytesOut: u64(dv, off + S.bytes_out[0]),
    bytesIn: u64(dv, off + S.bytes_in[0]),
    segsOut: u64(dv, off + S.segs_out[0]),
    segsIn: u64(dv, off + S.segs_in[0]),
  };
}

/**
 * An exec record as decoded from the ring. argv is kept as one decoded
 * NUL-separated string and split on first use: most exec'd processes never
 * open a connection, and splitting costs more than the rest of the decode.
 */
class DecodedExec implements ExecRecord {
  readonly kind: 'exec' | 'task';
  readonly hook: HookName;
  readonly bootNs: number;
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly startNs: number;
  readonly parentStartNs: number;
  readonly comm: string;
  readonly path: string;
  readonly truncated: boolean;
  readonly pathTruncated: boolean;
  readonly noMm: boolean;
  readonly cgroupId: number;
  private readonly argvText: string;
  private argvList: string[] | undefined;

  constructor(
    dv: DataView, u8: Uint8Array, off: number, kind: 'exec' | 'task', hook: HookName, bootNs: number, tail: number,
    pathLen: number, argsLen: number,
  ) {
    const flags = dv.getUint32(off + E.flags[0], true);
    this.kind = kind;
    this.hook = hook;
    this.bootNs = bootNs;
    this.pid = dv.getUint32(off + E.pid[0], true);
    this.tid = dv.getUint32(off + E.tid[0], true);
    this.ppid = dv.getUint32(off + E.ppid[0], true);
    this.uid = dv.getUint32(off + E.uid[0], true);
    this.startNs = u64(dv, off + E.start_ns[0]);
    this.parentStartNs = u64(dv, off + E.parent_start_ns[0]);
    this.comm = comm(u8, off + E.comm[0]);
    this.path = decodeBytes(u8, tail, tail + pathLen);
    this.truncated = (flags & EXEC_ARGS_TRUNCATED) !== 0;
    this.pathTruncated = (flags & EXEC_PATH_TRUNCATED) !== 0;
    this.noMm = (flags & EXEC_NO_MM) !== 0;
    this.cgroupId = u64(dv, off + E.cgroup_id[0]);
    const end = tail + pathLen + argsLen;
    // Without the last element's NUL, split() yields no empty tail.
    this.argvText = decodeBytes(u8, tail + pathLen, argsLen > 0 && u8[end - 1] === 0 ? end - 1 : end);
    this.argvList = argsLen === 0 ? [] : undefined;
  }

  /** argv including argv[0], split on first use. */
  get argv(): string[] {
    return (this.argvList ??= this.argvText.split('\0'));
  }

  set argv(value: string[]) {
    this.argvList = value;
  }

  /** Plain-object form, so JSON sees argv as a field. */
  toJSON(): ExecRecord {
    const { kind, hook, bootNs, pid, tid, ppid, uid, startNs, parentStartNs, comm: c, path, truncated, pathTruncated, noMm, cgroupId } = this;
    return { kind, hook, bootNs, pid, tid, ppid, uid, startNs, parentStartNs, comm: c, path, argv: this.argv, truncated, pathTruncated, noMm, cgroupId };
  }
}

/**
 * Splits NUL-terminated argv elements; a final unterminated element is kept
 * too. The block is decoded once (escapes never contain NUL, so splitting
 * afterwards is exact).
 */
export function splitArgv(u8: Uint8Array, start: number, end: number): string[] {
  if (end <= start) return [];
  const argv = decodeBytes(u8, start, end).split('\0');
  if (u8[end - 1] === 0) argv.pop();
  return argv;
}

/**
 * Formats 16 address bytes: IPv4 from the first 4 bytes for family 4;
 * IPv6 per RFC 5952, with IPv4-mapped addresses (::ffff:a.b.c.d) written as
 * plain IPv4.
 */
export function formatAddr(u8: Uint8Array, off: number, family: 4 | 6): string {
  if (family === 4) return `${u8[off]}.${u8[off + 1]}.${u8[off + 2]}.${u8[off + 3]}`;
  let mapped = u8[off + 10] === 0xff && u8[off + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (u8[off + i] !== 0) mapped = false;
  if (mapped) return `${u8[off + 12]}.${u8[off + 13]}.${u8[off + 14]}.${u8[off + 15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((u8[off + i] << 8) | u8[off + i + 1]);
  // Longest run of two or more zero words becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}


/** True for socket records (connect/accept/close/udp/stats/owner). */
export function isSockRecord(r: BpfRecord): r is SockRecord {
  return 'cookie' in r;
}

/**
 * Decodes a buffer of back-to-back records (what a BPF iterator writes:
 * each record hdr.size long, padded to 8 bytes). Returns how many were
 * handed out and how many could not be read.
 */
export function decodeStream(buf: Uint8Array, onRecord: (rec: BpfRecord) => void): { records: number; malformed: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let records = 0;
  let malformed = 0;
  for (let off = 0; off + LAYOUT.pf_hdr.size <= buf.length; ) {
    const size = dv.getUint32(off + H.size[0], true);
    if (size < LAYOUT.pf_hdr.size || off + size > buf.length) {
      malformed++; // a torn stream cannot be resynchronised
      break;
    }
    const rec = decodeRecord(dv, buf, off, size);
    if (rec) {
      onRecord(rec);
      records++;
    } else malformed++;
    off += (size + 7) & ~7;
  }
  return { records, malformed };
}

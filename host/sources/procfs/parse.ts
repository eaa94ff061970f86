/**
 * Pure parsers of /proc text: the fallback source for processes and sockets
 * that were running before the agent started, when the BPF iterators cannot
 * run. Tested on fixtures without root.
 */
import { formatAddr, splitArgv } from '../bpf/decode.js';
import { decodeBytes } from '../bpf/text.js';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every mainstream Linux ABI). */
export const USER_HZ = 100;

/** Fields of /proc/PID/stat procflow uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** Field 22: start time in clock ticks since boot. */
  startTicks: number;
}

/** Parses /proc/PID/stat; comm may contain spaces and ')' so it is cut at the last ')'. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), ppid, startTicks };
}

/** Real uid from /proc/PID/status. */
export function parseStatusUid(text: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The cgroup v2 path from /proc/PID/cgroup (the `0::/path` line), relative to
 * the cgroup2 root; undefined on a host without the unified hierarchy.
 */
export function parseCgroupV2(text: string): string | undefined {
  const m = /^0::(\/.*)$/m.exec(text);
  return m ? m[1] : undefined;
}

/** argv from /proc/PID/cmdline bytes (NUL-separated), non-UTF-8 bytes as \xNN. */
export function parseCmdline(buf: Uint8Array): string[] {
  return splitArgv(buf, 0, buf.length);
}

/** comm or a path from raw bytes (same text convention as the BPF records). */
export function textOf(buf: Uint8Array): string {
  return decodeBytes(buf, 0, buf.length);
}

/** One socket row of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface ProcNetSocket {
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  /** TCP state number (1 ESTABLISHED … 10 LISTEN); UDP uses 7 (CLOSE) for unconnected. */
  state: number;
  uid: number;
  inode: number;
}

function hexAddr(hex: string): string {
  // The kernel prints each 32-bit word in host (little-endian) order.
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(word.slice(b, b + 2), 16));
  }
  return formatAddr(Uint8Array.from(bytes), 0, bytes.length === 4 ? 4 : 6);
}

/** Parses /proc/net/{tcp,tcp6,udp,udp6} text. */
export function parseProcNet(text: string): ProcNetSocket[] {
  const out: ProcNetSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [la, lp] = f[1].split(':');
    const [ra, rp] = f[2].split(':');
    out.push({
      laddr: hexAddr(la), lport: parseInt(lp, 16), raddr: hexAddr(ra), rport: parseInt(rp, 16),
      state: parseInt(f[3], 16), uid: Number(f[7]), inode: Number(f[9]),
    });
  }
  return out;
}

/** The socket inode of a /proc/PID/fd link target ("socket:[12345]"), or undefined. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

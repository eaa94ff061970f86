/**
 * A snapshot of running processes and their sockets read from /proc — the
 * fallback when the BPF iterators cannot run. Only valid when /proc is the
 * host's PID namespace (BPF reports host pids): otherwise it returns nothing.
 * Records have the same shape as the iterators' (kind `task` / `sock_owner`).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ExecRecord, SockRecord } from '../bpf/decode.js';
import { parseCgroupV2, parseCmdline, parseProcNet, parseStat, parseStatusUid, socketInode, textOf, USER_HZ, type ProcNetSocket } from './parse.js';

/** What the /proc snapshot found. */
export interface ProcSnapshot {
  processes: ExecRecord[];
  sockets: SockRecord[];
}

function tryRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined; // the process exited meanwhile, or is not ours to read
  }
}

function netTable(proc: string, file: string, proto: 'tcp' | 'udp', family: 4 | 6): Map<number, [ProcNetSocket, 'tcp' | 'udp', 4 | 6]> {
  const text = tryRead(`${proc}/net/${file}`)?.toString('latin1') ?? '';
  return new Map(parseProcNet(text).map((s) => [s.inode, [s, proto, family]]));
}

/**
 * One process read from `proc` (stat, exe, cmdline, status, cgroup), as a
 * `task` record; undefined when it is gone or unreadable. Also used for a
 * connection whose owner the process cache does not know (a child forked
 * without exec: its image is its parent's).
 */
export function readProcess(proc: string, pid: number): ExecRecord | undefined {
  const dir = `${proc}/${pid}`;
  const stat = parseStat(tryRead(`${dir}/stat`)?.toString('latin1') ?? '');
  if (!stat) return undefined;
  const cmdline = tryRead(`${dir}/cmdline`);
  let path = '';
  try {
    path = textOf(Buffer.from(readlinkSync(`${dir}/exe`, { encoding: 'buffer' })));
  } catch {
    /* kernel thread or not readable: path stays empty, comm is the fallback */
  }
  const startNs = stat.startTicks * (1e9 / USER_HZ);
  const uid = parseStatusUid(tryRead(`${dir}/status`)?.toString('latin1') ?? '') ?? 0;
  const argv = cmdline ? parseCmdline(cmdline) : [];
  const cgroupPath = parseCgroupV2(tryRead(`${dir}/cgroup`)?.toString('utf8') ?? '');
  return {
    kind: 'task', hook: 'iter_task', bootNs: 0, pid: stat.pid, tid: stat.pid, ppid: stat.ppid, uid, startNs,
    parentStartNs: 0, comm: stat.comm, path, argv, truncated: false, pathTruncated: false, noMm: argv.length === 0 && path === '',
    ...(cgroupPath !== undefined && { cgroupPath }),
  };
}

/** Reads every process (and, unless `sockets` is false, its inet sockets) under `proc`. */
export function snapshotProc(options: { hostPidNs: boolean; proc?: string; sockets?: boolean }): ProcSnapshot {
  const proc = options.proc ?? '/proc';
  const out: ProcSnapshot = { processes: [], sockets: [] };
  if (!options.hostPidNs) return out;
  const inodes = new Map([
    ...netTable(proc, 'tcp', 'tcp', 4), ...netTable(proc, 'tcp6', 'tcp', 6),
    ...netTable(proc, 'udp', 'udp', 4), ...netTable(proc, 'udp6', 'udp', 6),
  ]);
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    const dir = `${proc}/${name}`;
    const rec = readProcess(proc, Number(name));
    if (!rec) continue;
    out.processes.push(rec);
    const { startNs, uid } = rec;
    const stat = { pid: rec.pid, comm: rec.comm };
    if (options.sockets === false) continue;
    let fds: string[] = [];
    try {
      fds = readdirSync(`${dir}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${dir}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = socketInode(link);
      const hit = inode === undefined ? undefined : inodes.get(inode);
      if (!hit) continue;
      const [s, proto, family] = hit;
      out.sockets.push({
        kind: 'sock_owner', hook: 'iter_task', bootNs: 0, cookie: 0, pid: stat.pid, tid: stat.pid, startNs, uid,
        comm: stat.comm, proto, family, passive: false, laddr: s.laddr, lport: s.lport, raddr: s.raddr, rport: s.rport,
        fd: Number(fd), bytesOut: 0, bytesIn: 0, segsOut: 0, segsIn: 0,
      });
    }
  }
  return out;
}

/** Builders of decoded records for pure tests (what the BPF side would deliver). */
import type { ExecRecord, ExitRecord, SockRecord } from '../../host/sources/bpf/decode.js';

export function exec(pid: number, startNs: number, path: string, argv: string[], over: Partial<ExecRecord> = {}): ExecRecord {
  return {
    kind: 'exec', hook: 'exec', bootNs: startNs, pid, tid: pid, ppid: 1, uid: 0, startNs, parentStartNs: 0,
    comm: path.split('/').pop()!.slice(0, 15), path, argv, truncated: false, pathTruncated: false, noMm: false, ...over,
  };
}

export function exit(pid: number, startNs: number, over: Partial<ExitRecord> = {}): ExitRecord {
  return { kind: 'exit', hook: 'exit', bootNs: startNs + 1, pid, tid: pid, startNs, exitCode: 0, ppid: 1, comm: 'x', ...over };
}

export function sock(kind: SockRecord['kind'], over: Partial<SockRecord>): SockRecord {
  return {
    kind, hook: 'tcp_connect', bootNs: 0, cookie: 1, pid: 100, tid: 100, startNs: 5e9, uid: 0, comm: 'curl', proto: 'tcp',
    family: 4, passive: kind === 'accept', laddr: '10.0.0.5', lport: 40000, raddr: '93.184.216.34', rport: 443, fd: 0,
    bytesOut: 0, bytesIn: 0, segsOut: 0, segsIn: 0, ...over,
  };
}

/**
 * `procflow trace`: streams exec, exit and socket events as they arrive, like
 * execsnoop/tcptracer. A root-only local diagnostic: it prints RAW argv unless
 * --redact is given. With --json, one object per line on stdout (schema in
 * docs/trace-events.schema.json); logs go to stderr.
 */
import type { Logger } from '../log.js';
import { readKernelInfo } from '../kernel/features.js';
import { createRedactor, redactArgv, redactionCounts, type Redactor } from '../redact/redactor.js';
import type { BpfRecord, SockRecord } from '../sources/bpf/decode.js';
import type { HookMode } from '../sources/bpf/hooks.js';
import { BpfCapture } from '../sources/bpf/loader.js';
import { startPump } from '../sources/bpf/pump.js';
import { rfc3339Micro } from './time.js';

/** Options of `procflow trace`. */
export interface TraceOptions {
  json: boolean;
  hooks: HookMode;
  /** Stop after this many ms (default: until SIGINT/SIGTERM). */
  durationMs?: number;
  redact: boolean;
  argsCap?: number;
  /** Where lines go (default stdout). */
  write?: (line: string) => void;
}

/** Socket line: saddr/sport is always the initiator's side. */
function sockLine(r: SockRecord, time: string): Record<string, unknown> {
  const localInitiated = !r.passive;
  return {
    type: r.kind,
    time,
    pid: r.pid,
    tid: r.tid,
    comm: r.comm,
    proto: r.proto,
    saddr: localInitiated ? r.laddr : r.raddr,
    sport: localInitiated ? r.lport : r.rport,
    daddr: localInitiated ? r.raddr : r.laddr,
    dport: localInitiated ? r.rport : r.lport,
    bytes_out: r.bytesOut,
    bytes_in: r.bytesIn,
    segs_out: r.segsOut,
    segs_in: r.segsIn,
    cookie: r.cookie,
  };
}

/** One trace line object for a record, or undefined for records trace does not print (`redactor` counts what --redact masks). */
export function traceLine(rec: BpfRecord, wallMs: number, redact: boolean, redactor?: Redactor): Record<string, unknown> | undefined {
  const time = rfc3339Micro(wallMs);
  switch (rec.kind) {
    case 'exec':
      return {
        type: 'exec', time, pid: rec.pid, tid: rec.tid, ppid: rec.ppid, uid: rec.uid, comm: rec.comm, path: rec.path,
        argv: redact ? redactArgv(rec.argv, redactor).argv : rec.argv, truncated: rec.truncated,
      };
    case 'exit':
      return { type: 'exit', time, pid: rec.pid, tid: rec.tid, comm: rec.comm, exit_code: rec.exitCode };
    case 'connect': case 'accept': case 'close': case 'udp_send': case 'udp_recv':
      return sockLine(rec, time);
    default:
      return undefined;
  }
}

function textOf(o: Record<string, unknown>): string {
  const t = String(o.type).padEnd(8);
  if (o.type === 'exec') return `${o.time} ${t} pid=${o.pid} ppid=${o.ppid} uid=${o.uid} ${o.path} ${JSON.stringify(o.argv)}${o.truncated ? ' (truncated)' : ''}`;
  if (o.type === 'exit') return `${o.time} ${t} pid=${o.pid} comm=${o.comm} code=${o.exit_code}`;
  if (o.type === 'stats' || o.type === 'ready') return `${o.time ?? ''} ${t} ${JSON.stringify(o.hooks)}${o.malformed ? ` malformed=${o.malformed}` : ''}${o.redactions ? ` redactions=${JSON.stringify(o.redactions)}` : ''}`;
  return `${o.time} ${t} pid=${o.pid} comm=${o.comm} ${o.proto} ${o.saddr}:${o.sport} -> ${o.daddr}:${o.dport} out=${o.bytes_out} in=${o.bytes_in}`;
}

/** The boot-clock now, for records that carry no event time of their own. */
function nowBootNs(capture: BpfCapture): number {
  return Date.now() * 1e6 - capture.bootToRealtimeNs;
}

/** Runs the trace until the duration ends or a signal arrives. Resolves with the exit code. */
export async function runTrace(opts: TraceOptions, log: Logger): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (o: Record<string, unknown>) => write(opts.json ? JSON.stringify(o) : textOf(o));
  const kernel = readKernelInfo();
  const redactor = opts.redact ? createRedactor() : undefined;
  const capture = BpfCapture.start({ hooks: opts.hooks, argsCap: opts.argsCap, ignoreTgid: kernel.hostPidNs ? process.pid : 0 }, log);
  try {
    capture.requireExec();
    const hooks: Record<string, string | null> = {};
    for (const h of capture.hooks) hooks[h.hook] = h.chosen ? h.attachTypes.join(',') : null;
    emit({ type: 'ready', hooks });
    // UDP reports are throttled per peer: remember what was printed so the final sweep adds only the tail.
    const udpPrinted = new Map<string, number>();
    const udpKey = (r: SockRecord) => `${r.cookie}/${r.kind}/${r.raddr}/${r.rport}`;
    const print = (rec: BpfRecord) => {
      const line = traceLine(rec, capture.wallMs(rec.bootNs), opts.redact, redactor);
      if (!line) return;
      if (rec.kind === 'udp_send' || rec.kind === 'udp_recv') udpPrinted.set(udpKey(rec), rec.segsOut + rec.segsIn);
      emit(line);
    };
    const pollAll = (max?: number) => capture.poll(print, max);
    await new Promise<void>((resolve) => {
      const pump = startPump(pollAll);
      const stop = () => {
        pump.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (opts.durationMs !== undefined) setTimeout(stop, opts.durationMs).unref();
    });
    while (pollAll() > 0);
    for (const r of capture.udpFlows()) {
      if ((udpPrinted.get(udpKey(r)) ?? -1) !== r.segsOut + r.segsIn) print({ ...r, bootNs: nowBootNs(capture) });
    }
    emit({ type: 'stats', time: rfc3339Micro(Date.now()), hooks: capture.counters(), malformed: capture.malformed, ...(redactor ? { redactions: redactionCounts(redactor) } : {}) });
    return 0;
  } finally {
    capture.close();
  }
}

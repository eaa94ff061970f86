/**
 * The flow table: one entry per connection (TCP: socket cookie; UDP: socket
 * and peer), fed by socket records. Counters in records are cumulative; the
 * table turns them into per-interval deltas at each flush.
 */
import type { SockRecord } from '../sources/bpf/decode.js';
import type { FlowTableOverflow } from '../config/settings.js';

/** Who owned a connection, as the kernel saw it. */
export interface ConnOwner {
  pid: number;
  /** ns since boot (0 when unknown). */
  startNs: number;
  comm: string;
  /** When this owner was seen with the connection (ns since boot, the record's time): picks the image it ran then, should it exec later. */
  atNs: number;
}

/** One connection's share of an interval. */
export interface ConnInterval {
  proto: 'tcp' | 'udp';
  /** `src`: the local end initiated (connect / first sent); `dst`: it accepted (or first received). */
  reporter: 'src' | 'dst';
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  started: boolean;
  completed: boolean;
  owner: ConnOwner;
}

/** Table counters. */
export interface FlowTableStats {
  size: number;
  /** New connections refused or evicted because the table was full. */
  overflowDropped: number;
  overflowEvicted: number;
}

interface Counters {
  bytesOut: number;
  bytesIn: number;
  segsOut: number;
  segsIn: number;
}

interface Conn {
  /** Socket cookie (TCP; a 5-tuple string when the kernel gave none) or socket/peer string (UDP). */
  key: number | string;
  proto: 'tcp' | 'udp';
  passive: boolean;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  owner: ConnOwner;
  /** Cumulative counters last seen, and at the previous flush. */
  now: Counters;
  base: Counters;
  started: boolean;
  closed: boolean;
  /** Had traffic, or was open, in the current interval. */
  lastActivityMs: number;
}

const ZERO: Counters = { bytesOut: 0, bytesIn: 0, segsOut: 0, segsIn: 0 };

/** Connection state between flushes. */
export class FlowTable {
  // Per event: TCP is keyed by the numeric cookie (no string built), UDP by socket and peer.
  private readonly tcp = new Map<number | string, Conn>();
  private readonly udp = new Map<string, Conn>();
  private readonly counters = { overflowDropped: 0, overflowEvicted: 0 };
  /** Local ports with a listening TCP socket, to tell accepted pre-existing connections apart. */
  private readonly listening = new Set<number>();

  constructor(private readonly maxEntries: number, private readonly overflow: FlowTableOverflow) {}

  /**
   * Applies one socket record (ring event, iterator or map sweep). `nowMs` is
   * wall-clock. `startup` marks records of the startup snapshot: connections
   * first seen there predate the agent and count bytes from now on.
   */
  apply(r: SockRecord, nowMs: number, startup = false): void {
    if (r.proto === 'udp') return this.applyUdp(r, nowMs);
    if (r.kind === 'sock_owner') {
      if (r.raddr === '0.0.0.0' || r.raddr === '::') {
        this.listening.add(r.lport);
        return;
      }
    }
    const key = r.cookie !== 0 ? r.cookie : `${r.laddr}:${r.lport}-${r.raddr}:${r.rport}`;
    let c = this.tcp.get(key);
    if (!c) {
      c = this.insert(this.tcp, key, r, nowMs, startup);
      if (!c) return;
    }
    if (r.pid !== 0 && r.pid !== c.owner.pid && (r.kind === 'connect' || r.kind === 'accept' || r.kind === 'sock_owner' || c.owner.pid === 0)) {
      c.owner = { pid: r.pid, startNs: r.startNs, comm: r.comm, atNs: r.bootNs };
    }
    if (r.kind === 'accept') c.passive = true;
    if (r.kind !== 'sock_owner' || r.bytesIn + r.bytesOut > 0) raise(c.now, r.bytesOut, r.bytesIn, r.segsOut, r.segsIn);
    if (r.kind === 'close') c.closed = true;
    c.lastActivityMs = nowMs;
  }

  private applyUdp(r: SockRecord, nowMs: number): void {
    if (r.kind === 'sock_owner') return; // UDP flows are per peer: they begin with traffic
    const key = `${r.cookie}/${r.raddr}/${r.rport}`;
    let c = this.udp.get(key);
    if (!c) {
      c = this.insert(this.udp, key, r, nowMs, false);
      if (!c) return;
      c.passive = r.kind === 'udp_recv'; // who spoke first initiated
    }
    if (r.pid !== 0 && (r.pid !== c.owner.pid || r.startNs !== c.owner.startNs)) c.owner = { pid: r.pid, startNs: r.startNs, comm: r.comm, atNs: r.bootNs };
    // The map keeps send and receive apart: each record carries one direction's cumulative counters.
    if (r.kind === 'udp_send') raise(c.now, r.bytesOut, 0, r.segsOut, 0);
    else raise(c.now, 0, r.bytesIn, 0, r.segsIn);
    c.lastActivityMs = nowMs;
  }

  private insert<K extends number | string>(map: Map<K, Conn>, key: K, r: SockRecord, nowMs: number, preexisting: boolean): Conn | undefined {
    if (this.tcp.size + this.udp.size >= this.maxEntries && !this.makeRoom()) {
      this.counters.overflowDropped++;
      return undefined;
    }
    const c: Conn = {
      key, proto: r.proto, passive: r.passive || (preexisting && this.listening.has(r.lport)),
      laddr: r.laddr, lport: r.lport, raddr: r.raddr, rport: r.rport,
      owner: { pid: r.pid, startNs: r.startNs, comm: r.comm, atNs: r.bootNs },
      now: { ...ZERO }, base: preexisting ? counters(r) : { ...ZERO }, started: !preexisting, closed: false, lastActivityMs: nowMs,
    };
    map.set(key, c);
    return c;
  }

  private makeRoom(): boolean {
    if (this.overflow === 'drop-new') return false;
    let victim: Conn | undefined;
    for (const map of [this.tcp, this.udp]) for (const c of map.values()) if (!victim || c.lastActivityMs < victim.lastActivityMs) victim = c;
    if (!victim) return false;
    this.mapOf(victim).delete(victim.key as never);
    this.counters.overflowEvicted++;
    return true;
  }

  /**
   * Ends the interval: returns every connection that was open or active in
   * it, with counter deltas since the previous flush, then forgets closed
   * TCP connections and UDP flows without traffic in the interval.
   */
  flush(intervalStartMs: number): ConnInterval[] {
    const out: ConnInterval[] = [];
    for (const c of [...this.tcp.values(), ...this.udp.values()]) {
      const d = {
        bytesOut: Math.max(0, c.now.bytesOut - c.base.bytesOut), bytesIn: Math.max(0, c.now.bytesIn - c.base.bytesIn),
        segsOut: Math.max(0, c.now.segsOut - c.base.segsOut), segsIn: Math.max(0, c.now.segsIn - c.base.segsIn),
      };
      const traffic = d.bytesIn + d.bytesOut + d.segsIn + d.segsOut > 0;
      const active = c.proto === 'tcp' ? true : traffic || c.started;
      if (active) {
        out.push({
          proto: c.proto, reporter: c.passive ? 'dst' : 'src', localAddr: c.laddr, localPort: c.lport, remoteAddr: c.raddr,
          remotePort: c.rport, bytesIn: d.bytesIn, bytesOut: d.bytesOut, packetsIn: d.segsIn, packetsOut: d.segsOut,
          started: c.started, completed: c.closed, owner: c.owner,
        });
      }
      c.base = { ...c.now };
      c.started = false;
      if (c.closed || (c.proto === 'udp' && !traffic && c.lastActivityMs < intervalStartMs)) this.mapOf(c).delete(c.key as never);
    }
    return out;
  }

  stats(): FlowTableStats {
    return { size: this.tcp.size + this.udp.size, ...this.counters };
  }

  private mapOf(c: Conn): Map<number | string, Conn> {
    return c.proto === 'tcp' ? this.tcp : (this.udp as Map<number | string, Conn>);
  }
}

/** Cumulative counters only move forward (records of one socket can arrive from several sources); in place: this is per event. */
function raise(c: Counters, bytesOut: number, bytesIn: number, segsOut: number, segsIn: number): void {
  if (bytesOut > c.bytesOut) c.bytesOut = bytesOut;
  if (bytesIn > c.bytesIn) c.bytesIn = bytesIn;
  if (segsOut > c.segsOut) c.segsOut = segsOut;
  if (segsIn > c.segsIn) c.segsIn = segsIn;
}

function counters(r: SockRecord): Counters {
  return { bytesOut: r.bytesOut, bytesIn: r.bytesIn, segsOut: r.segsOut, segsIn: r.segsIn };
}

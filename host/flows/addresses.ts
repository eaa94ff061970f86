/**
 * Address facts the flow log needs: is it this host's own (endpoint type
 * `hep`, loopback included) or another network's (`net`), and is it private
 * (`pvt`) or public (`pub`) when aggregation merges it away.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Dotted quad → 32-bit number, by characters (called per address per interval: no split/map). */
function v4ToInt(a: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

function inV4(a: string, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((v4ToInt(a) & mask) >>> 0) === ((v4ToInt(base) & mask) >>> 0);
}

const V4_PRIVATE: [string, number][] = [
  ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['0.0.0.0', 8],
];

/** True for loopback addresses (127.0.0.0/8, ::1). */
export function isLoopback(addr: string): boolean {
  return isIPv4(addr) ? inV4(addr, '127.0.0.0', 8) : addr === '::1';
}

/** True for private, loopback, link-local and unspecified addresses (RFC 1918, 6598, 4193, 4291). */
export function isPrivate(addr: string): boolean {
  if (isIPv4(addr)) return V4_PRIVATE.some(([base, bits]) => inV4(addr, base, bits));
  const a = addr.toLowerCase();
  return a === '::1' || a === '::' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a);
}

/** This host's own addresses (refreshed on demand: interfaces come and go). */
export class HostAddresses {
  private addrs = new Set<string>();
  private readAtMs = 0;

  constructor(private readonly refreshMs = 30_000, private readonly read = defaultRead) {}

  /** True when `addr` is one of this host's addresses, loopback included. */
  has(addr: string, nowMs = Date.now()): boolean {
    if (isLoopback(addr)) return true;
    if (nowMs - this.readAtMs > this.refreshMs) {
      this.addrs = new Set(this.read());
      this.readAtMs = nowMs;
    }
    return this.addrs.has(addr);
  }
}

function defaultRead(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.replace(/%.*$/, '')));
}

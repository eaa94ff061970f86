/**
 * Route matching: a route's `match` holds exact values, globs (`*`, `?`) and
 * CIDRs; a record matches when its tenant-key field's value hits any of them.
 * Also the static checks the config validator needs: whether two matches can
 * hit the same value (overlap) and whether a match hits everything.
 */
import { isIP } from 'node:net';

/** What a route matches on its key's value. */
export interface RouteMatch {
  /** Exact values (numbers compare by their decimal text, e.g. `"443"` for dest_port 443). */
  values?: string[];
  /** Shell-style globs: `*` any run of characters, `?` one character. */
  globs?: string[];
  /** IPv4 / IPv6 prefixes, e.g. `10.0.0.0/8`, `fd00::/8`; match IP-valued fields. */
  cidrs?: string[];
}

/** A parsed CIDR: address family, network bits as a bigint, prefix length. */
export interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

/** An IP address as a bigint (IPv4 in 32 bits, IPv6 in 128), or undefined when `s` is not one. */
export function ipBits(s: string): { family: 4 | 6; bits: bigint } | undefined {
  const fam = isIP(s);
  if (fam === 4) return { family: 4, bits: s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  if (fam !== 6) return undefined;
  let text = s.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipBits(v4[1]!)!.bits;
    text = `${text.slice(0, v4.index)}${(b >> 16n).toString(16)}:${(b & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { family: 6, bits: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** Parses `ADDR/PREFIX` (a bare address is a host prefix); undefined when malformed. Host bits are cleared. */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = ipBits(addr);
  if (!ip) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  const prefix = len === undefined ? width : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= width)) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family: ip.family, bits: ip.bits & mask, prefix };
}

function inCidr(c: Cidr, ip: { family: 4 | 6; bits: bigint }): boolean {
  if (c.family !== ip.family) return false;
  const width = c.family === 4 ? 32 : 128;
  return ip.bits >> BigInt(width - c.prefix) === c.bits >> BigInt(width - c.prefix);
}

/** Whether two prefixes share an address (one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const width = a.family === 4 ? 32 : 128;
  const p = BigInt(width - Math.min(a.prefix, b.prefix));
  return a.bits >> p === b.bits >> p;
}

/** A glob as an anchored regular expression. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${body}$`);
}

/** Whether some string matches both globs (decided over the two patterns, no enumeration). */
export function globsIntersect(p: string, q: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = i * (q.length + 1) + j;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === p.length && j === q.length) r = true;
    else if (i < p.length && p[i] === '*') r = go(i + 1, j) || (j < q.length && go(i, j + 1));
    else if (j < q.length && q[j] === '*') r = go(i, j + 1) || (i < p.length && go(i + 1, j));
    else r = i < p.length && j < q.length && (p[i] === q[j] || p[i] === '?' || q[j] === '?') && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

/** A compiled match: `test(value)` on the key field's value (as text). */
export class Matcher {
  private readonly values: Set<string>;
  private readonly globs: RegExp[];
  private readonly cidrs: Cidr[];

  constructor(readonly spec: RouteMatch) {
    this.values = new Set(spec.values ?? []);
    this.globs = (spec.globs ?? []).map(globRegExp);
    this.cidrs = (spec.cidrs ?? []).map((c) => parseCidr(c)!);
  }

  /** True when `value` hits a value, a glob or (for an IP) a CIDR. */
  test(value: string): boolean {
    if (this.values.has(value)) return true;
    for (const g of this.globs) if (g.test(value)) return true;
    if (this.cidrs.length > 0) {
      const ip = ipBits(value);
      if (ip) for (const c of this.cidrs) if (inCidr(c, ip)) return true;
    }
    return false;
  }

  /** True when every value matches: a `*` glob, or 0.0.0.0/0 together with ::/0 on an IP field. */
  matchesEverything(ipOnly: boolean): boolean {
    if ((this.spec.globs ?? []).some((g) => /^\*+$/.test(g))) return true;
    return ipOnly && this.cidrs.some((c) => c.family === 4 && c.prefix === 0) && this.cidrs.some((c) => c.family === 6 && c.prefix === 0);
  }

  /** A value both matches can hit, described for an error message; undefined when they are disjoint. */
  overlapWith(other: Matcher): string | undefined {
    for (const v of this.values) if (other.test(v)) return `both match ${JSON.stringify(v)}`;
    for (const v of other.values) if (this.test(v)) return `both match ${JSON.stringify(v)}`;
    for (const g of this.spec.globs ?? []) {
      for (const h of other.spec.globs ?? []) if (globsIntersect(g, h)) return `globs ${JSON.stringify(g)} and ${JSON.stringify(h)} can match the same value`;
      // A glob and a CIDR overlap when the glob can match an address of the prefix; a `*`-free check is enough in practice.
      for (const c of other.cidrs) if (globCanMatchIp(g, c)) return `glob ${JSON.stringify(g)} can match addresses of a CIDR of the other route`;
    }
    for (const h of other.spec.globs ?? []) for (const c of this.cidrs) if (globCanMatchIp(h, c)) return `glob ${JSON.stringify(h)} can match addresses of a CIDR of the other route`;
    for (const a of this.cidrs) for (const b of other.cidrs) if (cidrsOverlap(a, b)) return 'their CIDRs overlap';
    return undefined;
  }
}

/** Whether a glob can match some address of a prefix: the prefix's first address as text, or any glob that can match digits and dots/colons. */
function globCanMatchIp(glob: string, c: Cidr): boolean {
  const re = globRegExp(glob);
  const first = c.family === 4
    ? [24n, 16n, 8n, 0n].map((s) => String((c.bits >> s) & 0xffn)).join('.')
    : Array.from({ length: 8 }, (_, i) => ((c.bits >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
  // Conservative: a glob with `*` or `?` may match some address unless it has a character no address text has.
  if (re.test(first)) return true;
  return /[*?]/.test(glob) && /^[0-9a-fA-F.:*?]*$/.test(glob);
}

/** Route matching primitives: IP parsing, CIDRs, globs, overlap decisions. */
import { describe, expect, it } from 'vitest';
import { cidrsOverlap, globsIntersect, ipBits, Matcher, parseCidr } from '../../host/routing/match.js';

describe('addresses and prefixes', () => {
  it('parses IPv4, IPv6 (compressed, embedded IPv4, zone) into the same bits as their long forms', () => {
    expect(ipBits('10.1.2.3')).toEqual({ family: 4, bits: 0x0a010203n });
    expect(ipBits('::1')).toEqual({ family: 6, bits: 1n });
    expect(ipBits('fd00::17')!.bits).toBe(ipBits('fd00:0:0:0:0:0:0:17')!.bits);
    expect(ipBits('::ffff:10.0.0.1')!.bits).toBe(0xffff0a000001n);
    expect(ipBits('fe80::1%eth0')!.bits).toBe(ipBits('fe80::1')!.bits);
    expect(ipBits('db.internal')).toBeUndefined();
    expect(ipBits('-')).toBeUndefined();
  });

  it('CIDRs: host bits cleared, bad prefixes refused, overlap by containment only within a family', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ family: 4, bits: 0x0a000000n, prefix: 8 });
    expect(parseCidr('10.0.0.1')).toMatchObject({ prefix: 32 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/8/1', 'fd00::/129', 'x/8']) expect(parseCidr(bad), bad).toBeUndefined();
    expect(cidrsOverlap(parseCidr('10.0.0.0/8')!, parseCidr('10.255.0.0/16')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/16')!, parseCidr('10.1.0.0/16')!)).toBe(false);
    expect(cidrsOverlap(parseCidr('0.0.0.0/0')!, parseCidr('::/0')!)).toBe(false);
  });
});

describe('globs', () => {
  it('intersect when some string matches both', () => {
    expect(globsIntersect('a*', '*b')).toBe(true); // "ab"
    expect(globsIntersect('a*', 'b*')).toBe(false);
    expect(globsIntersect('team-?', 'team-ab')).toBe(false);
    expect(globsIntersect('team-?', 'team-*')).toBe(true);
    expect(globsIntersect('*x*y', '*y*x')).toBe(false); // one ends in y, the other in x
    expect(globsIntersect('*x*', '*y*')).toBe(true); // "xy"
    expect(globsIntersect('a?c', 'abd')).toBe(false);
  });
});

describe('Matcher', () => {
  it('hits exact values, globs (regex characters literal) and CIDRs of either family', () => {
    const m = new Matcher({ values: ['443'], globs: ['team.a-*'], cidrs: ['10.0.0.0/8', 'fd00::/8'] });
    for (const v of ['443', 'team.a-1', '10.9.9.9', 'fd12::1']) expect(m.test(v), v).toBe(true);
    for (const v of ['4430', 'teamXa-1', '11.0.0.1', 'fe80::1', '']) expect(m.test(v), v).toBe(false);
  });

  it('knows a catch-all, and says why two matches overlap', () => {
    expect(new Matcher({ globs: ['*'] }).matchesEverything(false)).toBe(true);
    expect(new Matcher({ cidrs: ['0.0.0.0/0'] }).matchesEverything(true)).toBe(false);
    expect(new Matcher({ cidrs: ['0.0.0.0/0', '::/0'] }).matchesEverything(true)).toBe(true);
    expect(new Matcher({ values: ['10.1.1.1'] }).overlapWith(new Matcher({ cidrs: ['10.0.0.0/8'] }))).toBe('both match "10.1.1.1"');
    expect(new Matcher({ globs: ['10.*'] }).overlapWith(new Matcher({ cidrs: ['10.0.0.0/8'] }))).toMatch(/glob "10\.\*" can match addresses/);
    expect(new Matcher({ globs: ['team-*'] }).overlapWith(new Matcher({ cidrs: ['10.0.0.0/8'] }))).toBeUndefined();
    expect(new Matcher({ values: ['a'] }).overlapWith(new Matcher({ values: ['b'], globs: ['c*'] }))).toBeUndefined();
  });
});

/** The decoder on hand-built records (fixtures), no kernel needed. */
import { describe, expect, it } from 'vitest';
import { decodeRecord, formatAddr, splitArgv } from '../../../host/sources/bpf/decode.js';
import { EventType, LAYOUT } from '../../../host/sources/bpf/layout.js';
import { decodeBytes } from '../../../host/sources/bpf/text.js';

function execRecord(path: string, argv: Buffer[], flags = 0): Buffer {
  const args = Buffer.concat(argv.flatMap((a) => [a, Buffer.from([0])]));
  const p = Buffer.from(path);
  const size = (LAYOUT.pf_exec.size + p.length + args.length + 7) & ~7;
  const b = Buffer.alloc(size);
  const f = LAYOUT.pf_exec.fields;
  b.writeUInt16LE(EventType.EXEC, 0);
  b.writeUInt16LE(0, 2);
  b.writeUInt32LE(size, 4);
  b.writeBigUInt64LE(123_456_789_012n, 8);
  b.writeUInt32LE(4242, f.pid[0]);
  b.writeUInt32LE(4243, f.tid[0]);
  b.writeUInt32LE(1, f.ppid[0]);
  b.writeUInt32LE(1000, f.uid[0]);
  b.writeBigUInt64LE(0x1_2345_6789n, f.start_ns[0]);
  b.writeUInt32LE(p.length, f.path_len[0]);
  b.writeUInt32LE(args.length, f.args_len[0]);
  b.writeUInt32LE(argv.length, f.argc[0]);
  b.writeUInt32LE(flags, f.flags[0]);
  b.write('curl', f.comm[0]);
  b.writeBigUInt64LE(0x1_0000_2a3bn, f.cgroup_id[0]);
  p.copy(b, LAYOUT.pf_exec.size);
  args.copy(b, LAYOUT.pf_exec.size + p.length);
  return b;
}

const dv = (b: Buffer) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('decodeRecord', () => {
  it('decodes an exec record with its path and argv tail', () => {
    const b = execRecord('/usr/bin/curl', [Buffer.from('curl'), Buffer.from(''), Buffer.from([0x61, 0xff, 0x62]), Buffer.from('é')], 1);
    const r = decodeRecord(dv(b), b, 0, b.length);
    expect(r).toMatchObject({
      kind: 'exec', hook: 'exec', pid: 4242, tid: 4243, ppid: 1, uid: 1000, comm: 'curl', path: '/usr/bin/curl',
      argv: ['curl', '', 'a\\xffb', 'é'], truncated: true, startNs: 0x1_2345_6789, bootNs: 123_456_789_012,
      cgroupId: 0x1_0000_2a3b,
    });
  });

  it('rejects a record whose tail overruns it', () => {
    const b = execRecord('/bin/x', [Buffer.from('x')]);
    b.writeUInt32LE(9999, LAYOUT.pf_exec.fields.args_len[0]);
    expect(decodeRecord(dv(b), b, 0, b.length)).toBeUndefined();
  });

  it('decodes a socket record with IPv6 and counters above 2^32', () => {
    const b = Buffer.alloc(LAYOUT.pf_sock.size);
    const f = LAYOUT.pf_sock.fields;
    b.writeUInt16LE(EventType.TCP_CLOSE, 0);
    b.writeUInt16LE(4, 2);
    b.writeUInt32LE(b.length, 4);
    b.writeBigUInt64LE(77n, f.cookie[0]);
    b.writeUInt32LE(99, f.pid[0]);
    b.writeUInt16LE(10, f.family[0]);
    b[f.proto[0]] = 6;
    b[f.dir[0]] = 1;
    b[f.laddr[0] + 15] = 1; // ::1
    Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]).copy(b, f.raddr[0]);
    b.writeUInt16LE(8080, f.lport[0]);
    b.writeUInt16LE(51000, f.rport[0]);
    b.writeBigUInt64LE(5_000_000_000n, f.bytes_out[0]);
    b.writeBigUInt64LE(37n, f.bytes_in[0]);
    const r = decodeRecord(dv(b), b, 0, b.length);
    expect(r).toMatchObject({
      kind: 'close', hook: 'tcp_close', cookie: 77, pid: 99, proto: 'tcp', family: 6, passive: true,
      laddr: '::1', raddr: '2001:db8::2', lport: 8080, rport: 51000, bytesOut: 5_000_000_000, bytesIn: 37,
    });
  });

  it('returns undefined for unknown types', () => {
    const b = Buffer.alloc(LAYOUT.pf_sock.size);
    b.writeUInt16LE(200, 0);
    expect(decodeRecord(dv(b), b, 0, b.length)).toBeUndefined();
  });
});

describe('formatAddr', () => {
  const v6 = (...bytes: number[]) => Uint8Array.from(bytes);
  it('writes IPv4-mapped IPv6 as plain IPv4', () => {
    expect(formatAddr(v6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1), 0, 6)).toBe('127.0.0.1');
  });
  it('compresses the longest zero run (RFC 5952)', () => {
    expect(formatAddr(v6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), 0, 6)).toBe('2001:db8:0:1::1');
    expect(formatAddr(new Uint8Array(16), 0, 6)).toBe('::');
    expect(formatAddr(v6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 6)).toBe('fe80::');
  });
  it('formats IPv4', () => {
    expect(formatAddr(v6(10, 1, 2, 3), 0, 4)).toBe('10.1.2.3');
  });
});

describe('text convention', () => {
  it('keeps valid UTF-8 and escapes every invalid byte as \\xNN', () => {
    const cases: [number[], string][] = [
      [[0x68, 0x69], 'hi'],
      [[0xc3, 0xa9], 'é'],
      [[0xff], '\\xff'],
      [[0xc3], '\\xc3'], // truncated sequence
      [[0xed, 0xa0, 0x80], '\\xed\\xa0\\x80'], // surrogate
      [[0xe2, 0x82, 0xac, 0x80, 0x41], '€\\x80A'],
      [[0xf0, 0x9f, 0x98, 0x80], '😀'],
    ];
    for (const [bytes, want] of cases) expect(decodeBytes(Uint8Array.from(bytes), 0, bytes.length)).toBe(want);
  });
  it('splits argv, keeping empty elements and an unterminated tail', () => {
    const u8 = Buffer.from('a\0\0b c\0tail');
    expect(splitArgv(u8, 0, u8.length)).toEqual(['a', '', 'b c', 'tail']);
    // An invalid lead byte just before a separator is escaped and the separator survives.
    const bad = Uint8Array.from([0x61, 0xc3, 0x00, 0xe2, 0x82, 0x00, 0x62, 0x00]);
    expect(splitArgv(bad, 0, bad.length)).toEqual(['a\\xc3', '\\xe2\\x82', 'b']);
    expect(splitArgv(bad, 0, 0)).toEqual([]);
  });
});

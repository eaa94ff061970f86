/** The host's MessagePack batch encoder decodes, with an independent decoder, to what JSON would carry. */
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { BatchEncoder } from '../../host/plugins/codec.js';
import { MsgpackWriter, shapeConstants } from '../../host/plugins/msgpack-writer.js';
import { flows } from './helpers.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const viaJson = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('MessagePack batch encoder', () => {
  it('round-trips records of several shapes, odd keys, nested maps, every number width, unicode and long strings', () => {
    const input: object[] = [
      ...flows(3),
      ...flows(2, (i) => ({ tcp_mean_mss: 1460 + i, source_labels: { app: 'web', 'k8s.io/name': 'ü' } })),
      { ...flows(1)[0], 'odd-key': 1, 'with space': 'x', n: -1, m: -200, big: 2 ** 40, neg: -(2 ** 33), f: 1.5, t: true, z: null, u: undefined },
      { ...flows(1)[0], process_args: [['ünïcödé ✓', 'x'.repeat(70_000), '']], dest_port: 65535, bytes_in: 4294967295, bytes_out: 4294967296 },
      { a: 1, b: [1, [2, { c: 'd' }]] },
    ];
    const back = unpackr.unpack(Buffer.from(new BatchEncoder().encode(input, 'msgpack')));
    expect(back).toEqual(viaJson(input));
  });

  it('writes every string with the smallest header (fixstr, str8, str16), ASCII or not, and values of a type its shape did not expect', () => {
    const lens = [0, 31, 32, 100, 255, 256, 70_000];
    const strs = lens.flatMap((n) => ['a'.repeat(n), n > 0 ? `${'a'.repeat(n - 1)}é` : 'é']);
    const enc = new BatchEncoder();
    for (const s of strs) {
      const bytes = enc.encode([s], 'msgpack');
      const n = Buffer.byteLength(s);
      const head = n < 32 ? [0xa0 | n] : n < 256 ? [0xd9, n] : n < 65536 ? [0xda, n >> 8, n & 0xff] : [0xdb, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
      expect([...bytes.subarray(1, 1 + head.length)]).toEqual(head);
      expect(unpackr.unpack(Buffer.from(bytes))).toEqual([s]);
    }
    // The shape's encoder was generated from a record with a string host and a numeric port: other types still encode.
    const odd = flows(3, (i) => (i === 2 ? ({ host: 7, dest_port: 'x', process_id: null }) as object : {}));
    expect(unpackr.unpack(Buffer.from(enc.encode(odd, 'msgpack')))).toEqual(viaJson(odd));
  });

  it('fields that stay the same record after record (written from pre-encoded segments) give the bytes each record has written key by key, whatever repeats, changes, goes missing, changes type or nests', () => {
    let seed = 11;
    const rnd = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % m;
    const pool = ['-', 'pvt', 'node-1', '', 'é', 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(2000)];
    const pick = () => [pool[rnd(pool.length)], rnd(3), 70000, null, true, 1.5, -7, undefined, NaN, -0, 2 ** 40][rnd(11)];
    const enc = new BatchEncoder();
    const keyByKey = (r: Record<string, unknown>) => {
      const w = new MsgpackWriter();
      w.mapGeneric(r); // the reference: no generated encoder, no segments
      return Buffer.from(w.take());
    };
    for (let batch = 0; batch < 20; batch++) {
      let prev = flows(1)[0] as unknown as Record<string, unknown>;
      const records: Record<string, unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        // Mostly the previous record's values (long runs of equal fields), some changed, some undefined, some of another type.
        const r: Record<string, unknown> = { ...prev, id: `b${batch}-${i}` };
        for (const k of ['host', 'action', 'source_name', 'dest_name', 'dest_port', 'bytes_in', 'policies', 'num_flows', 'process_id']) if (rnd(batch < 10 ? 4 : 40) === 0) r[k] = pick();
        if (rnd(5) === 0) r.dest_labels = { ...(flows(1)[0] as unknown as Record<string, unknown>), id: 'nested' }; // a record of the same shape inside one
        if (rnd(6) === 0) r.process_args = [['--x', String(rnd(9))]];
        records.push(r);
        prev = r;
      }
      const bytes = Buffer.from(enc.encode(records, 'msgpack'));
      const parts = records.map(keyByKey);
      expect(bytes.subarray(bytes.length - Buffer.concat(parts).length).equals(Buffer.concat(parts))).toBe(true);
      // What an independent decoder reads: the records (-0 is written as 0; NaN stays NaN, unlike in JSON).
      const plain = records.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Object.is(v, -0) ? 0 : v])));
      expect(unpackr.unpack(bytes)).toEqual(plain);
    }
  });

  it('learns its constants afresh now and then: a field that varied once is written from a segment again, with the same bytes', () => {
    const enc = new BatchEncoder();
    const keyByKey = (r: object) => {
      const w = new MsgpackWriter();
      w.mapGeneric(r as Record<string, unknown>);
      return Buffer.from(w.take());
    };
    // host varies in the first batch, then stays 'node-9' for longer than the relearning period (65536 records)
    // (a shape of its own, tcp_mean_mss added: what other tests taught the shared shape does not count here)
    const first = flows(50, (i) => ({ host: `node-${i}`, tcp_mean_mss: 1460 }));
    expect(Buffer.from(enc.encode(first, 'msgpack')).subarray(3).equals(Buffer.concat(first.map(keyByKey)))).toBe(true);
    // What varies per flow (ids, ports, counters, pids, host here) is written per record; placeholders are constants; lists never are.
    const consts = shapeConstants(first[0])!;
    expect(consts).toEqual(expect.arrayContaining(['action', 'proto', 'source_name', 'dest_port', 'policies', 'process_name']));
    for (const k of ['id', 'host', 'source_port', 'bytes_in', 'process_id', 'process_args']) expect(consts).not.toContain(k);
    // (new records each batch: the encoder copies the bytes of records it wrote in the batch before)
    for (let b = 0; b < 70; b++) enc.encode(flows(1000, () => ({ host: 'node-9', tcp_mean_mss: 1460 })), 'msgpack');
    expect(shapeConstants(first[0])).toContain('host');
    const last = flows(50, (i) => ({ host: i === 49 ? 'node-0' : 'node-9', dest_name: i % 2 ? 'a' : 'b', tcp_mean_mss: 1460 }));
    expect(Buffer.from(enc.encode(last, 'msgpack')).subarray(3).equals(Buffer.concat(last.map(keyByKey)))).toBe(true);
    expect(shapeConstants(first[0])).not.toContain('dest_name');
  });

  it('copies the bytes of flows a stage left unchanged and encodes the changed ones again', () => {
    const enc = new BatchEncoder();
    const first = flows(5);
    const a = enc.encode(first, 'msgpack');
    const second = first.map((f, i) => (i === 2 ? { ...f, process_args: [['--password=[REDACTED]']] } : f));
    const b = enc.encode(second, 'msgpack');
    expect(unpackr.unpack(Buffer.from(a))).toEqual(viaJson(first));
    expect(unpackr.unpack(Buffer.from(b))).toEqual(viaJson(second));
  });
});

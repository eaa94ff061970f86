/** The fast flows.log serializer gives the bytes of JSON.stringify(renderFlowLog(r)) whatever the record's shape. */
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { renderFlowLog, type FlowRecord } from '../../host/flows/record.js';
import { flowLogJson, flowLogObject } from '../../host/sinks/common/flow-log-json.js';
import { encodeFlowLogLine } from '../../host/sinks/file/encoder.js';
import { BulkEncoder } from '../../host/sinks/elasticsearch/encoder.js';
import { encodeEntry, encodeEntryInto, packr } from '../../host/sinks/fluent-forward/encoder.js';
import { flowRecord } from '../helpers/flow-records.js';

const golden = (r: FlowRecord) => JSON.stringify(renderFlowLog(r));

describe('flowLogJson', () => {
  it('matches render + stringify on pipeline records, shapes changing between calls', () => {
    const a = flowRecord(1, 'a');
    const b = { ...flowRecord(2, 'b'), tcp_mean_smooth_rtt: 1234, tcp_lost_packets: undefined } as FlowRecord;
    const { id, ...rest } = flowRecord(3, 'c');
    const c = { ...rest, id, extra_field_from_a_plugin: { nested: ['x', 'y"z'], 'weird "key"\u2028': 1 } } as unknown as FlowRecord;
    const d = { ...flowRecord(4, 'd'), source_labels: { app: 'web', 'k8s.io/name': 'x' }, policies: { all_policies: ['0|t|p|allow|0'], enforced_policies: [], pending_policies: [] }, process_args: [] } as FlowRecord;
    const e = { ...flowRecord(5, 'e'), host: 'tab\there "q" \\ \u0001 \ud800 lone, \u2028 ok, 😀', bytes_in: Number.NaN, bytes_out: -0, packets_in: Infinity, packets_out: 1.5e300, process_args: [['\u0007', 'é"'], []] } as FlowRecord;
    for (const r of [a, b, a, c, d, c, a, e]) expect(flowLogJson(r)).toBe(golden(r));
    expect(encodeFlowLogLine(d).toString()).toBe(`${golden(d)}\n`);
    expect(flowLogJson(a, ',"id":"x"')).toBe(`${golden(a).slice(0, -1)},"id":"x"}`);
    expect(flowLogObject(c)).toEqual({ ...JSON.parse(golden(c)), id: c.id });
  });

  it('_bulk items (written as bytes) are the action line and the same document bytes, across arena chunks', () => {
    const a = flowRecord(1, 'a');
    const { id, ...rest } = flowRecord(3, 'c');
    const c = { ...rest, id, extra_field_from_a_plugin: { nested: ['x', 'y"z'], 'weird "key"\u2028': 1 }, gone: undefined, fn: () => 1 } as unknown as FlowRecord;
    const e = { ...flowRecord(5, 'e'), id: 'e-"1"\u00e9', host: 'tab\there "q" \\ \u0001 \ud800 lone, \u2028 ok, 😀', bytes_in: Number.NaN, bytes_out: -0, packets_in: Infinity, packets_out: 1.5e300, num_flows: -3, num_flows_started: 2 ** 53 + 2, num_flows_completed: 0.1, process_args: [['\u0007', 'é"'], []] } as FlowRecord;
    const big = { ...a, id: 'big', host: 'h'.repeat(2_000_000) };
    const enc = new BulkEncoder('procflow-flows-%Y.%m.%d');
    const action = (r: FlowRecord) => `{"index":{"_index":"procflow-flows-2026.11.26","_id":${JSON.stringify(r.id)}}}\n`;
    const f = { ...flowRecord(6, 'f'), process_args: [['naïve-café-argument-long-enough-to-be-written-whole', 'ü', 'plain', 'x'.repeat(30)], [], ['', 'a b']] } as FlowRecord;
    for (let i = 0; i < 3000; i++) {
      const r = [a, c, e, f, { ...a, id: `r${i}` }][i % 5]!;
      expect(enc.encode(r).toString()).toBe(`${action(r)}${golden(r)}\n`);
    }
    expect(enc.encode(big).toString()).toBe(`${action(big)}${golden(big)}\n`);
  });
});

describe('fluent-forward entries (generated msgpack encoder)', () => {
  it('decode to what msgpackr packs for [end_time, flowLogObject(r)], whatever the shape, sizes and characters', () => {
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    const a = flowRecord(1, 'a');
    const big = { ...flowRecord(2, 'b'), host: 'h'.repeat(70_000), process_name: `/opt/${'é'.repeat(100)}/bin`, process_args: [['x'.repeat(300), 'ü😀'], [], ['a'.repeat(31), 'b'.repeat(32)]] } as FlowRecord;
    const nums = {
      ...flowRecord(3, 'c'), bytes_in: 2 ** 32 + 5, bytes_out: -1, packets_in: -33, packets_out: -129, num_flows: -40_000, num_flows_started: -(2 ** 31) - 1,
      num_flows_completed: 1.5, start_time: 255, end_time: 65_536, dest_port: 127, source_port: 128, extra: true, other: false, missing: undefined,
      source_labels: { app: 'web' }, policies: { all_policies: ['0|t|p|allow|0'] }, nan: Number.NaN, inf: -Infinity, negzero: -0,
    } as unknown as FlowRecord;
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) as unknown as FlowRecord;
    const wide = { ...many, id: 'w', end_time: 1, process_args: Array.from({ length: 17 }, (_, i) => [`arg${i}`]) } as FlowRecord;
    const expected = (r: FlowRecord) => unpackr.unpack(packr.pack([r.end_time, flowLogObject(r)]));
    for (const r of [a, big, a, nums, wide, a]) expect(unpackr.unpack(encodeEntry(r))).toEqual(expected(r));
    // Enough records to run through several arena chunks (each entry must stay intact).
    const entries = Array.from({ length: 3000 }, (_, i) => encodeEntry(i % 100 === 0 ? big : { ...a, id: `r${i}` }));
    entries.forEach((e, i) => expect(unpackr.unpack(e)).toEqual(expected(i % 100 === 0 ? big : { ...a, id: `r${i}` })));
  });
});

describe('encodeInto (items written straight into a spool frame)', () => {
  it('writes the bytes encode() returns, or -1 when END leaves too little room', () => {
    const bulk = new BulkEncoder('procflow-flows-%Y.%m.%d');
    const e = { ...flowRecord(5, 'e'), id: 'e-"1"\u00e9', host: 'tab "q" \u0001 😀', bytes_in: 2 ** 40, process_args: [['\u0007', 'é"'], [], ['x'.repeat(40)]] } as FlowRecord;
    const B = Buffer.alloc(1 << 16, 0xee);
    for (const [enc, into] of [
      [(r: FlowRecord) => bulk.encode(r), (r: FlowRecord, O: number, END: number) => bulk.encodeInto(r, B, O, END)],
      [encodeEntry, (r: FlowRecord, O: number, END: number) => encodeEntryInto(r, B, O, END)],
    ] as const) {
      for (const r of [flowRecord(1, 'a'), e, { ...flowRecord(2, 'b'), end_time: 1_795_800_000 }]) {
        const want = Buffer.from(enc(r));
        const end = into(r, 100, B.length);
        expect(end - 100).toBe(want.length);
        expect(B.subarray(100, end).equals(want)).toBe(true);
        expect(into(r, 100, 100 + want.length - 1)).toBe(-1);
      }
    }
  });
});

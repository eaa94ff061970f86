/** spliceRedaction on fixtures: byte-identical to re-encoding applyRedaction's flows; malformed outputs are left to the host's checks. */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { BatchEncoder, decodeBatch } from '../../host/plugins/codec.js';
import { applyRedaction } from '../../host/plugins/policy.js';
import { spliceRedaction } from '../../host/plugins/splice.js';
import { flow, flows } from './helpers.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const pack = (v: unknown) => new Uint8Array(packr.pack(v));

/** What the host would hand the next stage: its own encoding of applyRedaction's result. */
function viaHost(input: FlowRecord[], output: Uint8Array): Uint8Array {
  const enc = new BatchEncoder();
  enc.encode(input, 'msgpack'); // as the chain does: unchanged flows are copied from this batch
  return enc.encode(applyRedaction(input, decodeBatch(output, 'msgpack')), 'msgpack');
}

describe('spliceRedaction', () => {
  it('gives the bytes the host encodes for the redacted flows', () => {
    const long = 'x'.repeat(40);
    const longer = 'é'.repeat(200); // 400 bytes: str16
    const noPid = flow(5) as Partial<FlowRecord>;
    delete noPid.process_id;
    const input = [...flows(5), noPid as FlowRecord, flow(6, { source_ip: null, source_labels: { app: 'a', tier: 'b' } })];
    const output = pack([
      { id: 'flow-0' },
      { id: 'flow-1', process_name: '/bin/other' },
      { id: 'flow-2', process_args: [['--password=[REDACTED]', long], [longer, '']] },
      { id: 'flow-3', process_args: [], process_id: '77', process_name: '/x' },
      { id: 'flow-4', process_name: '/usr/bin/psql' }, // same value: re-written, same bytes
      { id: 'flow-5', process_id: '9' }, // absent in the flow: appended
      { id: 'flow-6', process_args: [Array.from({ length: 20 }, (_, i) => `a${i}`)] }, // array16
    ]);
    const enc = new BatchEncoder();
    const input8 = enc.encode(input, 'msgpack');
    const expected = Buffer.from(viaHost(input, output));
    const walked = spliceRedaction(input8, output);
    expect(Buffer.from(walked!.batch).equals(expected)).toBe(true);
    // With the encoder's flow offsets (unchanged flows copied without walking): the same bytes, and offsets that match them.
    const jumped = spliceRedaction(input8, output, undefined, enc.lastStarts());
    expect(Buffer.from(jumped!.batch).equals(expected)).toBe(true);
    expect([...jumped!.starts]).toEqual([...walked!.starts]);
    // Those offsets serve the next splice (a second redactor in the same run).
    const again = pack(input.map((f) => ({ id: f.id, process_id: '1' })));
    const second = spliceRedaction(jumped!.batch, again, undefined, jumped!.starts);
    const enc2 = new BatchEncoder();
    const redacted = applyRedaction(input, decodeBatch(output, 'msgpack'));
    enc2.encode(redacted, 'msgpack');
    expect(Buffer.from(second!.batch).equals(Buffer.from(enc2.encode(applyRedaction(redacted, decodeBatch(again, 'msgpack')), 'msgpack')))).toBe(true);
    // Offsets of another batch are not trusted.
    const wrong = spliceRedaction(input8, output, undefined, new Uint32Array(input.length + 1));
    expect(Buffer.from(wrong!.batch).equals(expected)).toBe(true);
  });

  it('a field appended to a 15-field flow grows its map header (fixmap → map16)', () => {
    const small = { id: 'f', process_name: '/bin/x', process_args: [['a']], ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])) } as unknown as FlowRecord;
    const input = [small, { ...small, id: 'g' }];
    const output = pack([{ id: 'f', process_id: '42' }, { id: 'g' }]);
    const enc = new BatchEncoder();
    const spliced = spliceRedaction(enc.encode(input, 'msgpack'), output, undefined, enc.lastStarts());
    expect(Buffer.from(spliced!.batch).equals(Buffer.from(viaHost(input, output)))).toBe(true);
    expect(decodeBatch(spliced!.batch, 'msgpack')).toEqual([{ ...small, process_id: '42' }, { ...small, id: 'g' }]);
  });

  it('an all-unchanged output gives the input bytes', () => {
    const input = flows(40);
    const enc = new BatchEncoder();
    const input8 = enc.encode(input, 'msgpack');
    const spliced = spliceRedaction(input8, pack(input.map((f) => ({ id: f.id }))), undefined, enc.lastStarts());
    expect(Buffer.from(spliced!.batch).equals(Buffer.from(input8))).toBe(true);
    expect([...spliced!.starts]).toEqual([...enc.lastStarts()!]);
  });

  const malformed: [string, unknown[]][] = [
    ['fewer entries', [{ id: 'flow-0' }]],
    ['another id', [{ id: 'flow-0' }, { id: 'flow-9' }]],
    ['no id', [{ id: 'flow-0' }, { process_name: '/x' }]],
    ['a non-process field', [{ id: 'flow-0' }, { id: 'flow-1', dest_port: 1 }]],
    ['a number as process_name', [{ id: 'flow-0' }, { id: 'flow-1', process_name: 5 }]],
    ['nil as process_id', [{ id: 'flow-0' }, { id: 'flow-1', process_id: null }]],
    ['a number among the arguments', [{ id: 'flow-0' }, { id: 'flow-1', process_args: [['a', 1]] }]],
    ['a string as process_args', [{ id: 'flow-0' }, { id: 'flow-1', process_args: 'a b' }]],
    ['an entry that is not a map', [{ id: 'flow-0' }, ['flow-1']]],
  ];
  for (const [what, out] of malformed) {
    it(`leaves ${what} to the host's checks, which reject it`, () => {
      const input = flows(2);
      const output = pack(out);
      expect(spliceRedaction(new BatchEncoder().encode(input, 'msgpack'), output)).toBeUndefined();
      expect(() => applyRedaction(input, decodeBatch(output, 'msgpack'))).toThrow();
    });
  }

  it('does not splice invalid UTF-8 or trailing bytes (the host path decides)', () => {
    const input = flows(1);
    const input8 = new BatchEncoder().encode(input, 'msgpack');
    // ["flow-0" map with process_name = 0xff 0xfe]
    const bad = pack([{ id: 'flow-0', process_name: 'ab' }]);
    const at = Buffer.from(bad).indexOf(Buffer.from('ab'));
    bad[at] = 0xff;
    bad[at + 1] = 0xfe;
    expect(spliceRedaction(input8, bad)).toBeUndefined();
    const trailing = new Uint8Array([...pack([{ id: 'flow-0' }]), 0xc0]);
    expect(spliceRedaction(input8, trailing)).toBeUndefined();
    expect(spliceRedaction(input8.subarray(0, input8.length - 3), pack([{ id: 'flow-0' }]))).toBeUndefined(); // truncated input
  });
});

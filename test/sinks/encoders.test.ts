/** The fast flows.log serializer gives the bytes of JSON.stringify(renderFlowLog(r)) whatever the record's shape. */
import { describe, expect, it } from 'vitest';
import { renderFlowLog, type FlowRecord } from '../../host/flows/record.js';
import { flowLogJson, flowLogObject } from '../../host/sinks/common/flow-log-json.js';
import { encodeFlowLogLine } from '../../host/sinks/file/encoder.js';
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
});

/**
 * HTTP bodies: NDJSON (one flows.log document plus its `id` per line) or
 * msgpack (an array of maps: a 0xdd array header, then the items as encoded).
 */
import { renderFlowLog, type FlowRecord } from '../../flows/record.js';
import { packr } from '../fluent-forward/encoder.js';

/** The document of a record: the flows.log fields and the record id. */
export function document(record: FlowRecord): Record<string, unknown> {
  return { ...renderFlowLog(record), id: record.id };
}

/** One NDJSON line. */
export function encodeNdjson(record: FlowRecord): Buffer {
  return Buffer.from(`${JSON.stringify(document(record))}\n`);
}

/** One msgpack map. */
export function encodeMsgpack(record: FlowRecord): Buffer {
  return packr.pack(document(record));
}

/** The body of a batch: items concatenated (NDJSON), or a msgpack array of them. */
export function body(format: 'ndjson' | 'msgpack', items: readonly Buffer[]): Buffer {
  if (format === 'ndjson') return Buffer.concat(items);
  const head = Buffer.alloc(5);
  head[0] = 0xdd;
  head.writeUInt32BE(items.length, 1);
  return Buffer.concat([head, ...items]);
}

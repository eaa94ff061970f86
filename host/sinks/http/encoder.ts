/**
 * HTTP bodies: NDJSON (one flows.log document plus its `id` per line) or
 * msgpack (an array of maps: a 0xdd array header, then the items as encoded).
 */
import type { FlowRecord } from '../../flows/record.js';
import { flowLogJson, flowLogObject } from '../common/flow-log-json.js';
import { itemMap, line } from '../common/items.js';
import { packr } from '../fluent-forward/encoder.js';

/** One NDJSON line: the flows.log document plus the record id. */
export function encodeNdjson(record: FlowRecord): Buffer {
  return Buffer.from(`${flowLogJson(record, `,"id":${JSON.stringify(record.id)}`)}\n`);
}

/** One msgpack map: the flows.log document plus the record id. */
export function encodeMsgpack(record: FlowRecord): Buffer {
  return packr.pack(flowLogObject(record));
}

/** A formatter's item: a line of the NDJSON body, or a msgpack map (decoded from a JSON object item, else `{message}`). */
export function frameItem(format: 'ndjson' | 'msgpack', item: Uint8Array, contentType: string): Buffer {
  return format === 'ndjson' ? line(item) : packr.pack(itemMap(item, contentType));
}

/** The body of a batch: items concatenated (NDJSON), or a msgpack array of them. */
export function body(format: 'ndjson' | 'msgpack', items: readonly Buffer[]): Buffer {
  if (format === 'ndjson') return Buffer.concat(items);
  const head = Buffer.alloc(5);
  head[0] = 0xdd;
  head.writeUInt32BE(items.length, 1);
  return Buffer.concat([head, ...items]);
}

/**
 * Forward protocol encoding with msgpackr. An item is one event entry,
 * `[time, record]` (time: the record's end_time, integer seconds; record: the
 * flows.log document plus its `id`); a batch is PackedForward
 * `[tag, bin(entries…), {size, chunk}]`, or CompressedPackedForward with the
 * entries gzipped and `compressed: "gzip"`.
 */
import { Packr } from 'msgpackr';
import { gzipSync } from 'node:zlib';
import type { FlowRecord } from '../../flows/record.js';
import { flowLogObject } from '../common/flow-log-json.js';
import { itemMap } from '../common/items.js';

/** Plain msgpack (maps, str, bin): no msgpackr record extension, which fluentd would not understand. */
export const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });

/** One event entry for a record. */
export function encodeEntry(record: FlowRecord): Buffer {
  return packr.pack([record.end_time, flowLogObject(record)]);
}

/** One event entry for a formatter's item: `[end_time, map]`, the map decoded from a JSON object item, else `{message: item}`. */
export function encodeItemEntry(record: FlowRecord, item: Uint8Array, contentType: string): Buffer {
  return packr.pack([record.end_time, itemMap(item, contentType)]);
}

/** A PackedForward (or CompressedPackedForward) message carrying `entries` with ack id `chunk`. */
export function packedForward(tag: string, entries: readonly Buffer[], chunk: string, compress: boolean): Buffer {
  const raw = Buffer.concat(entries);
  const option: Record<string, unknown> = { size: entries.length, chunk };
  if (compress) option.compressed = 'gzip';
  return packr.pack([tag, compress ? gzipSync(raw) : raw, option]);
}

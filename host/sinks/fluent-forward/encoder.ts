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
import { Arena } from '../common/arena.js';
import { flowLogEntry, writeFlowLogEntry } from '../common/flow-log-msgpack.js';
import { itemMap } from '../common/items.js';
import { itemsBody } from '../common/join.js';
import type { SinkItem } from '../sink.js';

/** Plain msgpack (maps, str, bin): no msgpackr record extension, which fluentd would not understand. */
export const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });

const arena = new Arena();

/** One event entry for a record: `[end_time, flowLogObject(record)]`, written by the fast encoder. */
export function encodeEntry(record: FlowRecord): Buffer {
  return flowLogEntry(record, arena, packr);
}

/** encodeEntry()'s bytes written at `O` of `B`, not past `END`: the offset after them, or -1 when they do not fit. */
export function encodeEntryInto(record: FlowRecord, B: Buffer, O: number, END: number): number {
  return writeFlowLogEntry(record, B, O, END, packr);
}

/** One event entry for a formatter's item: `[end_time, map]`, the map decoded from a JSON object item, else `{message: item}`. */
export function encodeItemEntry(record: FlowRecord, item: Uint8Array, contentType: string): Buffer {
  return packr.pack([record.end_time, itemMap(item, contentType)]);
}

/**
 * A PackedForward (or CompressedPackedForward) message carrying the entries `items` with ack id `chunk`,
 * as the parts to write back to back: the array and tag header, the entries (not copied when
 * they are contiguous), the option map.
 */
export function packedForward(tag: string, items: readonly SinkItem[], chunk: string, compress: boolean): Buffer[] {
  const joined = itemsBody(items);
  const raw = compress ? gzipSync(joined) : joined;
  const option: Record<string, unknown> = { size: items.length, chunk };
  if (compress) option.compressed = 'gzip';
  const tagBytes = packr.pack(tag);
  const head = Buffer.allocUnsafe(1 + tagBytes.length + 5);
  head[0] = 0x93; // fixarray of 3
  tagBytes.copy(head, 1);
  head[1 + tagBytes.length] = 0xc6; // bin 32
  head.writeUInt32BE(raw.length, 2 + tagBytes.length);
  return [head, raw, packr.pack(option)];
}

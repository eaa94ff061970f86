/**
 * The _bulk item of a record: an `index` action naming the date-suffixed
 * index and `_id` = the record id (a resend overwrites the same document
 * instead of duplicating it), then the flows.log document.
 *
 * The index date comes from the record's end_time, not from the send time, so
 * a record resent after midnight still lands in the same index.
 */
import type { FlowRecord } from '../../flows/record.js';
import { Arena } from '../common/arena.js';
import { flowLogJsonItem, writeFlowLogJsonItem } from '../common/flow-log-json-bytes.js';

const ACTION_END = new Uint8Array(Buffer.from('}}\n'));

/** Index name for a record ending at `endTime` (unix seconds): %Y, %m, %d from its UTC date. */
export function indexName(pattern: string, endTime: number): string {
  const d = new Date(endTime * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return pattern.replace(/%Y/g, String(d.getUTCFullYear())).replace(/%m/g, pad(d.getUTCMonth() + 1)).replace(/%d/g, pad(d.getUTCDate()));
}

/** Encodes records into _bulk items (action line + document line). */
export class BulkEncoder {
  private day = -1;
  private prefix = '';

  /** Items are views into shared chunks (no Buffer allocated per record). */
  private readonly arena = new Arena();

  private prefixBytes = new Uint8Array(0);

  constructor(private readonly pattern: string) {}

  encode(record: FlowRecord): Buffer {
    this.setDay(record);
    return flowLogJsonItem(record, this.arena, this.prefixBytes, record.id, ACTION_END);
  }

  /** encode()'s bytes written at `O` of `B`, not past `END`: the offset after them, or -1 when they do not fit. */
  encodeInto(record: FlowRecord, B: Buffer, O: number, END: number): number {
    this.setDay(record);
    return writeFlowLogJsonItem(record, B, O, END, this.prefixBytes, record.id, ACTION_END);
  }

  /** The action line for `record`, then `doc` (a formatter's JSON document) as the source. */
  frame(record: FlowRecord, doc: Uint8Array): Buffer {
    const action = this.action(record);
    const at = this.arena.reserve(action.length * 3 + doc.length + 1);
    let n = at.buf.write(action, at.off, 'utf8');
    at.buf.set(doc, at.off + n);
    n += doc.length;
    at.buf[at.off + n++] = 10;
    return this.arena.commit(n);
  }

  /** `{"index":{"_index":…,"_id":…}}` and its newline. */
  private action(record: FlowRecord): string {
    this.setDay(record);
    return `${this.prefix}${JSON.stringify(record.id)}}}\n`;
  }

  /** The action line up to `"_id":` for the record's day. */
  private setDay(record: FlowRecord): void {
    const day = Math.floor(record.end_time / 86_400);
    if (day === this.day) return;
    this.day = day;
    this.prefix = `{"index":{"_index":${JSON.stringify(indexName(this.pattern, record.end_time))},"_id":`;
    this.prefixBytes = new Uint8Array(Buffer.from(this.prefix, 'utf8'));
  }
}

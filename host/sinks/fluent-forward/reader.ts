/** Splits a byte stream into msgpack messages (a message may span several reads). */
import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Accumulates bytes and returns every complete message. */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    let consumed = 0;
    try {
      unpackr.unpackMultiple(this.buf, (value: unknown, _start?: number, end?: number) => {
        out.push(value);
        consumed = end ?? this.buf.length;
      });
      this.buf = Buffer.alloc(0);
    } catch (err) {
      if (!(err as { incomplete?: boolean }).incomplete) throw err;
      this.buf = this.buf.subarray(consumed);
    }
    return out;
  }
}

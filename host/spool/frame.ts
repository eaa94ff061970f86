/**
 * The spool's on-disk frames, appended to a segment file. An append writes
 * one batch frame holding many items (one crc for the batch):
 *
 *   u32 (body length | 0x80000000) (LE) | u32 crc32 of the body | body:
 *     u32 count | count × (u16 id length, u32 data length) | the ids (UTF-8), back to back | the data, back to back
 *
 * The data of a frame's items are contiguous, so a batch read from one frame
 * is handed to a sink as views into one buffer (a request body without copying).
 *
 * Spools written before batch frames hold single-item frames (no flag bit),
 * still read:
 *
 *   u32 length of what follows the crc (LE) | u32 crc32 of it | u16 id length | id (UTF-8) | data
 *
 * A frame cut short by a crash (a torn tail) fails the length or crc check
 * and ends the segment there.
 */
import { crc32 } from 'node:zlib';
import type { SinkItem } from '../sinks/sink.js';

/** Bytes before the body: length and crc. */
export const FRAME_HEADER = 8;
/** Set in the length word of a batch frame. */
const BATCH = 0x80000000;
/** Bytes per item in a batch frame's table: id length, data length. */
const ENTRY = 6;

/** Bytes of the frame header and body a frame starting at `off` declares (`buf` holds at least FRAME_HEADER bytes there). */
export function frameLength(buf: Buffer, off: number): number {
  return FRAME_HEADER + ((buf.readUInt32LE(off) & ~BATCH) >>> 0);
}

/** Bytes of the batch frame holding `items`. */
export function frameSize(items: readonly SinkItem[]): number {
  let bytes = FRAME_HEADER + 4 + items.length * ENTRY;
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!.id;
    bytes += (isAscii(id) ? id.length : Buffer.byteLength(id)) + items[i]!.data.length;
  }
  return bytes;
}

/** Encodes items into one batch frame, written into `into` (from its start) when it is large enough. */
export function encodeFrame(items: readonly SinkItem[], into?: Buffer): Buffer {
  const n = items.length;
  let dataBytes = 0;
  for (let i = 0; i < n; i++) dataBytes += items[i]!.data.length;
  const size = frameSize(items);
  const bodyLen = size - FRAME_HEADER;
  const idBytes = bodyLen - 4 - n * ENTRY - dataBytes;
  const out = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  out.writeUInt32LE((bodyLen | BATCH) >>> 0, 0);
  out.writeUInt32LE(n, FRAME_HEADER);
  let entry = FRAME_HEADER + 4;
  let idOff = entry + n * ENTRY;
  let dataOff = idOff + idBytes;
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    const idLen = out.write(it.id, idOff, 'utf8');
    out.writeUInt16LE(idLen, entry);
    out.writeUInt32LE(it.data.length, entry + 2);
    it.data.copy(out, dataOff);
    entry += ENTRY;
    idOff += idLen;
    dataOff += it.data.length;
  }
  out.writeUInt32LE(crc32(out.subarray(FRAME_HEADER)), 4);
  return out;
}

/**
 * The head of a batch frame — length and crc words, count, table and ids — for
 * the items `ids[from .. from + n)` whose data are `data`, back to back
 * (`lens[k]` bytes each). Written to the file followed by `data`, it is the
 * frame encodeFrame makes for the same items (the crc covers the data too):
 * items encoded straight into one buffer are spooled without a copy.
 * Written into `into` (from its start) when it is large enough.
 */
export function encodeFrameHead(ids: readonly { readonly id: string }[], from: number, n: number, lens: Uint32Array, data: Buffer, into?: Buffer): Buffer {
  let idBytes = 0;
  for (let i = from; i < from + n; i++) idBytes += idByteLength(ids[i]!.id);
  const size = FRAME_HEADER + 4 + n * ENTRY + idBytes;
  const out = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  out.writeUInt32LE(((size - FRAME_HEADER + data.length) | BATCH) >>> 0, 0);
  out.writeUInt32LE(n, FRAME_HEADER);
  let entry = FRAME_HEADER + 4;
  let idOff = entry + n * ENTRY;
  for (let k = 0; k < n; k++) {
    const idLen = out.write(ids[from + k]!.id, idOff, 'utf8');
    out.writeUInt16LE(idLen, entry);
    out.writeUInt32LE(lens[k]!, entry + 2);
    entry += ENTRY;
    idOff += idLen;
  }
  out.writeUInt32LE(crc32(data, crc32(out.subarray(FRAME_HEADER))), 4);
  return out;
}

/** Bytes of `id` as UTF-8. */
export function idByteLength(id: string): number {
  return isAscii(id) ? id.length : Buffer.byteLength(id);
}

/** Ids are mostly ASCII: their byte length is their length. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * An item of a decoded frame, made without decoding: its data is a view made
 * on first use (a request body is taken from the frame at once, see
 * itemsBody in sinks/common/join.ts) and its id is decoded on first use (dead
 * letters, logs). One object per record instead of an object, a string and a view.
 */
export class FrameItem implements SinkItem {
  private idText: string | undefined;
  private view: Buffer | undefined;

  constructor(
    /** The read buffer holding the frame. */
    readonly buf: Buffer,
    private readonly idOff: number,
    private readonly idLen: number,
    /** Where the item's data is in `buf`, and its length. */
    readonly dataOff: number,
    readonly dataLen: number,
  ) {}

  get id(): string {
    return (this.idText ??= this.buf.toString('utf8', this.idOff, this.idOff + this.idLen));
  }

  get data(): Buffer {
    return (this.view ??= this.buf.subarray(this.dataOff, this.dataOff + this.dataLen));
  }
}

/** The items of one decoded frame and where the next frame starts (relative to the buffer). */
export interface DecodedFrame {
  items: SinkItem[];
  next: number;
}

/**
 * Decodes the frame at `off` in `buf`: its items (FrameItem) refer to `buf` (no
 * copy; the caller gives each read its own buffer). Returns `undefined` when
 * the buffer ends inside the frame (read more), or `'corrupt'` when it fails
 * its checks. `verify` false skips the crc (frames this process wrote, or
 * already checked when the spool was recovered); the structure is always checked.
 */
export function decodeFrame(buf: Buffer, off: number, verify = true): DecodedFrame | undefined | 'corrupt' {
  if (buf.length - off < FRAME_HEADER) return undefined;
  const word = buf.readUInt32LE(off);
  const batch = (word & BATCH) !== 0;
  const bodyLen = (word & ~BATCH) >>> 0;
  if (bodyLen < (batch ? 4 : 2)) return 'corrupt';
  const body = off + FRAME_HEADER;
  const end = body + bodyLen;
  if (buf.length < end) return undefined;
  if (verify && crc32(buf.subarray(body, end)) !== buf.readUInt32LE(off + 4)) return 'corrupt';
  if (!batch) {
    const idLen = buf.readUInt16LE(body);
    if (2 + idLen > bodyLen) return 'corrupt';
    return { items: [{ id: buf.toString('utf8', body + 2, body + 2 + idLen), data: buf.subarray(body + 2 + idLen, end) }], next: end };
  }
  const n = buf.readUInt32LE(body);
  let entry = body + 4;
  let idOff = entry + n * ENTRY;
  if (idOff > end) return 'corrupt';
  let idBytes = 0;
  let dataBytes = 0;
  for (let i = 0, e = entry; i < n; i++, e += ENTRY) {
    idBytes += buf.readUInt16LE(e);
    dataBytes += buf.readUInt32LE(e + 2);
  }
  if (idOff + idBytes + dataBytes !== end) return 'corrupt';
  let dataOff = idOff + idBytes;
  const items = new Array<SinkItem>(n);
  for (let i = 0; i < n; i++) {
    const idLen = buf.readUInt16LE(entry);
    const dataLen = buf.readUInt32LE(entry + 2);
    items[i] = new FrameItem(buf, idOff, idLen, dataOff, dataLen);
    entry += ENTRY;
    idOff += idLen;
    dataOff += dataLen;
  }
  return { items, next: end };
}

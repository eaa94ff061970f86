/**
 * The spool's on-disk frame: one item per frame, appended to a segment file.
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

/** Encodes items into one buffer of consecutive frames. */
export function encodeFrames(items: readonly SinkItem[]): Buffer {
  let size = 0;
  const ids = items.map((it) => Buffer.from(it.id, 'utf8'));
  for (let i = 0; i < items.length; i++) size += FRAME_HEADER + 2 + ids[i]!.length + items[i]!.data.length;
  const out = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const id = ids[i]!;
    const data = items[i]!.data;
    const bodyLen = 2 + id.length + data.length;
    const body = off + FRAME_HEADER;
    out.writeUInt16LE(id.length, body);
    id.copy(out, body + 2);
    data.copy(out, body + 2 + id.length);
    out.writeUInt32LE(bodyLen, off);
    out.writeUInt32LE(crc32(out.subarray(body, body + bodyLen)), off + 4);
    off = body + bodyLen;
  }
  return out;
}

/** One decoded frame and where the next one starts (relative to the buffer). */
export interface DecodedFrame {
  item: SinkItem;
  next: number;
}

/**
 * Decodes the frame at `off` in `buf`. Returns `undefined` when the buffer
 * ends inside the frame (read more), or `'corrupt'` when it fails its check.
 */
export function decodeFrame(buf: Buffer, off: number): DecodedFrame | undefined | 'corrupt' {
  if (buf.length - off < FRAME_HEADER) return undefined;
  const bodyLen = buf.readUInt32LE(off);
  if (bodyLen < 2) return 'corrupt';
  const body = off + FRAME_HEADER;
  if (buf.length - body < bodyLen) return undefined;
  const bodyBuf = buf.subarray(body, body + bodyLen);
  if (crc32(bodyBuf) !== buf.readUInt32LE(off + 4)) return 'corrupt';
  const idLen = bodyBuf.readUInt16LE(0);
  if (2 + idLen > bodyLen) return 'corrupt';
  const id = bodyBuf.toString('utf8', 2, 2 + idLen);
  // A view into `buf` (no copy): the caller gives each read its own buffer.
  return { item: { id, data: bodyBuf.subarray(2 + idLen) }, next: body + bodyLen };
}

/**
 * Joins item bytes into one request body. Items read from one spool frame are
 * consecutive bytes of one buffer: those are joined without copying.
 */
import { FrameItem } from '../../spool/frame.js';
import type { SinkItem } from '../sink.js';

/**
 * The items' data back to back: for items read from the spool that follow
 * each other in one buffer (a batch from one frame), a view of it made from
 * their offsets (no view per item, no copy); else joinBytes of their data.
 */
export function itemsBody(items: readonly SinkItem[]): Buffer {
  const n = items.length;
  const first = items[0];
  if (first instanceof FrameItem) {
    let end = first.dataOff + first.dataLen;
    let i = 1;
    for (; i < n; i++) {
      const it = items[i]!;
      if (!(it instanceof FrameItem) || it.buf !== first.buf || it.dataOff !== end) break;
      end += it.dataLen;
    }
    if (i === n) return first.buf.subarray(first.dataOff, end);
  }
  const parts = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) parts[i] = items[i]!.data;
  return joinBytes(parts);
}

/** The bytes of `parts` back to back: a view when they are contiguous in one buffer, else a copy. */
export function joinBytes(parts: readonly Buffer[]): Buffer {
  const n = parts.length;
  if (n === 0) return Buffer.alloc(0);
  const first = parts[0]!;
  let end = first.byteOffset + first.length;
  let i = 1;
  for (; i < n; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) break;
    end += p.length;
  }
  if (i === n) return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
  return Buffer.concat(parts);
}

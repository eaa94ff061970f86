/** Request bodies from spooled items: one view of the frame when the items follow each other in one read buffer, else a copy. */
import { describe, expect, it } from 'vitest';
import { itemsBody } from '../../host/sinks/common/join.js';
import type { SinkItem } from '../../host/sinks/sink.js';
import { decodeFrame, encodeFrame, FrameItem } from '../../host/spool/frame.js';

const input: SinkItem[] = Array.from({ length: 20 }, (_, k) => ({ id: k === 3 ? 'ü-3' : `id-${k}`, data: Buffer.from(`item ${k} ${'x'.repeat(k)}\n`) }));

describe('itemsBody', () => {
  it('takes a batch of one frame as one view of the read buffer, and copies anything else', () => {
    const frame = encodeFrame(input);
    const buf = Buffer.alloc(3 + frame.length); // its own memory (not Node's shared pool, where a copy could land too)
    frame.copy(buf, 3);
    const fr = decodeFrame(buf, 3);
    if (fr === undefined || fr === 'corrupt') throw new Error('frame not decoded');
    expect(fr.items[0]).toBeInstanceOf(FrameItem);
    expect(fr.items.map((i) => i.id)).toEqual(input.map((i) => i.id));
    const all = itemsBody(fr.items);
    expect(all.equals(Buffer.concat(input.map((i) => i.data)))).toBe(true);
    expect(all.buffer).toBe(buf.buffer); // a view, not a copy
    const some = itemsBody(fr.items.slice(5, 9));
    expect(some.buffer).toBe(buf.buffer);
    expect(some.equals(Buffer.concat(input.slice(5, 9).map((i) => i.data)))).toBe(true);
    const gaps = [fr.items[1]!, fr.items[4]!, fr.items[2]!]; // a retry subset: not contiguous
    const copied = itemsBody(gaps);
    expect(copied.equals(Buffer.concat(gaps.map((i) => i.data)))).toBe(true);
    expect(copied.buffer).not.toBe(buf.buffer);
    expect(itemsBody(input.slice(0, 3)).equals(Buffer.concat(input.slice(0, 3).map((i) => i.data)))).toBe(true); // plain items
    expect(itemsBody([]).length).toBe(0);
  });
});

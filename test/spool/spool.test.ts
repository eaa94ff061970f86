/** The disk spool: order, confirmation, recovery after a crash, torn tails, the byte bound and its two policies, private files. */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SinkItem } from '../../host/sinks/sink.js';
import { encodeFrame, encodeFrameHead } from '../../host/spool/frame.js';
import { DiskSpool, type ItemWriter, type SpoolOptions } from '../../host/spool/spool.js';

const items = (n: number, from = 0, size = 100): SinkItem[] => Array.from({ length: n }, (_, k) => ({ id: `id-${from + k}`, data: Buffer.alloc(size, 97 + ((from + k) % 26)) }));
const dir = () => join(mkdtempSync(join(tmpdir(), 'procflow-spool-')), 'spool');
const open = (o: Partial<SpoolOptions> & { dir: string }) => DiskSpool.open({ maxBytes: 1 << 20, whenFull: 'block', fsync: false, ...o });

/** Items as plain {id, data} (read items are FrameItems: id and data are getters). */
const plain = (xs: readonly SinkItem[]): SinkItem[] => xs.map((i) => ({ id: i.id, data: i.data }));

/** Reads and confirms everything; returns the ids in order. */
function drain(s: DiskSpool, ack = true): string[] {
  const out: string[] = [];
  for (let b = s.read(7, 1 << 20); b; b = s.read(7, 1 << 20)) {
    out.push(...b.items.map((i) => i.id));
    if (ack) s.ack(b);
  }
  return out;
}

describe('DiskSpool', () => {
  it('returns items in order with their ids and bytes, and forgets them once confirmed', async () => {
    const s = open({ dir: dir(), segmentBytes: 1000 });
    const input = items(50);
    await s.append(input);
    expect(s.pendingItems).toBe(50);
    const b = s.read(10, 1 << 20)!;
    expect(plain(b.items)).toEqual(input.slice(0, b.items.length));
    s.ack(b);
    expect(drain(s)).toEqual(input.slice(b.items.length).map((i) => i.id));
    expect(s.pendingItems).toBe(0);
    s.close();
  });

  it('after a crash (no close) resends everything not confirmed, and nothing that was', async () => {
    const d = dir();
    const s = open({ dir: d, segmentBytes: 2000 });
    await s.append(items(100));
    const first = s.read(30, 1 << 20)!;
    s.ack(first);
    s.read(30, 1 << 20); // read, sent, never confirmed: the crash comes first
    rmSync(join(d, 'lock')); // what the next start finds once the crashed process is gone (its pid is dead)
    const again = open({ dir: d, segmentBytes: 2000 });
    expect(again.recovery.items).toBe(100 - first.items.length);
    expect(drain(again)).toEqual(items(100).slice(first.items.length).map((i) => i.id));
    again.close();
  });

  it('confirms part of a frame: a crash resends exactly the items after the last confirmed one, and batches keep to maxItems and maxBytes', async () => {
    const d = dir();
    const s = open({ dir: d, segmentBytes: 1 << 20 });
    await s.append(items(100)); // one frame
    const sizes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const b = s.read(7, 250)!; // 100-byte items: two fit in 250 bytes
      sizes.push(b.items.length);
      s.ack(b);
    }
    expect(sizes).toEqual([2, 2, 2]);
    const b = s.read(17, 1 << 20)!;
    expect(b.items.map((i) => i.id)).toEqual(items(17, 6).map((i) => i.id));
    s.ack(b);
    s.read(10, 1 << 20); // sent, never confirmed
    s.close(); // writes the cursor: 23 confirmed, inside the frame
    const again = open({ dir: d, segmentBytes: 1 << 20 });
    expect(again.recovery.items).toBe(77);
    const rest = again.read(1000, 1 << 20)!;
    expect(plain(rest.items)).toEqual(items(77, 23));
    again.ack(rest);
    expect(again.pendingItems).toBe(0);
    again.close();
  });

  it('reads across many frames of one segment, batches starting and ending inside frames', async () => {
    const s = open({ dir: dir(), segmentBytes: 1 << 20 });
    for (let k = 0; k < 20; k++) await s.append(items(5, k * 5));
    const got: SinkItem[] = [];
    for (let b = s.read(7, 1 << 20); b; b = s.read(7, 1 << 20)) {
      got.push(...plain(b.items));
      s.ack(b);
    }
    expect(got).toEqual(items(100));
    expect(s.pendingItems).toBe(0);
    s.close();
  });

  it('reuses a read buffer once its batches are confirmed, without touching items of batches not confirmed yet', async () => {
    const s = open({ dir: dir(), maxBytes: 64 << 20, segmentBytes: 16 << 20 });
    for (let k = 0; k < 4; k++) await s.append(items(100, k * 100, 1000)); // frames of ~100 KB
    const seen: string[] = [];
    let reused = false;
    const buffers = new Set<ArrayBufferLike>();
    for (let b = s.read(100, 1 << 20); b; b = s.read(100, 1 << 20)) {
      expect(plain(b.items)).toEqual(items(b.items.length, seen.length, 1000)); // intact before confirming
      for (const it of b.items) {
        reused ||= buffers.has(it.data.buffer);
        buffers.add(it.data.buffer);
      }
      seen.push(...b.items.map((i) => i.id));
      s.ack(b);
    }
    expect(seen).toEqual(items(400, 0, 1).map((i) => i.id));
    expect(reused).toBe(true);
    s.close();
  });

  it('reads frames of growing sizes with a couple of read buffers, not one new buffer per read', async () => {
    const s = open({ dir: dir(), maxBytes: 256 << 20, segmentBytes: 64 << 20 });
    const buffers = new Set<ArrayBufferLike>();
    let n = 0;
    for (let k = 0; k < 40; k++) {
      await s.append(items(100, k * 100, 900 + 5 * k)); // each frame a little larger than the one before, read as it comes (as a sink does)
      for (let b = s.read(100, 8 << 20); b; b = s.read(100, 8 << 20)) {
        b.items.forEach((it, i) => expect(it.data.equals(items(1, n + i, 900 + 5 * Math.floor((n + i) / 100))[0]!.data)).toBe(true));
        for (const it of b.items) buffers.add(it.data.buffer);
        n += b.items.length;
        s.ack(b);
      }
    }
    expect(n).toBe(4000);
    expect(buffers.size).toBeLessThanOrEqual(4);
    s.close();
  });

  it('reads spools written with single-item frames (before batch frames) and their cursor', async () => {
    const d = dir();
    const s = open({ dir: d });
    s.close();
    const old = (it: SinkItem) => {
      const id = Buffer.from(it.id);
      const body = Buffer.concat([Buffer.from([id.length & 0xff, id.length >> 8]), id, it.data]);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(body.length, 0);
      head.writeUInt32LE(crc32(body), 4);
      return Buffer.concat([head, body]);
    };
    const frames = items(10).map(old);
    writeFileSync(join(d, '0000000000000005.seg'), Buffer.concat(frames), { mode: 0o600 });
    writeFileSync(join(d, 'cursor.json'), JSON.stringify({ seq: 5, offset: frames[0]!.length + frames[1]!.length }), { mode: 0o600 });
    const again = open({ dir: d });
    expect(again.recovery.items).toBe(8);
    expect(plain(again.read(100, 1 << 20)!.items)).toEqual(items(8, 2));
    again.close();
  });

  it('cuts a torn tail (a frame half-written when the process died) and keeps the frames before it', async () => {
    const d = dir();
    const s = open({ dir: d });
    await s.append(items(5));
    s.close();
    const seg = readdirSync(d).find((f) => f.endsWith('.seg'))!;
    appendFileSync(join(d, seg), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const again = open({ dir: d });
    expect(again.recovery).toEqual({ items: 5, tornBytes: 7 });
    expect(drain(again)).toEqual(items(5).map((i) => i.id));
    again.close();
  });

  it('block: append waits while the spool is full and resumes once records are confirmed', async () => {
    const s = open({ dir: dir(), maxBytes: 4096, segmentBytes: 1024 });
    await s.append(items(30)); // ~3.5 KB
    let done = false;
    const p = s.append(items(10, 30)).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(drain(s)).toEqual(items(30).map((i) => i.id));
    await p;
    expect(s.pendingItems).toBe(10);
    expect(drain(s)).toEqual(items(10, 30).map((i) => i.id));
    expect(s.droppedItems).toBe(0);
    s.close();
  });

  it('drop-oldest: never blocks, drops the oldest segment and counts every record dropped', async () => {
    const s = open({ dir: dir(), maxBytes: 4096, segmentBytes: 1024, whenFull: 'drop-oldest' });
    await s.append(items(200));
    const kept = drain(s);
    expect(s.droppedItems + kept.length).toBe(200);
    expect(s.droppedItems).toBeGreaterThan(0);
    expect(kept).toEqual(items(200).slice(s.droppedItems).map((i) => i.id));
    expect(s.diskBytes).toBeLessThanOrEqual(4096);
    s.close();
  });

  it('is used by one process at a time; a lock left by a dead process is taken over', async () => {
    const d = dir();
    const s = open({ dir: d });
    expect(() => open({ dir: d })).toThrow(/PROCFLOW|in use by process \d+/);
    s.close();
    writeFileSync(join(d, 'lock'), '2147483646'); // no such pid
    const again = open({ dir: d });
    expect(readFileSync(join(d, 'lock'), 'utf8')).toBe(String(process.pid));
    again.close();
  });

  it('keeps its files private: directory 0700, segments and cursor 0600', async () => {
    const d = dir();
    const s = open({ dir: d });
    await s.append(items(3));
    drain(s);
    await s.append(items(3, 3));
    expect(statSync(d).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(d)) expect(statSync(join(d, f)).mode & 0o777, f).toBe(0o600);
    s.close();
  });

  describe('appendEncoded (items encoded straight into the frame)', () => {
    /** Writes each item's data (as a record would be encoded); -1 when it does not fit, like the generated encoders. */
    const writer: ItemWriter<SinkItem> = (it, B, O, END) => (O + it.data.length > END ? -1 : O + it.data.copy(B, O));
    const mixed = (n: number): SinkItem[] => Array.from({ length: n }, (_, k) => ({ id: k % 7 === 0 ? `é-${k}-ü` : `id-${k}`, data: Buffer.alloc(1 + ((k * 37) % 300), 97 + (k % 26)) }));

    it('a frame head followed by the data is byte for byte the frame encodeFrame makes (crc included)', () => {
      const input = mixed(50);
      const data = Buffer.concat(input.map((i) => i.data));
      const head = encodeFrameHead(input, 0, input.length, Uint32Array.from(input.map((i) => i.data.length)), data);
      expect(Buffer.concat([head, data])).toEqual(encodeFrame(input));
      const part = input.slice(10, 30);
      const partData = Buffer.concat(part.map((i) => i.data));
      expect(Buffer.concat([encodeFrameHead(input, 10, 20, Uint32Array.from(part.map((i) => i.data.length)), partData, Buffer.alloc(1 << 16)), partData])).toEqual(encodeFrame(part));
    });

    it('stores what append() stores: same frames on disk, split per segment, items larger than its buffer; a restart reads and checks them', async () => {
      const input = [...mixed(200), { id: 'huge', data: Buffer.alloc(3 << 20, 120) }, ...mixed(20)];
      const [d1, d2] = [dir(), dir()];
      const a = open({ dir: d1, maxBytes: 64 << 20, segmentBytes: 8192 });
      const b = open({ dir: d2, maxBytes: 64 << 20, segmentBytes: 8192 });
      await a.append(input);
      await b.appendEncoded(input, writer);
      expect(b.pendingItems).toBe(input.length);
      const segs = (d: string) => readdirSync(d).filter((f) => f.endsWith('.seg')).sort();
      expect(segs(d2).length).toBeGreaterThan(3);
      expect(segs(d2)).toEqual(segs(d1));
      for (const f of segs(d1)) expect(readFileSync(join(d2, f)).equals(readFileSync(join(d1, f))), f).toBe(true);
      const first = b.read(15, 1 << 30)!;
      expect(first.items.map((i) => i.id)).toEqual(input.slice(0, 15).map((i) => i.id));
      first.items.forEach((it, k) => expect(it.data.equals(input[k]!.data)).toBe(true));
      b.ack(first);
      a.close();
      rmSync(join(d2, 'lock')); // a crash: recovery checks every frame's crc
      const again = open({ dir: d2, maxBytes: 64 << 20, segmentBytes: 8192 });
      expect(again.recovery).toEqual({ items: input.length - 15, tornBytes: 0 });
      const got: SinkItem[] = [];
      for (let x = again.read(33, 1 << 30); x; x = again.read(33, 1 << 30)) {
        got.push(...x.items.map((i) => ({ id: i.id, data: Buffer.from(i.data) })));
        again.ack(x);
      }
      expect(got.map((i) => i.id)).toEqual(input.slice(15).map((i) => i.id));
      got.forEach((it, k) => expect(it.data.equals(input[15 + k]!.data), it.id).toBe(true)); // Buffer#equals: a deep compare of 3 MiB is slow
      again.close();
    });

    it('block: waits while full without its frame being overwritten by other appends meanwhile; drop-oldest counts', async () => {
      const s = open({ dir: dir(), maxBytes: 4096, segmentBytes: 1024 });
      await s.appendEncoded(items(30), writer); // ~3.5 KB
      let done = false;
      const p = s.appendEncoded(items(10, 30), writer).then(() => (done = true));
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false);
      const q = s.appendEncoded(items(10, 40, 50), writer); // reuses the spool's buffers while the first one waits
      const out: SinkItem[] = [];
      for (let n = 0; n < 50;) {
        const b = s.read(7, 1 << 20);
        if (!b) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        out.push(...b.items.map((i) => ({ id: i.id, data: Buffer.from(i.data) })));
        n += b.items.length;
        s.ack(b);
      }
      await Promise.all([p, q]);
      const byId = new Map(out.map((i) => [i.id, i.data]));
      for (const it of [...items(30), ...items(10, 30), ...items(10, 40, 50)]) expect(byId.get(it.id), it.id).toEqual(it.data);
      expect(out.slice(0, 30).map((i) => i.id)).toEqual(items(30).map((i) => i.id));
      s.close();
      await expect(s.appendEncoded(items(1), writer)).rejects.toThrow(/PROCFLOW_E_SPOOL_CLOSED|closed/);

      const dropping = open({ dir: dir(), maxBytes: 4096, segmentBytes: 1024, whenFull: 'drop-oldest' });
      await dropping.appendEncoded(items(200), writer);
      const kept = drain(dropping);
      expect(dropping.droppedItems).toBeGreaterThan(0);
      expect(kept).toEqual(items(200).slice(dropping.droppedItems).map((i) => i.id));
      dropping.close();
    });
  });
});

/**
 * The disk spool between the pipeline and a network sink: every record is on
 * disk before the pipeline moves on, and leaves the spool only once the
 * destination confirmed it (or refused it for good: dead letter). A crash
 * (kill -9) loses nothing: the next start resends from the last confirmed
 * position, so delivery is at-least-once.
 *
 * Layout of its directory (0700, files 0600): `lock` (the owning pid), segment files
 * `0000000000000001.seg` … holding frames (frame.ts, one per append of up to a
 * segment's worth of items), and `cursor.json`, the confirmed position (segment,
 * offset of a frame, items of that frame confirmed), replaced atomically (write + rename)
 * at most every 200 ms, at close and whenever a segment is deleted.
 * Segments entirely confirmed are deleted. The spool is bounded in bytes on
 * disk; when full, `block` makes append() wait for room (backpressure) and
 * `drop-oldest` deletes the oldest segment, counting the records it held.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import type { SinkItem } from '../sinks/sink.js';
import { decodeFrame, encodeFrame, encodeFrameHead, frameLength, frameSize, idByteLength, type DecodedFrame } from './frame.js';

/** The frame of an append is encoded into a reused buffer up to this size (written synchronously, then free again). */
const SCRATCH_MAX = 32 << 20;

/** Encodes one record's item at `O` of `B`, not past `END`: returns the offset after it, or -1 when it does not fit (nothing else). */
export type ItemWriter<R> = (record: R, B: Buffer, O: number, END: number) => number;

/** What a full spool does with new records. */
export type SpoolFullPolicy = 'block' | 'drop-oldest';

/** How a spool is opened. */
export interface SpoolOptions {
  /** Directory of this sink's spool (created 0700). */
  dir: string;
  /** Bound on the bytes the spool holds on disk. */
  maxBytes: number;
  /** `block` (wait for room) or `drop-oldest` (delete the oldest segment, counted). */
  whenFull: SpoolFullPolicy;
  /** Size at which a new segment file is started (default: maxBytes / 8, 4 KiB – 16 MiB). */
  segmentBytes?: number;
  /** fdatasync after each append (default true): records survive a power loss, not only a crash. */
  fsync?: boolean;
}

/**
 * A batch read from the spool: confirm it with ack() once delivered. Never spans two segments.
 * Its items' data are views into the spool's read buffers, valid until the batch is confirmed
 * (the spool reuses those buffers for later reads).
 */
export interface SpoolBatch {
  readonly items: SinkItem[];
  readonly seq: number;
  /** Where the batch ends: a frame's offset and the items of that frame it took (0 at a frame boundary). */
  readonly end: number;
  readonly endIndex: number;
  /** Read buffers whose every item is in this batch or an earlier one: reused once it is confirmed. */
  readonly done?: Buffer[];
}

interface Segment {
  seq: number;
  path: string;
  size: number;
  items: number;
  /** Items already confirmed (head segment only), and the position after them: a frame's offset and the items of that frame confirmed. */
  acked: number;
  ackedOffset: number;
  ackedIndex: number;
}

/** What recovery found when the spool was opened. */
export interface SpoolRecovery {
  /** Records waiting from a previous run. */
  items: number;
  /** Bytes cut from torn tails (a frame half-written when the process died). */
  tornBytes: number;
}

/** A frame decoded ahead of the read position: where it is and the read buffer its items are views into. */
type AheadFrame = DecodedFrame & { off: number; seq: number; buf: Buffer };

const SEG_RE = /^(\d{16})\.seg$/;
/** The confirmed position is written at most this often (and whenever a segment is deleted, and at close): a crash resends at most this much again. */
const CURSOR_EVERY_MS = 200;
const segName = (seq: number) => `${String(seq).padStart(16, '0')}.seg`;

/** A per-sink disk spool (see the module comment). */
export class DiskSpool {
  private readonly segs: Segment[] = [];
  private wfd = -1;
  private rfd = -1;
  private rfdSeq = -1;
  private readSeq = 0;
  private readOff = 0;
  /** Items of the frame at readOff already read. */
  private readIdx = 0;
  /** Frames decoded ahead of the read position, in order (segment readSeq). */
  private ahead: AheadFrame[] = [];
  /** Read buffers free again (their batches were confirmed, in order): the next reads use them instead of allocating. */
  private spare: Buffer[] = [];
  private dropped = 0;
  private closed = false;
  private cursorDirty = false;
  private cursorWritten = 0;
  private spaceWaiters: (() => void)[] = [];
  private readonly segmentBytes: number;
  private scratch = Buffer.alloc(0);
  /** appendEncoded(): the items' data of the frame being built, and their lengths. */
  private data = Buffer.alloc(0);
  private lens = new Uint32Array(0);
  private readonly fsync: boolean;
  /** Called after every append (the driver wakes its delivery loop). */
  onAppend: (() => void) | undefined;
  readonly recovery: SpoolRecovery;

  private constructor(private readonly opts: SpoolOptions) {
    this.segmentBytes = opts.segmentBytes ?? Math.min(16 << 20, Math.max(4096, Math.floor(opts.maxBytes / 8)));
    this.fsync = opts.fsync ?? true;
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      this.lock();
      this.recovery = this.recover();
      this.startSegment(this.segs.length > 0 ? this.segs[this.segs.length - 1]!.seq + 1 : this.readSeq + 1);
    } catch (err) {
      if (err instanceof ProcflowError) throw err;
      throw new ProcflowError(ERRORS.SPOOL_OPEN, { dir: opts.dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, { cause: err });
    }
    this.readSeq = this.segs[0]!.seq;
    this.readOff = this.segs[0]!.ackedOffset;
    this.readIdx = this.segs[0]!.ackedIndex;
  }

  /** Opens (and recovers) the spool in `opts.dir`. Throws PROCFLOW_E_SPOOL_OPEN. */
  static open(opts: SpoolOptions): DiskSpool {
    return new DiskSpool(opts);
  }

  /** Records stored and not yet confirmed. */
  get pendingItems(): number {
    let n = 0;
    for (const s of this.segs) n += s.items - s.acked;
    return n;
  }

  /** Bytes on disk. */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segs) n += s.size;
    return n;
  }

  /** The bound on disk bytes. */
  get maxBytes(): number {
    return this.opts.maxBytes;
  }

  /** Records deleted unconfirmed by the drop-oldest policy. */
  get droppedItems(): number {
    return this.dropped;
  }

  /** Stores items durably. Under `block` waits while the spool is full; throws PROCFLOW_E_SPOOL_CLOSED once closed. */
  async append(items: readonly SinkItem[]): Promise<void> {
    let i = 0;
    while (i < items.length) {
      // One frame per segment's worth of items (frame header 12 bytes, 6 per item + its id).
      let bytes = 12;
      let j = i;
      while (j < items.length && (j === i || bytes + 6 + items[j]!.id.length + items[j]!.data.length <= this.segmentBytes)) bytes += 6 + items[j]!.id.length + items[j++]!.data.length;
      await this.appendChunk(j - i === items.length ? items : items.slice(i, j));
      i = j;
    }
  }

  /**
   * Like append(), for records whose items `write` encodes here, straight into
   * one reused buffer that is written after the frame's head (writev): no item
   * objects, no Buffer per record, no copy into the frame. The same frames on disk.
   */
  async appendEncoded<R extends { readonly id: string }>(records: readonly R[], write: ItemWriter<R>): Promise<void> {
    const n = records.length;
    if (this.lens.length < n) this.lens = new Uint32Array(Math.max(n, 2 * this.lens.length));
    for (let i = 0; i < n;) {
      if (this.closed) throw new ProcflowError(ERRORS.SPOOL_CLOSED, { dir: this.opts.dir });
      // Records i..j-1 into this.data: a segment's worth at most (at least one record), as append() splits.
      let bytes = 12;
      let o = 0;
      let j = i;
      for (; j < n; j++) {
        const r = records[j]!;
        let end: number;
        while ((end = write(r, this.data, o, this.data.length)) < 0) this.growData(o);
        const add = 6 + idByteLength(r.id) + end - o;
        if (j > i && bytes + add > this.segmentBytes) break; // encoded again as the next frame's first item
        this.lens[j - i] = end - o;
        bytes += add;
        o = end;
      }
      if (bytes - o > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(bytes - o, 2 * this.scratch.length));
      const data = this.data.subarray(0, o);
      const head = encodeFrameHead(records, i, j - i, this.lens, data, this.scratch);
      const count = j - i;
      i = j;
      if (this.roomNow(bytes)) this.writeFrame([head, data], bytes, count);
      else {
        // Full under `block`: wait with copies (the reused buffers serve other appends meanwhile).
        const parts = [Buffer.from(head), Buffer.from(data)];
        await this.room(bytes);
        this.writeFrame(parts, bytes, count);
      }
    }
    if (this.data.length > SCRATCH_MAX) this.data = Buffer.alloc(0); // one huge batch does not keep its buffer
  }

  /** Room for `o` bytes more in this.data, keeping the first `o`. */
  private growData(o: number): void {
    const b = Buffer.allocUnsafeSlow(Math.max(1 << 20, 2 * this.data.length));
    this.data.copy(b, 0, 0, o);
    this.data = b;
  }

  private async appendChunk(items: readonly SinkItem[]): Promise<void> {
    const size = frameSize(items);
    if (!this.roomNow(size)) await this.room(size);
    // Encoded only now, and written before anything else runs: one scratch buffer serves every append.
    if (size <= SCRATCH_MAX && this.scratch.length < size) this.scratch = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.scratch.length));
    this.writeFrame([encodeFrame(items, this.scratch)], size, items.length);
  }

  /** Whether a frame of `size` bytes may be written now (drop-oldest makes room); throws once closed. */
  private roomNow(size: number): boolean {
    for (;;) {
      if (this.closed) throw new ProcflowError(ERRORS.SPOOL_CLOSED, { dir: this.opts.dir });
      if (this.diskBytes + size <= this.opts.maxBytes || this.pendingItems === 0) return true;
      if (this.opts.whenFull !== 'drop-oldest') return false;
      this.dropOldest();
    }
  }

  /** Waits until a frame of `size` bytes may be written (`block`). */
  private async room(size: number): Promise<void> {
    while (!this.roomNow(size)) await new Promise<void>((r) => this.spaceWaiters.push(r));
  }

  /** Writes one frame (its parts back to back, `size` bytes, `count` items) at the end of the last segment. */
  private writeFrame(parts: Buffer[], size: number, count: number): void {
    const w = this.segs[this.segs.length - 1]!;
    if (w.size > 0 && w.size + size > this.segmentBytes) this.roll();
    const seg = this.segs[this.segs.length - 1]!;
    let off = parts.length === 1 ? writeSync(this.wfd, parts[0]!, 0, size, seg.size) : writevSync(this.wfd, parts, seg.size);
    if (off < size) {
      const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts); // a short write: rare
      while (off < size) off += writeSync(this.wfd, all, off, size - off, seg.size + off);
    }
    if (this.fsync) fdatasyncSync(this.wfd);
    seg.size += size;
    seg.items += count;
    this.onAppend?.();
  }

  /** True when records were appended that read() has not returned yet. */
  hasUnread(): boolean {
    const last = this.segs[this.segs.length - 1]!;
    return !(this.readSeq === last.seq && this.readOff >= last.size);
  }

  /** The next records after the last read, at most maxItems and (beyond the first) maxBytes; undefined when none. */
  read(maxItems: number, maxBytes: number): SpoolBatch | undefined {
    let idx = this.segs.findIndex((s) => s.seq >= this.readSeq);
    if (idx < 0) return undefined;
    if (this.segs[idx]!.seq !== this.readSeq) {
      // The segment being read was dropped (drop-oldest): go on from the next one's confirmed position.
      this.readSeq = this.segs[idx]!.seq;
      this.readOff = this.segs[idx]!.ackedOffset;
      this.readIdx = this.segs[idx]!.ackedIndex;
      this.ahead = [];
    }
    while (this.readOff >= this.segs[idx]!.size) {
      if (idx === this.segs.length - 1) return undefined;
      idx++;
      this.readSeq = this.segs[idx]!.seq;
      this.readOff = 0;
      this.readIdx = 0;
      this.ahead = [];
    }
    const seg = this.segs[idx]!;
    const items: SinkItem[] = [];
    const done: Buffer[] = [];
    let bytes = 0;
    let pos = this.readOff;
    let k = this.readIdx;
    fill: while (pos < seg.size && items.length < maxItems && bytes < maxBytes) {
      const fr = this.frameAt(seg, pos, maxItems - items.length, maxBytes - bytes);
      for (; k < fr.items.length; k++) {
        const it = fr.items[k]!;
        if (items.length >= maxItems || (items.length > 0 && bytes + it.data.length > maxBytes)) break fill;
        items.push(it);
        bytes += it.data.length;
      }
      this.ahead.shift();
      if (this.ahead.length === 0) done.push(fr.buf); // the last frame of its read buffer
      pos = fr.next;
      k = 0;
    }
    this.readOff = pos;
    this.readIdx = k;
    return { items, seq: seg.seq, end: pos, endIndex: k, done };
  }

  /** The decoded frame at `pos` of `seg`: from the frames read ahead, else read from the file (about what the batch needs, in one read). */
  private frameAt(seg: Segment, pos: number, wantItems: number, wantBytes: number): AheadFrame {
    const first = this.ahead[0];
    if (first && first.seq === seg.seq && first.off === pos) return first;
    const fd = this.readFd(seg);
    const avg = seg.items > 0 ? seg.size / seg.items : 1024;
    const need = Math.min(wantBytes, wantItems * avg * 1.1) + 1024;
    let len = Math.min(seg.size - pos, Math.max(64 << 10, Math.ceil(need)));
    let buf = this.buffer(len);
    readSync(fd, buf, 0, len, pos);
    const whole = frameLength(buf, 0);
    if (whole > len) {
      // One frame larger than the read: read exactly it.
      len = whole;
      buf = this.buffer(len);
      readSync(fd, buf, 0, len, pos);
    }
    this.ahead = [];
    // Frames written by this process, or checked by recover(): no second crc pass.
    for (let off = 0; ;) {
      const fr = decodeFrame(buf, off, false);
      if (fr === 'corrupt' || (fr === undefined && off === 0)) throw new ProcflowError(ERRORS.SPOOL_CORRUPT, { path: seg.path, offset: pos + off });
      if (fr === undefined) break;
      this.ahead.push({ items: fr.items, next: pos + fr.next, off: pos + off, seq: seg.seq, buf }); // offsets in the segment
      off = fr.next;
    }
    return this.ahead[0]!;
  }

  /**
   * `len` bytes to read into: a spare read buffer when one is large enough, else a new one
   * with headroom (a power of two, at least 1 MiB), so that it serves the next reads too.
   */
  private buffer(len: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= len);
    if (i < 0) return len < 64 << 10 ? Buffer.allocUnsafe(len) : Buffer.allocUnsafeSlow(Math.max(1 << 20, 2 ** Math.ceil(Math.log2(len)))).subarray(0, len);
    const b = this.spare[i]!;
    this.spare.splice(i, 1);
    return b.subarray(0, len);
  }

  /** Confirms a batch from read(): its records leave the spool. Batches are confirmed in the order read. */
  ack(batch: SpoolBatch): void {
    const seg = this.segs.find((s) => s.seq === batch.seq);
    if (!seg || batch.end < seg.ackedOffset || (batch.end === seg.ackedOffset && batch.endIndex <= seg.ackedIndex)) return; // dropped meanwhile
    seg.acked += batch.items.length;
    seg.ackedOffset = batch.end;
    seg.ackedIndex = batch.endIndex;
    // Confirmed in order: nothing reads the items of these buffers any more (the driver acks after delivery and dead letters).
    // Only buffers owning their whole memory (never a slice of Node's shared pool).
    for (const b of batch.done ?? []) {
      if (b.byteOffset !== 0 || b.buffer.byteLength < 64 << 10) continue;
      if (this.spare.length < 2) this.spare.push(Buffer.from(b.buffer));
      else if (this.spare[0]!.length < b.buffer.byteLength) this.spare[0] = Buffer.from(b.buffer); // keep the larger ones
      if (this.spare.length === 2 && this.spare[0]!.length > this.spare[1]!.length) this.spare.reverse(); // smallest first
    }
    if (seg.acked >= seg.items && seg.ackedOffset >= seg.size) {
      if (seg === this.segs[this.segs.length - 1]) this.roll();
      this.removeHead(seg);
      this.persistCursor();
    } else if (Date.now() - this.cursorWritten >= CURSOR_EVERY_MS) this.persistCursor();
    else this.cursorDirty = true;
    this.wakeSpace();
  }

  /** Closes files; pending records stay on disk for the next open. Waiting appends fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.cursorDirty) this.persistCursor();
    if (this.wfd >= 0) closeSync(this.wfd);
    if (this.rfd >= 0) closeSync(this.rfd);
    this.wfd = this.rfd = -1;
    rmSync(join(this.opts.dir, 'lock'), { force: true });
    this.wakeSpace();
  }

  /**
   * One process per spool: `lock` holds the owner's pid. A lock left by a
   * process that no longer exists (killed -9) is taken over.
   */
  private lock(): void {
    const path = join(this.opts.dir, 'lock');
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      }
      let pid = 0;
      try {
        pid = Number(readFileSync(path, 'utf8'));
      } catch {
        /* removed meanwhile */
      }
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || alive(pid))) {
        throw new ProcflowError(ERRORS.SPOOL_OPEN, { dir: this.opts.dir, reason: `in use by process ${pid}: another agent, or another sink with the same name` });
      }
      rmSync(path, { force: true });
    }
  }

  private wakeSpace(): void {
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const r of w) r();
  }

  private dropOldest(): void {
    if (this.segs.length === 1) this.roll();
    const head = this.segs[0]!;
    this.dropped += head.items - head.acked;
    this.removeHead(head);
    this.persistCursor();
  }

  private removeHead(seg: Segment): void {
    const i = this.segs.indexOf(seg);
    if (i < 0) return;
    this.segs.splice(i, 1);
    if (this.ahead[0]?.seq === seg.seq) this.ahead = [];
    if (this.rfdSeq === seg.seq) {
      closeSync(this.rfd);
      this.rfd = -1;
      this.rfdSeq = -1;
    }
    rmSync(seg.path, { force: true });
  }

  private readFd(seg: Segment): number {
    if (this.rfdSeq !== seg.seq) {
      if (this.rfd >= 0) closeSync(this.rfd);
      this.rfd = openSync(seg.path, 'r');
      this.rfdSeq = seg.seq;
    }
    return this.rfd;
  }

  private roll(): void {
    const last = this.segs[this.segs.length - 1]!;
    this.startSegment(last.seq + 1);
  }

  private startSegment(seq: number): void {
    if (this.wfd >= 0) closeSync(this.wfd);
    const path = join(this.opts.dir, segName(seq));
    this.wfd = openSync(path, 'w', 0o600);
    this.segs.push({ seq, path, size: 0, items: 0, acked: 0, ackedOffset: 0, ackedIndex: 0 });
  }

  private persistCursor(): void {
    this.cursorDirty = false;
    this.cursorWritten = Date.now();
    const head = this.segs[0]!;
    const tmp = join(this.opts.dir, 'cursor.json.tmp');
    writeFileSync(tmp, JSON.stringify({ seq: head.seq, offset: head.ackedOffset, index: head.ackedIndex }), { mode: 0o600 });
    renameSync(tmp, join(this.opts.dir, 'cursor.json'));
  }

  private readCursor(): { seq: number; offset: number; index: number } {
    try {
      const c = JSON.parse(readFileSync(join(this.opts.dir, 'cursor.json'), 'utf8')) as { seq: number; offset: number; index?: number };
      // `index` is absent in cursors written before batch frames (single-item frames: always 0).
      if (Number.isInteger(c.seq) && Number.isInteger(c.offset)) return { seq: c.seq, offset: c.offset, index: Number.isInteger(c.index) ? c.index! : 0 };
    } catch {
      /* no cursor yet: everything in the segments is pending */
    }
    return { seq: 0, offset: 0, index: 0 };
  }

  /** Scans the segments left by a previous run: counts records, cuts torn tails, deletes confirmed segments. */
  private recover(): SpoolRecovery {
    const cursor = this.readCursor();
    this.readSeq = cursor.seq;
    let tornBytes = 0;
    const files = readdirSync(this.opts.dir).filter((f) => SEG_RE.test(f)).sort();
    for (const f of files) {
      const seq = Number(SEG_RE.exec(f)![1]);
      const path = join(this.opts.dir, f);
      if (seq < cursor.seq) {
        rmSync(path, { force: true });
        continue;
      }
      const buf = readFileSync(path);
      let off = 0;
      let items = 0;
      let acked = 0;
      let ackedOffset = 0;
      let ackedIndex = 0;
      for (;;) {
        const fr = decodeFrame(buf, off);
        if (fr === undefined || fr === 'corrupt') break;
        const n = fr.items.length;
        items += n;
        if (seq === cursor.seq && fr.next <= cursor.offset) {
          acked += n;
          ackedOffset = fr.next;
        } else if (seq === cursor.seq && off === cursor.offset && cursor.index > 0) {
          const done = Math.min(cursor.index, n);
          acked += done;
          if (done === n) ackedOffset = fr.next;
          else [ackedOffset, ackedIndex] = [off, done];
        }
        off = fr.next;
      }
      if (off < buf.length) {
        tornBytes += buf.length - off;
        truncateSync(path, off);
      }
      if (items === acked) {
        rmSync(path, { force: true });
        continue;
      }
      this.segs.push({ seq, path, size: off, items, acked, ackedOffset, ackedIndex });
    }
    let pending = 0;
    for (const s of this.segs) pending += s.items - s.acked;
    return { items: pending, tornBytes };
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

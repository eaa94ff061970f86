/**
 * Encoded items as views into shared chunks instead of one Buffer each: a
 * Buffer per record costs an allocation (about 1 µs here) where writing into
 * a chunk and taking a view costs a fraction of it. A chunk lives as long as
 * any view into it (items are short-lived: until spooled or sent).
 */

/** Chunk size; strings that might need more than a quarter of it get their own Buffer. */
const CHUNK = 1 << 20;

/** A bump allocator over 1 MiB chunks (see the module comment). */
export class Arena {
  private chunk = Buffer.alloc(0); // the first chunk on first use (spooled sinks mostly encode into the spool instead)
  private off = 0;

  /** `s` encoded as UTF-8, as a view. */
  utf8(s: string): Buffer {
    const max = s.length * 3;
    if (max > CHUNK >> 2) return Buffer.from(s, 'utf8');
    if (this.off + max > this.chunk.length) this.renew();
    const n = this.chunk.write(s, this.off, 'utf8');
    return this.view(n);
  }

  /**
   * Room for at most `max` bytes: returns the chunk and the offset to write
   * at; call commit() with the bytes written. `max` beyond a quarter chunk gets
   * a Buffer of its own.
   */
  reserve(max: number): { buf: Buffer; off: number } {
    if (max > CHUNK >> 2) {
      this.renew(max);
      return { buf: this.chunk, off: 0 };
    }
    if (this.off + max > this.chunk.length) this.renew();
    return { buf: this.chunk, off: this.off };
  }

  /** Takes the `n` bytes written after reserve() as a view. */
  commit(n: number): Buffer {
    return this.view(n);
  }

  private view(n: number): Buffer {
    const v = this.chunk.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  private renew(size = CHUNK): void {
    this.chunk = Buffer.allocUnsafeSlow(Math.max(size, CHUNK));
    this.off = 0;
  }
}

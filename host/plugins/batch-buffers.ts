/**
 * Buffers for encoded batches, used again once a worker is done with them.
 * A batch crosses to a plugin worker as a transferred ArrayBuffer; the worker
 * copies it into the plugin's memory and sends the buffer back with its
 * result. Fresh buffers of batch size (hundreds of KiB) are fresh pages to the
 * kernel: every batch would pay their page faults and zeroing twice, once per
 * thread, and the frees after.
 */

/** At most this many idle buffers are kept (parts in flight are `workers + 1`). */
const MAX_IDLE = 8;
/** Buffers above this size are not kept (a rare huge batch should not pin its memory). */
const MAX_KEPT_BYTES = 16 << 20;
/** At most this many bytes in idle buffers. */
const MAX_IDLE_BYTES = 32 << 20;
/** Buffers smaller than this are not worth keeping (malloc serves them without page faults). */
const MIN_KEPT_BYTES = 64 << 10;

/** Buffers this process may transfer whole although a batch uses only their start. */
const ours = new WeakSet<ArrayBuffer>();

/** True when `view`'s whole buffer may be transferred to a worker: it is exactly the view, or a batch buffer of ours. */
export function transferable(view: Uint8Array): boolean {
  if (view.byteOffset !== 0) return false;
  return view.byteLength === view.buffer.byteLength || ours.has(view.buffer as ArrayBuffer);
}

/** Idle batch buffers; bounded in count and size. */
export class BatchBuffers {
  private readonly idle: ArrayBuffer[] = [];
  private idleBytes = 0;

  /** A view of `bytes` bytes over an idle buffer big enough, or over a new one with room to spare. */
  view(bytes: number): Uint8Array {
    for (let i = 0; i < this.idle.length; i++) {
      const b = this.idle[i];
      if (b.byteLength >= bytes) {
        this.idle.splice(i, 1);
        this.idleBytes -= b.byteLength;
        return new Uint8Array(b, 0, bytes);
      }
    }
    if (bytes < MIN_KEPT_BYTES) return Buffer.allocUnsafeSlow(bytes);
    // Room for batches a little bigger than this one, in 64 KiB steps.
    const size = Math.ceil((bytes * 1.25) / MIN_KEPT_BYTES) * MIN_KEPT_BYTES;
    const b = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    ours.add(b);
    return new Uint8Array(b, 0, bytes);
  }

  /**
   * Takes back the buffer of a batch a worker is done with (a new object on
   * this side of the transfer); ignored when too small, too big, or when
   * enough are idle (8 buffers, 32 MiB).
   */
  give(b: ArrayBuffer): void {
    if (b.byteLength < MIN_KEPT_BYTES || b.byteLength > MAX_KEPT_BYTES || this.idle.length >= MAX_IDLE || this.idleBytes + b.byteLength > MAX_IDLE_BYTES) return;
    ours.add(b);
    this.idle.push(b);
    this.idleBytes += b.byteLength;
  }

  /** Idle buffers held (for tests). */
  get idleCount(): number {
    return this.idle.length;
  }
}

/**
 * Batch encoding on the host side (wit/plugin-0.1.0/ENCODING.md): an array of
 * flow maps with the flow log field names, as MessagePack or JSON.
 */
import { Unpackr } from 'msgpackr';
import type { FlowRecord } from '../flows/record.js';
import type { BatchBuffers } from './batch-buffers.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { processOnly } from './process-memo.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A batch encoding a plugin declared. */
export type Encoding = 'msgpack' | 'json';

/**
 * Encodes the batches of one chain run. It remembers where each flow's bytes
 * lie in the last MessagePack batch it wrote, so the next stage's batch copies
 * the flows a stage left unchanged (same object: stages never mutate flows,
 * they return new objects for what they change) instead of encoding them again.
 */
export class BatchEncoder {
  private readonly writers = [new MsgpackWriter(), new MsgpackWriter()]; // 64 KiB, grown by need and kept
  private turn = 0;
  private prev: { flows: readonly unknown[]; buf: Buffer; starts: Uint32Array } | undefined;

  /** `buffers`: where MessagePack batches are written (buffers a worker gave back), when given. */
  constructor(private readonly buffers?: BatchBuffers) {}

  /** Encodes flows into a buffer of its own (safe to transfer to a worker). */
  encode(flows: readonly unknown[], encoding: Encoding): Uint8Array {
    if (encoding === 'json') {
      const b = Buffer.from(JSON.stringify(flows), 'utf8');
      return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
    }
    this.turn ^= 1;
    const w = this.writers[this.turn];
    const n = flows.length;
    const prev = this.prev !== undefined && this.prev.flows.length === n ? this.prev : undefined;
    const starts = new Uint32Array(n + 1);
    w.restart();
    w.arrayHeader(n);
    for (let i = 0; i < n; i++) {
      starts[i] = w.pos;
      const f = flows[i];
      if (prev !== undefined && prev.flows[i] === f) w.raw(prev.buf, prev.starts[i], prev.starts[i + 1]);
      else w.value(f);
    }
    starts[n] = w.pos;
    this.prev = { flows, buf: w.buf, starts };
    return w.take(this.buffers);
  }

  /**
   * Encodes each flow as a map of its id and process fields only (what a
   * `perProcess` redactor is sent: process-memo.ts processOnly), byte for byte
   * what `encode` writes for those maps, without building them.
   */
  encodeProcesses(flows: readonly FlowRecord[], encoding: Encoding): Uint8Array {
    if (encoding === 'json') return this.encode(flows.map(processOnly), 'json');
    this.turn ^= 1;
    const w = this.writers[this.turn];
    w.restart();
    w.arrayHeader(flows.length);
    for (let i = 0; i < flows.length; i++) w.processFields(flows[i]);
    this.prev = undefined; // nothing of it is reused by the next batch
    return w.take(this.buffers);
  }

  /** Where each flow starts in the last MessagePack batch (n + 1 offsets; the last is its length). */
  lastStarts(): Uint32Array | undefined {
    return this.prev?.starts;
  }

  /** Forgets the last batch (before reuse for another). */
  reset(): void {
    this.prev = undefined;
  }
}

/** Decodes a plugin's output; throws on bytes that are not the encoding. */
export function decodeBatch(bytes: Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'json') return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  return unpackr.unpack(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The built-in format: the flows.log JSON line of a record (no newline; sinks frame). */
export function builtinJsonItem(r: FlowRecord): Uint8Array {
  const { id: _id, process_args, ...rest } = r;
  return Buffer.from(JSON.stringify({ ...rest, process_args: process_args.map((a) => a.join(' ')) }), 'utf8');
}

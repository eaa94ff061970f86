/**
 * Batch encoding on the host side (wit/plugin-0.1.0/ENCODING.md): an array of
 * flow maps with the flow log field names, as MessagePack or JSON.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { FlowRecord } from '../flows/record.js';

// Plain maps only: no msgpackr record extension, which other decoders do not know.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A batch encoding a plugin declared. */
export type Encoding = 'msgpack' | 'json';

/** Encodes flows into a buffer of its own (safe to transfer to a worker). */
export function encodeBatch(flows: readonly unknown[], encoding: Encoding): Uint8Array {
  if (encoding === 'json') {
    const b = Buffer.from(JSON.stringify(flows), 'utf8');
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
  }
  // pack() returns a view of msgpackr's shared buffer: copy it out.
  return new Uint8Array(packr.pack(flows));
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

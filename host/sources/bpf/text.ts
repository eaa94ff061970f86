/**
 * Bytes to string with the one lossless convention used everywhere in
 * procflow: valid UTF-8 is kept as is, every byte that is not part of a valid
 * UTF-8 sequence becomes the four characters `\xNN` (lower-case hex).
 */
import { isUtf8 } from 'node:buffer';

/** A Buffer view of the same memory (no copy), for Buffer's fast slice methods. */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Decodes u8[start, end) with invalid bytes written as \xNN. */
export function decodeBytes(u8: Uint8Array, start: number, end: number): string {
  if (end <= start) return '';
  const buf = asBuffer(u8);
  if (end - start <= 64) {
    // Short strings (comm, most paths) are nearly always ASCII: a scan beats a validator call.
    let ascii = true;
    for (let i = start; i < end; i++) if (u8[i] >= 0x80) { ascii = false; break; }
    if (ascii) return buf.toString('latin1', start, end);
  }
  return isUtf8(u8.subarray(start, end)) ? buf.toString('utf8', start, end) : decodeLossy(u8, start, end);
}

function hexEscape(b: number): string {
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** Length of the valid UTF-8 sequence starting at i, or 0 if invalid (RFC 3629). */
function validSeqLen(u8: Uint8Array, i: number, end: number): number {
  const b = u8[i];
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f; // no surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > end) return 0;
  if (u8[i + 1] < lo || u8[i + 1] > hi) return 0;
  for (let k = 2; k < n; k++) if ((u8[i + k] & 0xc0) !== 0x80) return 0;
  return n;
}

function decodeLossy(u8: Uint8Array, start: number, end: number): string {
  let out = '';
  let runStart = start;
  let i = start;
  while (i < end) {
    const n = validSeqLen(u8, i, end);
    if (n > 0) { i += n; continue; }
    if (i > runStart) out += Buffer.from(u8.buffer, u8.byteOffset + runStart, i - runStart).toString('utf8');
    out += hexEscape(u8[i]);
    i++;
    runStart = i;
  }
  if (i > runStart) out += Buffer.from(u8.buffer, u8.byteOffset + runStart, i - runStart).toString('utf8');
  return out;
}

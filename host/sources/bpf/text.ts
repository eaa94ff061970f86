/**
 * Bytes to string with the one lossless convention used everywhere in
 * procflow: valid UTF-8 is kept as is, every byte that is not part of a valid
 * UTF-8 sequence becomes the four characters `\xNN` (lower-case hex).
 */
const strict = new TextDecoder('utf-8', { fatal: true });

/** Decodes u8[start, end) with invalid bytes written as \xNN. */
export function decodeBytes(u8: Uint8Array, start: number, end: number): string {
  if (end <= start) return '';
  try {
    return strict.decode(u8.subarray(start, end)); // simdutf-backed: the common case costs one call
  } catch {
    return decodeLossy(u8, start, end);
  }
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

/**
 * Joins item bytes into one request body. Items read from one spool frame are
 * consecutive views into one buffer: those are joined without copying.
 */

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

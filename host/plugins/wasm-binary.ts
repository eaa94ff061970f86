/**
 * Small rewrites of core WebAssembly modules, done on the binary: renaming
 * exports (AssemblyScript cannot spell `batch-encoding`) and capping linear
 * memory (worker resourceLimits do not cover wasm memory; a module whose
 * memory has a maximum cannot grow past it, so the cap is enforced by the
 * engine itself and a runaway plugin traps in memory.grow).
 */

/** One section of a module: id and payload range. */
interface Section {
  id: number;
  start: number; // payload start
  end: number;
  headerStart: number;
}

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error('truncated LEB128');
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

function writeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sections(b: Uint8Array): Section[] {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new Error('not a WebAssembly module');
  if (b[4] !== 1 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) throw new Error('not a core module (a component? transpile it first)');
  const out: Section[] = [];
  let pos = 8;
  while (pos < b.length) {
    const headerStart = pos;
    const id = b[pos++];
    const [size, p] = readU32(b, pos);
    out.push({ id, start: p, end: p + size, headerStart });
    pos = p + size;
  }
  return out;
}

function readName(b: Uint8Array, pos: number): [string, number] {
  const [len, p] = readU32(b, pos);
  return [Buffer.from(b.subarray(p, p + len)).toString('utf8'), p + len];
}

function encodeName(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...writeU32(bytes.length), ...bytes];
}

function replaceSection(b: Uint8Array, s: Section, payload: number[] | Uint8Array): Uint8Array {
  const header = [s.id, ...writeU32(payload.length)];
  const out = new Uint8Array(s.headerStart + header.length + payload.length + (b.length - s.end));
  out.set(b.subarray(0, s.headerStart), 0);
  out.set(header, s.headerStart);
  out.set(payload, s.headerStart + header.length);
  out.set(b.subarray(s.end), s.headerStart + header.length + payload.length);
  return out;
}

/** Renames exports (`from` → `to`); names not in the map are kept. */
export function renameExports(b: Uint8Array, names: Record<string, string>): Uint8Array {
  const s = sections(b).find((x) => x.id === 7);
  if (!s) return b;
  let [count, pos] = readU32(b, s.start);
  const payload: number[] = [...writeU32(count)];
  for (; count > 0; count--) {
    const [name, p] = readName(b, pos);
    const kind = b[p];
    const [index, p2] = readU32(b, p + 1);
    payload.push(...encodeName(names[name] ?? name), kind, ...writeU32(index));
    pos = p2;
  }
  return replaceSection(b, s, payload);
}

/** Linear memory limits of a module, in 64 KiB pages. */
export interface MemoryLimits {
  min: number;
  max: number | undefined;
  imported: boolean;
}

/** The memories a module defines or imports. */
export function memoryLimits(b: Uint8Array): MemoryLimits[] {
  const out: MemoryLimits[] = [];
  for (const s of sections(b)) {
    if (s.id === 2) {
      let [count, pos] = readU32(b, s.start);
      for (; count > 0; count--) {
        [, pos] = readName(b, pos);
        [, pos] = readName(b, pos);
        const kind = b[pos++];
        if (kind === 0x00) [, pos] = readU32(b, pos);
        else if (kind === 0x01) { pos++; pos = skipLimits(b, pos).pos; }
        else if (kind === 0x02) { const l = skipLimits(b, pos); out.push({ min: l.min, max: l.max, imported: true }); pos = l.pos; }
        else if (kind === 0x03) pos += 2;
        else if (kind === 0x04) { pos++; [, pos] = readU32(b, pos); }
        else throw new Error(`unknown import kind ${kind}`);
      }
    } else if (s.id === 5) {
      let [count, pos] = readU32(b, s.start);
      for (; count > 0; count--) {
        const l = skipLimits(b, pos);
        out.push({ min: l.min, max: l.max, imported: false });
        pos = l.pos;
      }
    }
  }
  return out;
}

function skipLimits(b: Uint8Array, pos: number): { min: number; max: number | undefined; pos: number; flags: number } {
  const flags = b[pos++];
  if (flags & 0x04) throw new Error('memory64 is not supported');
  let min: number;
  let max: number | undefined;
  [min, pos] = readU32(b, pos);
  if (flags & 0x01) [max, pos] = readU32(b, pos);
  return { min, max, pos, flags };
}

/**
 * Caps every memory the module defines at `maxPages` (64 KiB each). Throws
 * when a memory's initial size is already above the cap.
 */
export function capMemory(b: Uint8Array, maxPages: number): Uint8Array {
  const s = sections(b).find((x) => x.id === 5);
  if (!s) return b;
  let [count, pos] = readU32(b, s.start);
  const payload: number[] = [...writeU32(count)];
  for (; count > 0; count--) {
    const l = skipLimits(b, pos);
    if (l.min > maxPages) throw new Error(`its memory starts at ${l.min} pages (${l.min * 64} KiB), above the cap of ${maxPages} pages`);
    const max = l.max === undefined ? maxPages : Math.min(l.max, maxPages);
    payload.push((l.flags & 0x02) | 0x01, ...writeU32(l.min), ...writeU32(max));
    pos = l.pos;
  }
  return replaceSection(b, s, payload);
}

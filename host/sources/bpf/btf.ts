/**
 * Minimal readers for a BPF object file: ELF sections and symbols, and the
 * BTF type section (struct layouts, for the layout check and settings).
 * Pure functions over a Buffer; no kernel, no root.
 */

/** One ELF section. */
export interface ElfSection {
  name: string;
  offset: number;
  size: number;
}

/** One ELF symbol with the name of its section. */
export interface ElfSymbol {
  name: string;
  section: string;
  value: number;
  size: number;
}

/** Sections and symbols of a little-endian ELF64 file. */
export function readElf(file: Buffer): { sections: ElfSection[]; symbols: ElfSymbol[] } {
  if (file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) {
    throw new Error('not a little-endian ELF64 file');
  }
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const b = shoff + i * shentsize;
    return {
      nameOff: file.readUInt32LE(b),
      type: file.readUInt32LE(b + 4),
      offset: Number(file.readBigUInt64LE(b + 24)),
      size: Number(file.readBigUInt64LE(b + 32)),
      link: file.readUInt32LE(b + 40),
      entsize: Number(file.readBigUInt64LE(b + 56)),
    };
  });
  const strAt = (sec: { offset: number }, off: number) => {
    const start = sec.offset + off;
    return file.toString('latin1', start, file.indexOf(0, start));
  };
  const sections = raw.map((s) => ({ name: strAt(raw[shstrndx], s.nameOff), offset: s.offset, size: s.size }));
  const symbols: ElfSymbol[] = [];
  for (const s of raw) {
    if (s.type !== 2 /* SHT_SYMTAB */) continue;
    const strtab = raw[s.link];
    for (let off = s.offset; off + 24 <= s.offset + s.size; off += 24) {
      const shndx = file.readUInt16LE(off + 6);
      symbols.push({
        name: strAt(strtab, file.readUInt32LE(off)),
        section: shndx < sections.length ? sections[shndx].name : '',
        value: Number(file.readBigUInt64LE(off + 8)),
        size: Number(file.readBigUInt64LE(off + 16)),
      });
    }
  }
  return { sections, symbols };
}

/** A struct member as BTF describes it. */
export interface BtfMember {
  name: string;
  /** Byte offset (bitfields are not used in procflow's contract). */
  offset: number;
  size: number;
}

/** A struct's size and members, from BTF. */
export interface BtfStruct {
  name: string;
  size: number;
  members: BtfMember[];
}

const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 };

interface RawType {
  kind: number;
  name: string;
  sizeOrType: number;
  kindFlag: boolean;
  members: { name: string; type: number; offsetBits: number }[];
  array?: { type: number; nelems: number };
}

/** Parses a raw BTF blob (the .BTF section or /sys/kernel/btf/vmlinux). */
export function parseBtf(btf: Buffer): { structs: Map<string, BtfStruct>; typedefs: Set<string> } {
  if (btf.readUInt16LE(0) !== 0xeb9f) throw new Error('bad BTF magic');
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = hdrLen + btf.readUInt32LE(8);
  const typeLen = btf.readUInt32LE(12);
  const strOff = hdrLen + btf.readUInt32LE(16);
  const str = (off: number) => btf.toString('latin1', strOff + off, btf.indexOf(0, strOff + off));
  const types: RawType[] = [{ kind: 0, name: 'void', sizeOrType: 0, kindFlag: false, members: [] }];
  let p = typeOff;
  const end = typeOff + typeLen;
  while (p < end) {
    const nameOff = btf.readUInt32LE(p);
    const info = btf.readUInt32LE(p + 4);
    const sizeOrType = btf.readUInt32LE(p + 8);
    p += 12;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const t: RawType = { kind, name: str(nameOff), sizeOrType, kindFlag: info >>> 31 === 1, members: [] };
    switch (kind) {
      case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: p += 4; break;
      case KIND.ARRAY:
        t.array = { type: btf.readUInt32LE(p), nelems: btf.readUInt32LE(p + 8) };
        p += 12;
        break;
      case KIND.STRUCT: case KIND.UNION:
        for (let i = 0; i < vlen; i++, p += 12) {
          const off = btf.readUInt32LE(p + 8);
          t.members.push({ name: str(btf.readUInt32LE(p)), type: btf.readUInt32LE(p + 4), offsetBits: t.kindFlag ? off & 0xffffff : off });
        }
        break;
      case KIND.ENUM: case KIND.FUNC_PROTO: p += 8 * vlen; break;
      case KIND.DATASEC: case KIND.ENUM64: p += 12 * vlen; break;
      default: break;
    }
    types.push(t);
  }
  const sizeOf = (id: number, depth = 0): number => {
    const t = types[id];
    if (!t || depth > 32) return 0;
    switch (t.kind) {
      case KIND.INT: case KIND.STRUCT: case KIND.UNION: case KIND.ENUM: case KIND.FLOAT: case KIND.ENUM64: return t.sizeOrType;
      case KIND.PTR: return 8;
      case KIND.ARRAY: return t.array ? t.array.nelems * sizeOf(t.array.type, depth + 1) : 0;
      case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT: case KIND.TYPE_TAG:
        return sizeOf(t.sizeOrType, depth + 1);
      default: return 0;
    }
  };
  const structs = new Map<string, BtfStruct>();
  const typedefs = new Set<string>();
  for (const t of types) {
    if (t.kind === KIND.TYPEDEF) typedefs.add(t.name);
    if (t.kind !== KIND.STRUCT || !t.name || structs.has(t.name)) continue;
    structs.set(t.name, {
      name: t.name,
      size: t.sizeOrType,
      members: t.members.map((m) => ({ name: m.name, offset: m.offsetBits / 8, size: sizeOf(m.type) })),
    });
  }
  return { structs, typedefs };
}

/** Struct layouts from the .BTF section of a BPF object file. */
export function objectStructs(file: Buffer): Map<string, BtfStruct> {
  const sec = readElf(file).sections.find((s) => s.name === '.BTF');
  if (!sec) throw new Error('object has no .BTF section (build it with clang -g)');
  return parseBtf(file.subarray(sec.offset, sec.offset + sec.size)).structs;
}

/** Expected layout of one struct: size and [offset, size] per field. */
export interface ExpectedLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, readonly [number, number]>>;
}

/**
 * Differences between the expected layouts and the structs found in BTF, as
 * readable lines ("pf_sock.cookie: BTF [16, 8], decoder [24, 8]"); empty when
 * they agree field for field.
 */
export function layoutMismatches(structs: Map<string, BtfStruct>, expected: Record<string, ExpectedLayout>): string[] {
  const out: string[] = [];
  for (const [name, layout] of Object.entries(expected)) {
    const btf = structs.get(name);
    if (!btf) {
      out.push(`${name}: not in the object's BTF`);
      continue;
    }
    if (btf.size !== layout.size) out.push(`${name}: BTF size ${btf.size}, decoder ${layout.size}`);
    const members = new Map(btf.members.map((m) => [m.name, m]));
    for (const [field, [offset, size]] of Object.entries(layout.fields)) {
      const m = members.get(field);
      if (!m) out.push(`${name}.${field}: missing in BTF`);
      else if (m.offset !== offset || m.size !== size) out.push(`${name}.${field}: BTF [${m.offset}, ${m.size}], decoder [${offset}, ${size}]`);
    }
    for (const field of members.keys()) if (!(field in layout.fields)) out.push(`${name}.${field}: in BTF, not in the decoder`);
  }
  return out;
}

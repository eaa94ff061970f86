/**
 * Capture settings: validated once, then written into the object's
 * `const volatile` globals (.rodata) before load.
 */
import { ERRORS, ProcflowError } from '../../errors.js';
import { BPF_OBJECT_PATH } from '../../paths.js';
import { readElf } from './btf.js';
import { FAMILIES_FOR_MODE, LOGICAL_HOOKS, type Family, type HookMode, type LogicalHook } from './hooks.js';
import { PF_ARGS_CAP_DEFAULT, PF_ARGS_MAX } from './layout.js';
import { viewOf, type Libbpf, type Ptr } from './libbpf.js';

/** Settings of the capture, written into the object before load. */
export interface CaptureSettings {
  /** Compiled object; default bpf/build/procflow.bpf.o. */
  objectPath?: string;
  /** Hook family choice: auto (tp_btf → tracepoint → kprobe), tracepoint, kprobe. */
  hooks?: HookMode;
  /** Exact families to try, in order, overriding `hooks` (tests and the kernel matrix force one family). */
  families?: readonly Family[];
  /** Total argv bytes kept per exec, elements kept whole (default 4096, max 16384). */
  argsCap?: number;
  /** Host tgid whose own events are not reported (the agent); 0 reports all. */
  ignoreTgid?: number;
  /** UDP: minimum ns between two ring reports of the same peer (default 1 s). */
  udpReportNs?: number;
  /** Ring buffer data size in bytes, a power of two (default 16 MiB). */
  ringBytes?: number;
  /** Only these hooks (default: all). Iterators are always loaded. */
  only?: readonly LogicalHook[];
}

/** Settings with every default applied and every value checked. */
export interface ResolvedSettings {
  objectPath: string;
  mode: HookMode;
  families: readonly Family[];
  argsCap: number;
  ignoreTgid: number;
  udpReportNs: number;
  ringBytes: number;
  only: ReadonlySet<LogicalHook>;
}

function invalid(field: string, reason: string, fix: string): ProcflowError {
  return new ProcflowError(ERRORS.CONFIG_INVALID, { field, reason, fix });
}

/** Applies defaults and validates; a bad value names the field and the fix. */
export function resolveSettings(s: CaptureSettings): ResolvedSettings {
  const argsCap = s.argsCap ?? PF_ARGS_CAP_DEFAULT;
  if (!Number.isInteger(argsCap) || argsCap < 64 || argsCap > PF_ARGS_MAX) {
    throw invalid('argsCap', `${argsCap} is out of range`, `Use an integer between 64 and ${PF_ARGS_MAX}.`);
  }
  const ringBytes = s.ringBytes ?? 16 << 20;
  if (!Number.isInteger(ringBytes) || ringBytes < 4096 || (ringBytes & (ringBytes - 1)) !== 0) {
    throw invalid('ringBufferSize', `${ringBytes} is not a power of two >= 4096`, 'Use e.g. 16777216 (16 MiB).');
  }
  const udpReportNs = s.udpReportNs ?? 1_000_000_000;
  if (!Number.isFinite(udpReportNs) || udpReportNs < 0) {
    throw invalid('udpReportInterval', `${udpReportNs} ns is negative`, 'Use a duration such as 1s.');
  }
  const mode = s.hooks ?? 'auto';
  return {
    objectPath: s.objectPath ?? BPF_OBJECT_PATH,
    mode,
    families: s.families ?? FAMILIES_FOR_MODE[mode],
    argsCap,
    ignoreTgid: s.ignoreTgid ?? 0,
    udpReportNs,
    ringBytes,
    only: new Set(s.only ?? LOGICAL_HOOKS),
  };
}

/** Offsets of the `pf_*` settings in .rodata, from the object's symbol table. */
export function rodataOffsets(objectFile: Buffer): Map<string, number> {
  const { symbols } = readElf(objectFile);
  return new Map(symbols.filter((sym) => sym.section === '.rodata' && sym.name.startsWith('pf_')).map((sym) => [sym.name, sym.value]));
}

/** Writes the settings into the opened (not yet loaded) object's .rodata and sizes the ring. */
export function writeSettings(lib: Libbpf, obj: Ptr, offsets: Map<string, number>, s: ResolvedSettings): void {
  let rodata = 0n;
  for (let m = lib.objectNextMap(obj, 0n); m !== 0n; m = lib.objectNextMap(obj, m)) {
    if (lib.mapName(m).endsWith('.rodata')) rodata = m;
  }
  if (rodata === 0n) throw new Error('BPF object has no .rodata map: settings cannot be applied');
  const size = [0n];
  const view = new DataView(viewOf(lib.mapInitialValue(rodata, size), Number(size[0])));
  const values: [string, 4 | 8, number][] = [
    ['pf_args_cap', 4, s.argsCap],
    ['pf_ignore_tgid', 4, s.ignoreTgid],
    ['pf_udp_report_ns', 8, s.udpReportNs],
  ];
  for (const [name, width, value] of values) {
    const off = offsets.get(name);
    if (off === undefined) throw new Error(`setting ${name} missing from the BPF object's .rodata`);
    if (width === 4) view.setUint32(off, value, true);
    else view.setBigUint64(off, BigInt(value), true);
  }
  const ring = lib.objectFindMapByName(obj, 'pf_events');
  if (ring !== 0n) lib.mapSetMaxEntries(ring, s.ringBytes);
}

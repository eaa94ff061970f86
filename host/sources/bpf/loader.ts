/**
 * The BPF loader: open → configure → load → attach → read, one teardown path.
 *
 * Hook choice happens here, per logical hook: the families of the mode are
 * probed in order; every variant that passes its probe is loaded, then
 * attached in order until one takes. A program the verifier rejects is
 * dropped and the object reloaded without it (bounded by the number of
 * programs), its reason recorded against its hook.
 */
import { readFileSync, existsSync, openSync, closeSync, readSync } from 'node:fs';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { BPF_OBJECT_PATH } from '../../paths.js';
import { kernelAtLeast, readKernelInfo, type KernelInfo } from '../../kernel/features.js';
import { layoutMismatches, objectStructs, readElf } from './btf.js';
import { decodeRecord, decodeSock, type BpfRecord, type SockRecord } from './decode.js';
import {
  FAMILIES_FOR_MODE, isCgroupSection, KernelProbe, LOGICAL_HOOKS, MIN_KERNEL, MIN_KERNEL_OVERALL, parseProgramName, type Family, type HookMode,
  type LogicalHook,
} from './hooks.js';
import { HOOK_NAMES, LAYOUT, PF_ARGS_MAX, type HookName } from './layout.js';
import { BTF_KIND_TYPEDEF, cString, errnoName, libbpf, viewOf, type Libbpf, type Ptr } from './libbpf.js';
import { RingReader, type RecordHandler } from './ring.js';

/** Where `npm run build:bpf` puts the object. */
export const DEFAULT_OBJECT_PATH = BPF_OBJECT_PATH;

/** Settings of the capture, written into the object before load. */
export interface CaptureSettings {
  /** Compiled object; default bpf/build/procflow.bpf.o. */
  objectPath?: string;
  /** Hook family choice: auto (tp_btf → tracepoint → kprobe), tracepoint, kprobe. */
  hooks?: HookMode;
  /** Total argv bytes kept per exec, elements kept whole (default 4096, max 32768). */
  argsCap?: number;
  /** Host tgid whose own events are not reported (the agent); 0 reports all. */
  ignoreTgid?: number;
  /** UDP: minimum ns between two ring reports of the same peer (default 1 s). */
  udpReportNs?: number;
  /** Ring buffer data size in bytes, a power of two (default 16 MiB). */
  ringBytes?: number;
  /** Exact families to try, in order, overriding `hooks` (tests and the kernel matrix force one family). */
  families?: readonly Family[];
  /** Only these hooks (default: all). Iterators are always loaded. */
  only?: readonly LogicalHook[];
}

/** One attach variant tried for a hook. */
export interface VariantReport {
  family: Family;
  /** Program name → section, e.g. exec__tp_btf → tp_btf/sched_process_exec. */
  programs: Record<string, string>;
  /** What the probe found. */
  probe: string;
  /** Attached and running. */
  attached: boolean;
  /** The kernel's refusal (load or attach), when it refused. */
  error?: string;
}

/** The decision for one logical hook. */
export interface HookReport {
  hook: LogicalHook;
  /** The family in use, or undefined when no variant attached. */
  chosen?: Family;
  /** Attach types in use, e.g. ["tp_btf/sched_process_exec"]. */
  attachTypes: string[];
  /** Why this choice (or why nothing). */
  reason: string;
  /** Minimum kernel of the chosen family. */
  minKernel?: string;
  tried: VariantReport[];
}

/** Seen/dropped counters of one hook, summed over CPUs. */
export interface HookCounter {
  seen: number;
  dropped: number;
}

interface Program {
  ptr: Ptr;
  name: string;
  section: string;
}

const ITERATORS = ['iter_task', 'iter_tcp', 'iter_task_file'] as const;
export type IteratorName = (typeof ITERATORS)[number];

/** A running capture. Create with BpfCapture.start(); close() tears it down. */
export class BpfCapture {
  readonly hooks: HookReport[];
  readonly kernel: KernelInfo;
  /** Boot-clock → wall-clock offset, ns (to turn bootNs into a timestamp). */
  readonly bootToRealtimeNs: number;
  /** Records the decoder did not understand (counted, never silent). */
  malformed = 0;
  private readonly links: Ptr[];
  private readonly iterLinks = new Map<string, Ptr>();
  private ring: RingReader | undefined;
  private closed = false;

  private constructor(
    private readonly lib: Libbpf,
    private readonly obj: Ptr,
    kernel: KernelInfo,
    hooks: HookReport[],
    links: Ptr[],
    private readonly programs: Map<string, Program>,
    private readonly log: Logger,
  ) {
    this.kernel = kernel;
    this.hooks = hooks;
    this.links = links;
    this.bootToRealtimeNs = Number(lib.bootToRealtimeOffsetNs());
  }

  /** Opens, configures, loads and attaches. Throws a ProcflowError; leaves nothing behind on failure. */
  static start(settings: CaptureSettings, log: Logger): BpfCapture {
    const kernel = readKernelInfo({ mountTracefs: true });
    if (kernel.missingCaps.length > 0) throw new ProcflowError(ERRORS.NOT_ROOT, { missing: kernel.missingCaps.join(', ') });
    if (!kernel.btf) throw new ProcflowError(ERRORS.NO_BTF);
    if (!kernelAtLeast(kernel.version, MIN_KERNEL_OVERALL)) {
      throw new ProcflowError(ERRORS.KERNEL_TOO_OLD, { version: kernel.release, feature: 'bpf_loop (used to resolve executable paths)', min: MIN_KERNEL_OVERALL });
    }
    const objectPath = settings.objectPath ?? DEFAULT_OBJECT_PATH;
    if (!existsSync(objectPath)) throw new ProcflowError(ERRORS.BPF_OBJECT_MISSING, { path: objectPath });
    const argsCap = settings.argsCap ?? 4096;
    if (!Number.isInteger(argsCap) || argsCap < 64 || argsCap > PF_ARGS_MAX) {
      throw new ProcflowError(ERRORS.CONFIG_INVALID, { field: 'argsCap', reason: `${argsCap} is out of range`, fix: `Use an integer between 64 and ${PF_ARGS_MAX}.` });
    }
    const ringBytes = settings.ringBytes ?? 16 << 20;
    if (ringBytes < 4096 || (ringBytes & (ringBytes - 1)) !== 0) {
      throw new ProcflowError(ERRORS.CONFIG_INVALID, { field: 'ringBufferSize', reason: `${ringBytes} is not a power of two >= 4096`, fix: 'Use e.g. 16777216 (16 MiB).' });
    }
    const mode = settings.hooks ?? 'auto';
    const lib = libbpf();
    const probe = new KernelProbe(kernel, vmlinuxTypedefLookup(lib));
    const objectFile = readFileSync(objectPath);
    const mismatches = layoutMismatches(objectStructs(objectFile), LAYOUT);
    if (mismatches.length > 0) {
      throw new ProcflowError(ERRORS.BPF_OPEN, { path: objectPath, reason: `its records do not match this decoder (${mismatches.slice(0, 3).join('; ')})` });
    }
    const rodata = rodataOffsets(objectFile);
    const wanted = new Set(settings.only ?? LOGICAL_HOOKS);

    // Plan: per hook, the variants of the mode's families, with their probe results.
    const reports = new Map<LogicalHook, HookReport>();
    for (const hook of LOGICAL_HOOKS) reports.set(hook, { hook, attachTypes: [], reason: '', tried: [] });
    const loadable = new Set<string>();

    let obj = 0n;
    let programs = new Map<string, Program>();
    const excluded = new Map<string, string>(); // program → verifier's reason
    for (let attempt = 0; ; attempt++) {
      // --- open
      obj = lib.objectOpenFile(objectPath);
      if (obj === 0n) throw new ProcflowError(ERRORS.BPF_OPEN, { path: objectPath, reason: errnoName(lib.errno()) });
      programs = listPrograms(lib, obj);
      if (attempt === 0) planVariants(programs, reports, mode, settings.families ?? FAMILIES_FOR_MODE[mode], probe, wanted, loadable);
      // --- configure
      const logs = new Map<string, Buffer>();
      for (const p of programs.values()) {
        const isIter = (ITERATORS as readonly string[]).includes(p.name);
        const on = (isIter || loadable.has(p.name)) && !excluded.has(p.name);
        lib.programSetAutoload(p.ptr, on);
        if (on) {
          const buf = Buffer.alloc(64 * 1024);
          lib.programSetLogBuf(p.ptr, buf, buf.length);
          logs.set(p.name, buf);
        }
      }
      writeRodata(lib, obj, rodata, {
        pf_args_cap: { size: 4, value: BigInt(argsCap) },
        pf_ignore_tgid: { size: 4, value: BigInt(settings.ignoreTgid ?? 0) },
        pf_udp_report_ns: { size: 8, value: BigInt(settings.udpReportNs ?? 1_000_000_000) },
      });
      const ringMap = lib.objectFindMapByName(obj, 'pf_events');
      if (ringMap !== 0n) lib.mapSetMaxEntries(ringMap, ringBytes);
      // --- load
      const rc = lib.objectLoad(obj);
      if (rc === 0) break;
      const failed = [...logs.entries()].find(([name, buf]) => buf[0] !== 0 && !excluded.has(name));
      lib.objectClose(obj);
      obj = 0n;
      if (!failed || (ITERATORS as readonly string[]).includes(failed[0]) || attempt > programs.size) {
        const name = failed?.[0] ?? '(none: no verifier log, so map creation or BTF failed)';
        throw new ProcflowError(ERRORS.BPF_LOAD, {
          program: name,
          reason: `${errnoName(rc)}${failed ? `: ${lastLines(cString(failed[1]))}` : ''}`,
          hint: loadHint(rc, kernel),
        });
      }
      excluded.set(failed[0], `verifier rejected it: ${errnoName(rc)}: ${lastLines(cString(failed[1]))}`);
      log.warn({ program: failed[0], reason: excluded.get(failed[0]) }, 'BPF program rejected; reloading without it');
    }

    // --- attach, per hook in family order until one variant takes
    const links: Ptr[] = [];
    let cgroupFd = -1;
    try {
      for (const report of reports.values()) {
        if (!wanted.has(report.hook)) {
          report.reason = 'not requested';
          continue;
        }
        for (const variant of report.tried) {
          const names = Object.keys(variant.programs);
          const rejected = names.find((n) => excluded.has(n));
          if (rejected) {
            variant.error = `${rejected}: ${excluded.get(rejected)}`;
            continue;
          }
          if (!names.every((n) => loadable.has(n))) continue; // probe said no; reason already in variant.probe
          const got: Ptr[] = [];
          let error: string | undefined;
          for (const name of names) {
            const prog = programs.get(name)!;
            let link: Ptr;
            if (isCgroupSection(prog.section)) {
              if (cgroupFd < 0 && kernel.cgroup2) cgroupFd = openSync(kernel.cgroup2, 'r');
              link = cgroupFd < 0 ? 0n : lib.programAttachCgroup(prog.ptr, cgroupFd);
            } else {
              link = lib.programAttach(prog.ptr);
            }
            if (link === 0n) {
              error = `attach ${prog.section}: ${errnoName(lib.errno())}${cgroupFd < 0 && isCgroupSection(prog.section) ? ' (no cgroup2 mount)' : ''}`;
              break;
            }
            got.push(link);
          }
          if (error) {
            for (const l of got) lib.linkDestroy(l);
            variant.error = refusalText(error, variant.family, kernel);
            continue;
          }
          links.push(...got);
          variant.attached = true;
          report.chosen = variant.family;
          report.attachTypes = Object.values(variant.programs);
          report.minKernel = MIN_KERNEL[report.hook][variant.family];
          const skipped = report.tried.filter((v) => v !== variant && report.tried.indexOf(v) < report.tried.indexOf(variant));
          report.reason = skipped.length === 0
            ? `${variant.family} attached: the first family of hooks=${mode} with a ${report.hook} variant (${variant.probe})`
            : `${variant.family} attached after ${skipped.map((v) => `${v.family} (${v.error ?? v.probe})`).join('; ')}`;
          break;
        }
        if (!report.chosen) {
          report.reason = report.tried.length === 0
            ? `no ${mode} variant of ${report.hook} in the BPF object`
            : `no variant attached: ${report.tried.map((v) => `${v.family}: ${v.error ?? v.probe}`).join('; ')}`;
        }
      }
    } finally {
      if (cgroupFd >= 0) closeSync(cgroupFd);
    }
    const capture = new BpfCapture(lib, obj, kernel, [...reports.values()], links, programs, log);
    try {
      const ringMap = lib.objectFindMapByName(obj, 'pf_events');
      capture.ring = new RingReader(lib.mapFd(ringMap), lib.mapMaxEntries(ringMap));
    } catch (err) {
      capture.close();
      throw err;
    }
    return capture;
  }

  /** Throws PROCFLOW_E_EXEC_HOOK_MISSING unless exec capture is attached; logs every other hook not attached. */
  requireExec(): void {
    for (const h of this.hooks) {
      if (h.chosen || h.reason === 'not requested') continue;
      if (h.hook === 'exec') throw new ProcflowError(ERRORS.EXEC_HOOK_MISSING, { reason: h.reason });
      this.log.warn({ hook: h.hook, code: ERRORS.HOOK_ATTACH.code }, new ProcflowError(ERRORS.HOOK_ATTACH, { hook: h.hook, reasons: h.reason }).message);
    }
  }

  /** Decodes and hands out every record waiting in the ring. */
  poll(onRecord: (rec: BpfRecord) => void, maxRecords?: number): number {
    return this.pollRaw((dv, u8, off, len) => {
      const rec = decodeRecord(dv, u8, off, len);
      if (rec) onRecord(rec);
      else this.malformed++;
    }, maxRecords);
  }

  /** Hands out raw records (for benchmarks and custom decoders). */
  pollRaw(onRecord: RecordHandler, maxRecords?: number): number {
    return this.ring ? this.ring.poll(onRecord, maxRecords) : 0;
  }

  /** Seen/dropped per hook, summed over CPUs. */
  counters(): Record<HookName, HookCounter> {
    const fd = this.mapFd('pf_counters');
    const ncpu = this.lib.numPossibleCpus();
    const stride = LAYOUT.pf_counter.size;
    const value = Buffer.alloc(ncpu * stride);
    const key = Buffer.alloc(4);
    const out = {} as Record<HookName, HookCounter>;
    HOOK_NAMES.forEach((name, i) => {
      key.writeUInt32LE(i);
      value.fill(0);
      this.lib.mapLookupElem(fd, key, value);
      let seen = 0;
      let dropped = 0;
      for (let c = 0; c < ncpu; c++) {
        seen += Number(value.readBigUInt64LE(c * stride));
        dropped += Number(value.readBigUInt64LE(c * stride + 8));
      }
      out[name] = { seen, dropped };
    });
    return out;
  }

  /**
   * Runs a BPF iterator and decodes what it writes (same records as the ring).
   * Returns the number of records. Throws PROCFLOW_E_ITER if the iterator cannot run.
   */
  runIterator(name: IteratorName, onRecord: (rec: BpfRecord) => void): number {
    const prog = this.programs.get(name);
    if (!prog || !this.lib.programAutoload(prog.ptr)) {
      throw new ProcflowError(ERRORS.ITER, { program: name, reason: 'not in the loaded object' });
    }
    let link = this.iterLinks.get(name);
    if (!link) {
      link = this.lib.programAttachIter(prog.ptr);
      if (link === 0n) throw new ProcflowError(ERRORS.ITER, { program: name, reason: errnoName(this.lib.errno()) });
      this.iterLinks.set(name, link);
    }
    const fd = this.lib.iterCreate(this.lib.linkFd(link));
    if (fd < 0) throw new ProcflowError(ERRORS.ITER, { program: name, reason: errnoName(fd) });
    const chunks: Buffer[] = [];
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
    } catch (err) {
      throw new ProcflowError(ERRORS.ITER, { program: name, reason: (err as Error).message }, { cause: err });
    } finally {
      this.lib.close(fd);
    }
    const all = Buffer.concat(chunks);
    const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
    let n = 0;
    for (let off = 0; off + LAYOUT.pf_hdr.size <= all.length; ) {
      const size = dv.getUint32(off + LAYOUT.pf_hdr.fields.size[0], true);
      if (size < LAYOUT.pf_hdr.size || off + size > all.length) {
        this.malformed++;
        break;
      }
      const rec = decodeRecord(dv, all, off, size);
      if (rec) {
        onRecord(rec);
        n++;
      } else this.malformed++;
      off += (size + 7) & ~7;
    }
    return n;
  }

  /** Current cumulative UDP counters per (socket, direction, peer), from map pf_udp_flows. */
  udpFlows(): SockRecord[] {
    const fd = this.mapFd('pf_udp_flows', false);
    if (fd < 0) return [];
    const keySize = LAYOUT.pf_udp_key.size;
    const value = Buffer.alloc(LAYOUT.pf_sock.size);
    const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const out: SockRecord[] = [];
    let key: Buffer | null = null;
    const next = Buffer.alloc(keySize);
    while (this.lib.mapGetNextKey(fd, key, next) === 0) {
      key = Buffer.from(next);
      if (this.lib.mapLookupElem(fd, key, value) !== 0) continue;
      const dir = key[LAYOUT.pf_udp_key.fields.dir[0]];
      out.push(decodeSock(dv, value, 0, dir === 1 ? 'udp_recv' : 'udp_send', dir === 1 ? 'udp_recv' : 'udp_send',
        dv.getUint32(8, true) + dv.getUint32(12, true) * 0x1_0000_0000));
    }
    return out;
  }

  /** Wall-clock ms of a boot-clock ns timestamp. */
  wallMs(bootNs: number): number {
    return (bootNs + this.bootToRealtimeNs) / 1e6;
  }

  private mapFd(name: string, required = true): number {
    const map = this.lib.objectFindMapByName(this.obj, name);
    if (map === 0n) {
      if (required) throw new Error(`map ${name} missing from the BPF object`);
      return -1;
    }
    return this.lib.mapFd(map);
  }

  /** Detaches everything and frees the object. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring?.close();
    for (const l of this.iterLinks.values()) this.lib.linkDestroy(l);
    for (const l of this.links) this.lib.linkDestroy(l);
    this.lib.objectClose(this.obj);
    this.log.debug('BPF capture closed');
  }
}

function listPrograms(lib: Libbpf, obj: Ptr): Map<string, Program> {
  const programs = new Map<string, Program>();
  for (let p = lib.objectNextProgram(obj, 0n); p !== 0n; p = lib.objectNextProgram(obj, p)) {
    const name = lib.programName(p);
    programs.set(name, { ptr: p, name, section: lib.programSectionName(p) });
  }
  return programs;
}

function planVariants(
  programs: Map<string, Program>, reports: Map<LogicalHook, HookReport>, mode: HookMode, families: readonly Family[],
  probe: KernelProbe, wanted: Set<LogicalHook>, loadable: Set<string>,
): void {
  const byVariant = new Map<string, Program[]>();
  for (const p of programs.values()) {
    const parsed = parseProgramName(p.name);
    if (!parsed) continue;
    const key = `${parsed.hook}__${parsed.family}`;
    byVariant.set(key, [...(byVariant.get(key) ?? []), p]);
  }
  for (const report of reports.values()) {
    if (!wanted.has(report.hook)) continue;
    for (const family of families) {
      const progs = byVariant.get(`${report.hook}__${family}`);
      if (!progs) continue;
      const probes = progs.map((p) => probe.probe(p.section));
      const failed = probes.find((r) => !r.ok);
      report.tried.push({
        family,
        programs: Object.fromEntries(progs.map((p) => [p.name, p.section])),
        probe: failed ? failed.reason : probes.map((r) => r.reason).filter((r, i, a) => a.indexOf(r) === i).join(', '),
        attached: false,
      });
      // tp_btf/raw_tp programs fail to LOAD when their tracepoint is missing: never load those.
      // Others load anywhere; in forced modes they are attached anyway so the kernel's own refusal is reported.
      const unloadable = progs.some((p, i) => !probes[i].ok && /^(tp_btf|raw_tp|raw_tracepoint)\//.test(p.section));
      if (!unloadable && (!failed || mode !== 'auto')) for (const p of progs) loadable.add(p.name);
    }
  }
}

function refusalText(error: string, family: Family, kernel: KernelInfo): string {
  if (family === 'kprobe' && !kernel.kprobes) {
    return `${error}: the kernel refused the kprobe: it is built without CONFIG_KPROBES (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)`;
  }
  return error;
}

function loadHint(rc: number, kernel: KernelInfo): string {
  if (Math.abs(rc) === 1) return 'EPERM at load: check CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and kernel lockdown.';
  return `Kernel ${kernel.release}; procflow needs Linux 5.17+ with BTF. Run \`procflow check\` for details.`;
}

function lastLines(log: string, n = 4): string {
  return log.trim().split('\n').slice(-n).join(' | ');
}

function vmlinuxTypedefLookup(lib: Libbpf): (name: string) => boolean {
  let btf: Ptr | undefined;
  return (name) => {
    if (btf === undefined) btf = lib.loadVmlinuxBtf();
    return btf !== 0n && lib.btfFindByNameKind(btf, name, BTF_KIND_TYPEDEF) > 0;
  };
}

/** Offsets of `const volatile` settings in .rodata, from the object's symbol table. */
function rodataOffsets(objectFile: Buffer): Map<string, number> {
  const { symbols } = readElf(objectFile);
  return new Map(symbols.filter((s) => s.section === '.rodata' && s.name.startsWith('pf_')).map((s) => [s.name, s.value]));
}

function writeRodata(
  lib: Libbpf, obj: Ptr, offsets: Map<string, number>, values: Record<string, { size: 4 | 8; value: bigint }>,
): void {
  let rodata = 0n;
  for (let m = lib.objectNextMap(obj, 0n); m !== 0n; m = lib.objectNextMap(obj, m)) {
    if (lib.mapName(m).endsWith('.rodata')) rodata = m;
  }
  if (rodata === 0n) throw new Error('BPF object has no .rodata map: settings cannot be applied');
  const size = [0n];
  const ptr = lib.mapInitialValue(rodata, size);
  const view = new DataView(viewOf(ptr, Number(size[0])));
  for (const [name, { size: width, value }] of Object.entries(values)) {
    const off = offsets.get(name);
    if (off === undefined) throw new Error(`setting ${name} missing from the BPF object's .rodata`);
    if (width === 4) view.setUint32(off, Number(value), true);
    else view.setBigUint64(off, value, true);
  }
}

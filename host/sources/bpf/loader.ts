/**
 * The BPF loader: open → configure → load → attach → read, one teardown path.
 *
 * Hook choice happens here, per logical hook: the families of the mode are
 * probed in order; every variant that passes its probe is loaded, then
 * attached in order until one takes. A program the verifier rejects is
 * dropped and the object reloaded without it (bounded by the number of
 * programs), its reason recorded against its hook.
 */
import { existsSync, readFileSync, readSync } from 'node:fs';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { kernelAtLeast, readKernelInfo, type KernelInfo } from '../../kernel/features.js';
import { layoutMismatches, objectStructs } from './btf.js';
import { decodeRecord, decodeSock, decodeStream, type BpfRecord, type SockRecord } from './decode.js';
import { HookPlan, listPrograms, type HookReport, type Program } from './hook-plan.js';
import { KernelProbe, MIN_KERNEL_OVERALL } from './hooks.js';
import { HOOK_NAMES, LAYOUT, type HookName } from './layout.js';
import { BTF_KIND_TYPEDEF, cString, errnoName, libbpf, type Libbpf, type Ptr } from './libbpf.js';
import { RingReader, type RecordHandler } from './ring.js';
import { resolveSettings, rodataOffsets, writeSettings, type CaptureSettings } from './settings.js';

export type { CaptureSettings } from './settings.js';
export type { HookReport, VariantReport } from './hook-plan.js';

/** Where `npm run build:bpf` puts the object. */
export { BPF_OBJECT_PATH as DEFAULT_OBJECT_PATH } from '../../paths.js';

/** Seen/dropped counters of one hook, summed over CPUs. */
export interface HookCounter {
  seen: number;
  dropped: number;
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
    // --- preconditions and settings
    const kernel = readKernelInfo({ mountTracefs: true });
    if (kernel.missingCaps.length > 0) throw new ProcflowError(ERRORS.NOT_ROOT, { missing: kernel.missingCaps.join(', ') });
    if (!kernel.btf) throw new ProcflowError(ERRORS.NO_BTF);
    if (!kernelAtLeast(kernel.version, MIN_KERNEL_OVERALL)) {
      throw new ProcflowError(ERRORS.KERNEL_TOO_OLD, { version: kernel.release, feature: 'bpf_loop (used to resolve executable paths)', min: MIN_KERNEL_OVERALL });
    }
    const s = resolveSettings(settings);
    if (!existsSync(s.objectPath)) throw new ProcflowError(ERRORS.BPF_OBJECT_MISSING, { path: s.objectPath });
    const objectFile = readFileSync(s.objectPath);
    const mismatches = layoutMismatches(objectStructs(objectFile), LAYOUT);
    if (mismatches.length > 0) {
      throw new ProcflowError(ERRORS.BPF_OPEN, { path: s.objectPath, reason: `its records do not match this decoder (${mismatches.slice(0, 3).join('; ')})` });
    }
    const rodata = rodataOffsets(objectFile);
    const lib = libbpf();
    const vmlinux = vmlinuxTypedefs(lib);
    const probe = new KernelProbe(kernel, vmlinux.has);

    // --- open → configure → load; a program the verifier rejects is dropped and the object reopened.
    let plan: HookPlan | undefined;
    let obj = 0n;
    let programs = new Map<string, Program>();
    for (let attempt = 0; ; attempt++) {
      obj = lib.objectOpenFile(s.objectPath);
      if (obj === 0n) throw new ProcflowError(ERRORS.BPF_OPEN, { path: s.objectPath, reason: errnoName(lib.errno()) });
      programs = listPrograms(lib, obj);
      if (!plan) {
        plan = new HookPlan(programs, s.mode, s.families, probe, s.only);
        vmlinux.free(); // probing is over
      }
      const logs = new Map<string, Buffer>();
      for (const p of programs.values()) {
        const on = plan.shouldLoad(p.name, isIterator(p.name));
        lib.programSetAutoload(p.ptr, on);
        if (!on) continue;
        const buf = Buffer.alloc(64 * 1024);
        lib.programSetLogBuf(p.ptr, buf, buf.length);
        logs.set(p.name, buf);
      }
      writeSettings(lib, obj, rodata, s);
      const rc = lib.objectLoad(obj);
      if (rc === 0) break;
      lib.objectClose(obj);
      const failed = [...logs.entries()].find(([name, buf]) => buf[0] !== 0 && !plan!.isRejected(name));
      if (!failed || isIterator(failed[0]) || attempt > programs.size) {
        throw new ProcflowError(ERRORS.BPF_LOAD, {
          program: failed?.[0] ?? '(none: no verifier log, so map creation or BTF failed)',
          reason: `${errnoName(rc)}${failed ? `: ${lastLines(cString(failed[1]))}` : ''}`,
          hint: loadHint(rc, kernel),
        });
      }
      const reason = `verifier rejected it: ${errnoName(rc)}: ${lastLines(cString(failed[1]))}`;
      plan.reject(failed[0], reason);
      log.warn({ program: failed[0], reason }, 'BPF program rejected; reloading without it');
    }

    // --- attach → read
    let links: Ptr[] = [];
    try {
      links = plan.attach(lib, programs, kernel);
      const capture = new BpfCapture(lib, obj, kernel, [...plan.reports.values()], links, programs, log);
      const ringMap = lib.objectFindMapByName(obj, 'pf_events');
      capture.ring = new RingReader(lib.mapFd(ringMap), lib.mapMaxEntries(ringMap));
      return capture;
    } catch (err) {
      for (const l of links) lib.linkDestroy(l);
      lib.objectClose(obj);
      throw err;
    }
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
    const { records, malformed } = decodeStream(Buffer.concat(chunks), onRecord);
    this.malformed += malformed;
    return records;
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

function loadHint(rc: number, kernel: KernelInfo): string {
  if (Math.abs(rc) === 1) return 'EPERM at load: check CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), and kernel lockdown.';
  return `Kernel ${kernel.release}; procflow needs Linux 5.17+ with BTF. Run \`procflow check\` for details.`;
}

function lastLines(log: string, n = 4): string {
  return log.trim().split('\n').slice(-n).join(' | ');
}

/** Typedef lookups in the kernel's BTF (btf_trace_<tracepoint>), loaded on first use. */
function vmlinuxTypedefs(lib: Libbpf): { has: (name: string) => boolean; free: () => void } {
  let btf: Ptr | undefined;
  return {
    has: (name) => {
      btf ??= lib.loadVmlinuxBtf();
      return btf !== 0n && lib.btfFindByNameKind(btf, name, BTF_KIND_TYPEDEF) > 0;
    },
    free: () => {
      if (btf) lib.btfFree(btf);
      btf = undefined;
    },
  };
}

function isIterator(name: string): boolean {
  return (ITERATORS as readonly string[]).includes(name);
}

/**
 * The per-hook plan: which variants each logical hook may use, which programs
 * to load, and the attach pass that takes the first variant the kernel
 * accepts. Every decision is recorded in a HookReport, with its reason.
 */
import { closeSync, openSync } from 'node:fs';
import type { KernelInfo } from '../../kernel/features.js';
import {
  isCgroupSection, LOGICAL_HOOKS, MIN_KERNEL, parseProgramName, type Family, type HookMode, type KernelProbe,
  type LogicalHook,
} from './hooks.js';
import { errnoName, type Libbpf, type Ptr } from './libbpf.js';

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

/** A program of the opened object. */
export interface Program {
  ptr: Ptr;
  name: string;
  section: string;
}

/** The programs of an opened object, by name. */
export function listPrograms(lib: Libbpf, obj: Ptr): Map<string, Program> {
  const programs = new Map<string, Program>();
  for (let p = lib.objectNextProgram(obj, 0n); p !== 0n; p = lib.objectNextProgram(obj, p)) {
    const name = lib.programName(p);
    programs.set(name, { ptr: p, name, section: lib.programSectionName(p) });
  }
  return programs;
}

// tp_btf / raw_tp programs fail to LOAD when their tracepoint is missing: never load those.
const NEEDS_TRACEPOINT_AT_LOAD = /^(tp_btf|raw_tp|raw_tracepoint)\//;

/** Hook choice for one capture: planned from probes, refined by load and attach. */
export class HookPlan {
  readonly reports = new Map<LogicalHook, HookReport>();
  private readonly loadable = new Set<string>();
  /** Programs the verifier rejected, with its reason. */
  private readonly rejected = new Map<string, string>();

  constructor(
    programs: Map<string, Program>,
    private readonly mode: HookMode,
    families: readonly Family[],
    probe: KernelProbe,
    private readonly wanted: ReadonlySet<LogicalHook>,
  ) {
    const byVariant = new Map<string, Program[]>();
    for (const p of programs.values()) {
      const parsed = parseProgramName(p.name);
      if (!parsed) continue;
      const key = `${parsed.hook}__${parsed.family}`;
      byVariant.set(key, [...(byVariant.get(key) ?? []), p]);
    }
    for (const hook of LOGICAL_HOOKS) {
      const report: HookReport = { hook, attachTypes: [], reason: wanted.has(hook) ? '' : 'not requested', tried: [] };
      this.reports.set(hook, report);
      if (!wanted.has(hook)) continue;
      for (const family of families) {
        const progs = byVariant.get(`${hook}__${family}`);
        if (!progs) continue;
        const probes = progs.map((p) => probe.probe(p.section));
        const failed = probes.find((r) => !r.ok);
        report.tried.push({
          family,
          programs: Object.fromEntries(progs.map((p) => [p.name, p.section])),
          probe: failed ? failed.reason : [...new Set(probes.map((r) => r.reason))].join(', '),
          attached: false,
        });
        // In forced modes, variants the probe doubts are still attached, so the kernel's own refusal is reported.
        const unloadable = progs.some((p, i) => !probes[i].ok && NEEDS_TRACEPOINT_AT_LOAD.test(p.section));
        if (!unloadable && (!failed || mode === 'kprobe' || mode === 'tracepoint')) for (const p of progs) this.loadable.add(p.name);
      }
    }
  }

  /** Whether `name` should be loaded (always true for iterators). */
  shouldLoad(name: string, isIterator: boolean): boolean {
    return (isIterator || this.loadable.has(name)) && !this.rejected.has(name);
  }

  /** Records a verifier rejection; the object is then reloaded without the program. */
  reject(name: string, reason: string): void {
    this.rejected.set(name, reason);
  }

  isRejected(name: string): boolean {
    return this.rejected.has(name);
  }

  /**
   * Attaches, per hook, the first variant whose programs all attach. Returns
   * the links; on an exception, destroys the links it made before rethrowing.
   */
  attach(lib: Libbpf, programs: Map<string, Program>, kernel: KernelInfo): Ptr[] {
    const links: Ptr[] = [];
    let cgroupFd = -1;
    const attachOne = (prog: Program): Ptr => {
      if (!isCgroupSection(prog.section)) return lib.programAttach(prog.ptr);
      if (cgroupFd < 0 && kernel.cgroup2) cgroupFd = openSync(kernel.cgroup2, 'r');
      return cgroupFd < 0 ? 0n : lib.programAttachCgroup(prog.ptr, cgroupFd);
    };
    try {
      for (const report of this.reports.values()) {
        if (!this.wanted.has(report.hook)) continue;
        for (const variant of report.tried) {
          const names = Object.keys(variant.programs);
          const rejected = names.find((n) => this.rejected.has(n));
          if (rejected) {
            variant.error = `${rejected}: ${this.rejected.get(rejected)}`;
            continue;
          }
          if (!names.every((n) => this.loadable.has(n))) continue; // the probe said no: its reason is in variant.probe
          const got: Ptr[] = [];
          for (const name of names) {
            const prog = programs.get(name)!;
            const link = attachOne(prog);
            if (link === 0n) {
              const noCgroup = isCgroupSection(prog.section) && cgroupFd < 0 ? ' (no cgroup2 mount)' : '';
              variant.error = refusalText(`attach ${prog.section}: ${errnoName(lib.errno())}${noCgroup}`, variant.family, kernel);
              break;
            }
            got.push(link);
          }
          if (variant.error) {
            for (const l of got) lib.linkDestroy(l);
            continue;
          }
          links.push(...got);
          this.choose(report, variant);
          break;
        }
        if (!report.chosen) {
          report.reason = report.tried.length === 0
            ? `no ${this.mode} variant of ${report.hook} in the BPF object`
            : `no variant attached: ${report.tried.map((v) => `${v.family}: ${v.error ?? v.probe}`).join('; ')}`;
        }
      }
      return links;
    } catch (err) {
      for (const l of links) lib.linkDestroy(l);
      throw err;
    } finally {
      if (cgroupFd >= 0) closeSync(cgroupFd);
    }
  }

  private choose(report: HookReport, variant: VariantReport): void {
    variant.attached = true;
    report.chosen = variant.family;
    report.attachTypes = Object.values(variant.programs);
    report.minKernel = MIN_KERNEL[report.hook][variant.family];
    const before = report.tried.slice(0, report.tried.indexOf(variant));
    report.reason = before.length === 0
      ? `${variant.family} attached: the first family of hooks=${this.mode} with a ${report.hook} variant (${variant.probe})`
      : `${variant.family} attached after ${before.map((v) => `${v.family} (${v.error ?? v.probe})`).join('; ')}`;
  }
}

function refusalText(error: string, family: Family, kernel: KernelInfo): string {
  if (family === 'kprobe' && !kernel.kprobes) {
    return `${error}: the kernel refused the kprobe: it is built without CONFIG_KPROBES (no kprobe PMU in /sys/bus/event_source/devices, no kprobe_events in tracefs)`;
  }
  return error;
}

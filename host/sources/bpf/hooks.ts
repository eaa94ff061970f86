/**
 * The logical hooks and their attach variants. Programs in the BPF object are
 * named `<hook>__<family>[__<suffix>]`; a variant is every program of one
 * hook and family, attached together. Which variant runs is decided here, per
 * hook, from kernel probes — and recorded with the reason.
 */
import { readFileSync } from 'node:fs';
import type { KernelInfo } from '../../kernel/features.js';

/** Hooks that capture events continuously (iterators are run on demand). */
export const LOGICAL_HOOKS = ['exec', 'exit', 'tcp_connect', 'tcp_accept', 'tcp_close', 'udp_send', 'udp_recv'] as const;
export type LogicalHook = (typeof LOGICAL_HOOKS)[number];

/** Attach families, in the order `auto` tries them. */
export const FAMILIES = ['tp_btf', 'tp', 'kprobe'] as const;
export type Family = (typeof FAMILIES)[number];

/** The `hooks` setting / `--hooks` flag. */
export type HookMode = 'auto' | 'tracepoint' | 'kprobe';
export const HOOK_MODES: readonly HookMode[] = ['auto', 'tracepoint', 'kprobe'];

/** Families tried for each mode, in order. */
export const FAMILIES_FOR_MODE: Record<HookMode, readonly Family[]> = {
  auto: ['tp_btf', 'tp', 'kprobe'],
  tracepoint: ['tp_btf', 'tp'],
  kprobe: ['kprobe'],
};

/** The minimum kernel of each family per hook, as the programs are written (see README). */
export const MIN_KERNEL: Record<LogicalHook, Record<Family, string>> = {
  exec: { tp_btf: '5.17', tp: '5.17', kprobe: '5.17' },
  exit: { tp_btf: '5.11', tp: '5.11', kprobe: '5.11' },
  tcp_connect: { tp_btf: '5.12', tp: '5.12', kprobe: '5.12' },
  tcp_accept: { tp_btf: '5.12', tp: '5.12', kprobe: '5.12' },
  tcp_close: { tp_btf: '5.12', tp: '5.12', kprobe: '5.12' },
  udp_send: { tp_btf: '6.3', tp: '6.3', kprobe: '5.12' },
  udp_recv: { tp_btf: '6.3', tp: '6.3', kprobe: '5.12' },
};

/** Kernel features everything needs, with the first kernel that has them. */
export const BASE_FEATURES = [
  { feature: 'BTF for CO-RE (/sys/kernel/btf/vmlinux)', min: '5.2' },
  { feature: 'BPF ring buffer', min: '5.8' },
  { feature: 'bpf_loop (executable path walk)', min: '5.17' },
  { feature: 'BPF iterators task / task_file', min: '5.8' },
  { feature: 'BPF iterator tcp', min: '5.9' },
  { feature: 'sleepable task iterator with bpf_copy_from_user_task (argv of running processes)', min: '5.18' },
] as const;

/** The overall minimum kernel: the largest of the base features. */
export const MIN_KERNEL_OVERALL = '5.17';

/** A program name split into its parts, or undefined for non-hook programs (iterators). */
export function parseProgramName(name: string): { hook: LogicalHook; family: Family; suffix: string } | undefined {
  const [hook, family, ...rest] = name.split('__');
  if (!(LOGICAL_HOOKS as readonly string[]).includes(hook)) return undefined;
  if (!(FAMILIES as readonly string[]).includes(family)) return undefined;
  return { hook: hook as LogicalHook, family: family as Family, suffix: rest.join('__') };
}

/** True for programs attached to a cgroup rather than auto-attached by section. */
export function isCgroupSection(section: string): boolean {
  return section.startsWith('cgroup/') || section.startsWith('cgroup_skb/') || section === 'sockops';
}

/** Answers "does this kernel have X" questions for the probes, caching expensive reads. */
export class KernelProbe {
  /** /proc/kallsyms text, read once. Searched rather than split: a few lookups, ~200k lines. */
  private kallsyms: string | undefined;

  constructor(
    readonly kernel: KernelInfo,
    /** Looks up a typedef in vmlinux BTF (btf_trace_<tracepoint>). */
    private readonly hasBtfTypedef: (name: string) => boolean,
  ) {}

  private symbol(name: string): boolean {
    if (this.kallsyms === undefined) {
      try {
        this.kallsyms = readFileSync('/proc/kallsyms', 'utf8');
      } catch {
        this.kallsyms = ''; // no kallsyms: every symbol probe fails with that reason
      }
    }
    // Lines are "address type name" or "address type name\t[module]": the name follows the
    // one-letter type and a space, and ends the line or precedes a tab.
    const text = this.kallsyms;
    const needle = ` ${name}`;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      const end = i + needle.length;
      const after = end < text.length ? text.charCodeAt(end) : 10;
      if ((after === 10 || after === 9) && i >= 2 && text.charCodeAt(i - 2) === 32) return true;
    }
    return false;
  }

  private tracepoint(category: string, name: string): boolean {
    if (!this.kernel.tracefs) return false;
    try {
      readFileSync(`${this.kernel.tracefs}/events/${category}/${name}/id`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the program of `section` can be attached here, and why not. The
   * probe is advisory: the attach attempt is the final word, and its errno is
   * what `check` reports.
   */
  probe(section: string): { ok: boolean; reason: string } {
    const [kind, ...parts] = section.split('/');
    const target = parts.join('/');
    switch (kind) {
      case 'tp_btf':
        return this.hasBtfTypedef(`btf_trace_${target}`)
          ? { ok: true, reason: `BTF tracepoint ${target} present` }
          : { ok: false, reason: `BTF tracepoint ${target} is not in this kernel (btf_trace_${target} missing from vmlinux BTF)` };
      case 'raw_tp':
      case 'raw_tracepoint':
        return this.hasBtfTypedef(`btf_trace_${target}`)
          ? { ok: true, reason: `raw tracepoint ${target} present` }
          : { ok: false, reason: `raw tracepoint ${target} is not in this kernel` };
      case 'tp':
      case 'tracepoint': {
        if (!this.kernel.tracefs) return { ok: false, reason: 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)' };
        const [cat, name] = parts;
        return this.tracepoint(cat, name)
          ? { ok: true, reason: `tracepoint ${cat}/${name} present` }
          : { ok: false, reason: `tracepoint ${cat}/${name} is not in ${this.kernel.tracefs}/events` };
      }
      case 'kprobe':
      case 'kretprobe':
      case 'ksyscall':
      case 'kretsyscall': {
        if (!this.kernel.kprobes) {
          return { ok: false, reason: 'the kernel has no kprobe support (CONFIG_KPROBES is not set: no kprobe PMU, no kprobe_events)' };
        }
        const fn = kind.endsWith('syscall') ? `__x64_sys_${target}` : target;
        const alt = kind.endsWith('syscall') ? `sys_${target}` : target;
        return this.symbol(fn) || this.symbol(alt)
          ? { ok: true, reason: `kprobes supported, ${fn} in kallsyms` }
          : { ok: false, reason: `kernel function ${fn} not found in /proc/kallsyms` };
      }
      case 'cgroup':
      case 'cgroup_skb':
      case 'sockops':
        return this.kernel.cgroup2
          ? { ok: true, reason: `cgroup2 mounted at ${this.kernel.cgroup2}` }
          : { ok: false, reason: 'no cgroup2 mount for cgroup sock_addr hooks (mount -t cgroup2 none /sys/fs/cgroup/unified)' };
      default:
        return { ok: true, reason: `section ${section}` };
    }
  }
}

/**
 * What the running kernel and process offer: version, BTF, capabilities,
 * tracefs / cgroup2 mounts, kprobe support, PID namespace. Pure readers of
 * /proc and /sys with the parsing split out so fixtures can test it.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Capability bits procflow cares about (linux/capability.h). */
export const CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type CapName = keyof typeof CAPS;

/** Inode of the initial (host) PID namespace, PROC_PID_INIT_INO. */
export const HOST_PID_NS_INODE = 0xeffffffc;

/** Parses the CapEff line of /proc/self/status into the set of capability names held. */
export function parseCapEff(status: string): Set<CapName> {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const held = new Set<CapName>();
  if (!m) return held;
  const bits = BigInt(`0x${m[1]}`);
  for (const [name, bit] of Object.entries(CAPS)) if ((bits >> BigInt(bit)) & 1n) held.add(name as CapName);
  return held;
}

/** Capabilities BPF capture needs that the process lacks (SYS_ADMIN stands in for BPF+PERFMON on old kernels). */
export function missingCaps(held: Set<CapName>): CapName[] {
  if (held.has('CAP_SYS_ADMIN')) return held.has('CAP_NET_ADMIN') ? [] : ['CAP_NET_ADMIN'];
  return (['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN'] as const).filter((c) => !held.has(c));
}

/** "6.18.44-fc" → [6, 18, 44]. */
export function parseKernelVersion(release: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

/** True when kernel `v` is at least `min` ("5.17"). */
export function kernelAtLeast(v: readonly number[], min: string): boolean {
  const [a, b] = min.split('.').map(Number);
  return v[0] > a || (v[0] === a && v[1] >= b);
}

/** Mount points by filesystem type, from /proc/self/mounts text. */
export function parseMounts(text: string): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [, mnt, type] = line.split(' ');
    if (!type) continue;
    const list = byType.get(type) ?? [];
    list.push(mnt.replace(/\\040/g, ' '));
    byType.set(type, list);
  }
  return byType;
}

/** PID namespace inode from a /proc/self/ns/pid link target ("pid:[4026531836]"). */
export function parsePidNsLink(link: string): number | undefined {
  const m = /^pid:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** A snapshot of the kernel facts procflow decides on. */
export interface KernelInfo {
  release: string;
  version: [number, number, number];
  btf: boolean;
  caps: Set<CapName>;
  missingCaps: CapName[];
  tracefs: string | undefined;
  cgroup2: string | undefined;
  /** perf kprobe PMU or tracefs kprobe_events present (CONFIG_KPROBES). */
  kprobes: boolean;
  /** /proc shows the host's PID namespace, so BPF pids can be looked up there. */
  hostPidNs: boolean;
  pidNsInode: number | undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Finds or mounts tracefs; returns its mount point or undefined (reason in `why`). */
export function ensureTracefs(mounts: Map<string, string[]>, why: string[] = []): string | undefined {
  const existing = mounts.get('tracefs')?.[0];
  if (existing) return existing;
  const target = '/sys/kernel/tracing';
  if (!existsSync(target)) {
    why.push(`${target} does not exist (kernel without CONFIG_TRACING)`);
    return undefined;
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', target], { stdio: 'pipe' });
    return target;
  } catch (err) {
    why.push(`mount -t tracefs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    return undefined;
  }
}

/** Reads the kernel facts. Mounts tracefs when allowed and absent (root only). */
export function readKernelInfo(options: { mountTracefs?: boolean } = {}): KernelInfo {
  const release = read('/proc/sys/kernel/osrelease').trim();
  const caps = parseCapEff(read('/proc/self/status'));
  const mounts = parseMounts(read('/proc/self/mounts'));
  const tracefs = options.mountTracefs && missingCaps(caps).length === 0 ? ensureTracefs(mounts) : mounts.get('tracefs')?.[0];
  let pidNsInode: number | undefined;
  try {
    pidNsInode = parsePidNsLink(readlinkSync('/proc/self/ns/pid'));
  } catch {
    pidNsInode = undefined;
  }
  return {
    release,
    version: parseKernelVersion(release),
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    caps,
    missingCaps: missingCaps(caps),
    tracefs,
    cgroup2: mounts.get('cgroup2')?.[0],
    kprobes: existsSync('/sys/bus/event_source/devices/kprobe/type') || (tracefs !== undefined && existsSync(`${tracefs}/kprobe_events`)),
    hostPidNs: pidNsInode === HOST_PID_NS_INODE,
    pidNsInode,
  };
}

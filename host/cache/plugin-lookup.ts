/**
 * The process cache as plugins see it (the host world's `get-process`,
 * `process-chain`, `flow-process`): executable path, arguments after the
 * host's floor redaction (the contract says lookups never carry raw secrets),
 * uid, and the cgroup v2 path resolved from the id the kernel reported.
 */
import { readKernelInfo } from '../kernel/features.js';
import type { ProcessInfo as PluginProcess, ProcessLookup } from '../plugins/chain.js';
import { redactArgv } from '../redact/redactor.js';
import { CgroupPaths } from './cgroup-paths.js';
import type { ProcessCache } from './process-cache.js';

/** A cgroup id resolver on this host's cgroup2 mount, or undefined when there is none. */
export function hostCgroupPaths(): CgroupPaths | undefined {
  const root = readKernelInfo().cgroup2;
  return root ? new CgroupPaths({ root }) : undefined;
}

/** Answers the plugins' lookups from the process cache (newest incarnation of a pid). */
export class PluginProcessLookup implements ProcessLookup {
  constructor(
    private readonly cache: ProcessCache,
    /** Resolves cgroup ids from BPF records; without it only /proc-read paths are known. */
    private readonly cgroups: CgroupPaths | undefined,
  ) {}

  get(pid: number): PluginProcess | undefined {
    const p = this.cache.peek(pid);
    if (!p) return undefined;
    return {
      pid: p.pid,
      ppid: p.ppid,
      name: p.path || p.comm,
      args: p.argv.length > 0 ? redactArgv(p.argv).argv.slice(1) : [],
      cgroup: p.cgroupPath ?? (p.cgroupId ? this.cgroups?.resolve(p.cgroupId) : undefined) ?? '',
      uid: p.uid,
    };
  }
}

/**
 * `procflow check`: what this kernel and this process allow, and which hook
 * each logical hook would use (by really loading and attaching, so a refusal
 * is the kernel's own). Exit 0 when exec capture works.
 */
import { ERRORS, isProcflowError, ProcflowError } from '../errors.js';
import type { Logger } from '../log.js';
import { kernelAtLeast, readKernelInfo, type KernelInfo } from '../kernel/features.js';
import { BASE_FEATURES, MIN_KERNEL_OVERALL, type HookMode } from '../sources/bpf/hooks.js';
import { BpfCapture, type CaptureSettings, type HookReport, type IteratorName } from '../sources/bpf/loader.js';

/** The report `check --json` prints. */
export interface CheckReport {
  ok: boolean;
  kernel: { release: string; btf: boolean; minimum: string; meetsMinimum: boolean };
  features: { feature: string; min: string; ok: boolean }[];
  capabilities: { present: string[]; missing: string[] };
  pidNamespace: { host: boolean; inode: number | null; effect: string };
  tracefs: string | null;
  cgroup2: string | null;
  kprobes: boolean;
  hookMode: HookMode;
  hooks: Record<string, Omit<HookReport, 'hook'>>;
  iterators: Record<string, { ok: boolean; records?: number; error?: string }>;
  errors: { code: string; message: string }[];
}

function pidNsEffect(k: KernelInfo): string {
  return k.hostPidNs
    ? '/proc is the host PID namespace: processes running before the agent are read from the kernel iterator, /proc as fallback'
    : 'not the host PID namespace: /proc is never read for BPF pids; processes started before the agent come from the BPF task iterator where it works, else they fall back to the task name (comm) with empty args';
}

/** Builds the check report; never throws for kernel problems (they go into `errors`). */
export function runCheck(settings: CaptureSettings & { hooks: HookMode }, log: Logger): CheckReport {
  const kernel = readKernelInfo({ mountTracefs: true });
  const report: CheckReport = {
    ok: false,
    kernel: {
      release: kernel.release,
      btf: kernel.btf,
      minimum: MIN_KERNEL_OVERALL,
      meetsMinimum: kernelAtLeast(kernel.version, MIN_KERNEL_OVERALL),
    },
    features: BASE_FEATURES.map((f) => ({ ...f, ok: kernelAtLeast(kernel.version, f.min) })),
    capabilities: { present: [...kernel.caps], missing: kernel.missingCaps },
    pidNamespace: { host: kernel.hostPidNs, inode: kernel.pidNsInode ?? null, effect: pidNsEffect(kernel) },
    tracefs: kernel.tracefs ?? null,
    cgroup2: kernel.cgroup2 ?? null,
    kprobes: kernel.kprobes,
    hookMode: settings.hooks,
    hooks: {},
    iterators: {},
    errors: [],
  };
  let capture: BpfCapture | undefined;
  try {
    capture = BpfCapture.start({ ...settings, ignoreTgid: kernel.hostPidNs ? process.pid : 0 }, log);
    for (const h of capture.hooks) {
      const { hook, ...rest } = h;
      report.hooks[hook] = rest;
    }
    for (const it of ['iter_task', 'iter_tcp', 'iter_task_file'] as IteratorName[]) {
      try {
        report.iterators[it] = { ok: true, records: capture.runIterator(it, () => {}) };
      } catch (err) {
        report.iterators[it] = { ok: false, error: (err as Error).message };
      }
    }
    const exec = capture.hooks.find((h) => h.hook === 'exec');
    report.ok = exec?.chosen !== undefined;
    if (!report.ok) {
      const err = new ProcflowError(ERRORS.EXEC_HOOK_MISSING, { reason: exec?.reason ?? 'no exec hook in the object' });
      report.errors.push({ code: err.code, message: err.message });
    }
  } catch (err) {
    if (!isProcflowError(err)) throw err;
    report.errors.push({ code: err.code, message: err.message });
  } finally {
    capture?.close();
  }
  return report;
}

/** Human-readable rendering of a check report. */
export function formatCheck(r: CheckReport): string {
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  lines.push(`kernel      ${r.kernel.release} (procflow needs ${r.kernel.minimum}+: ${r.kernel.meetsMinimum ? 'yes' : 'NO'}); BTF ${r.kernel.btf ? 'present' : 'MISSING'}`);
  for (const f of r.features) lines.push(`  ${mark(f.ok)} ${f.feature} (Linux ${f.min}+)`);
  lines.push(`caps        present: ${r.capabilities.present.join(', ') || 'none'}; missing: ${r.capabilities.missing.join(', ') || 'none'}`);
  lines.push(`pid ns      ${r.pidNamespace.host ? 'host' : 'NOT host'}: ${r.pidNamespace.effect}`);
  lines.push(`tracefs     ${r.tracefs ?? 'not mounted'}; cgroup2 ${r.cgroup2 ?? 'not mounted'}; kprobes ${r.kprobes ? 'supported' : 'NOT supported (no CONFIG_KPROBES)'}`);
  lines.push(`hooks       mode ${r.hookMode}`);
  for (const [name, h] of Object.entries(r.hooks)) {
    lines.push(`  ${mark(h.chosen !== undefined)} ${name.padEnd(12)} ${h.chosen ? `${h.chosen}: ${h.attachTypes.join(', ')} (Linux ${h.minKernel}+)` : 'none'}`);
    lines.push(`       ${h.reason}`);
  }
  for (const [name, it] of Object.entries(r.iterators)) {
    lines.push(`  ${mark(it.ok)} ${name.padEnd(12)} ${it.ok ? `${it.records} records` : it.error}`);
  }
  for (const e of r.errors) lines.push(`error       ${e.code}: ${e.message}`);
  lines.push(r.ok ? 'result      exec capture works' : 'result      exec capture does NOT work');
  return lines.join('\n');
}

/**
 * Gating for tests that need the real kernel. They skip with a stated reason
 * when root/capabilities, BTF or the compiled object are absent — and FAIL
 * instead when PROCFLOW_REQUIRE_KERNEL=1 (CI), so CI can't go green by skipping.
 */
import { existsSync } from 'node:fs';
import { it, type TestContext } from 'vitest';
import { readKernelInfo } from '../../host/kernel/features.js';
import { DEFAULT_OBJECT_PATH } from '../../host/sources/bpf/loader.js';

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  const k = readKernelInfo();
  if (k.missingCaps.length > 0) return `missing capabilities ${k.missingCaps.join(', ')} (run as root)`;
  if (!k.btf) return 'kernel has no BTF (/sys/kernel/btf/vmlinux)';
  if (!existsSync(DEFAULT_OBJECT_PATH)) return `BPF object ${DEFAULT_OBJECT_PATH} not built (npm run build:bpf)`;
  return undefined;
}

/** A test that needs the kernel: skipped with the reason, or failing under PROCFLOW_REQUIRE_KERNEL=1. */
export function kernelIt(name: string, fn: (ctx: TestContext) => Promise<void> | void, timeout?: number): void {
  it(name, async (ctx) => {
    const why = kernelUnavailable();
    if (why) {
      if (process.env.PROCFLOW_REQUIRE_KERNEL === '1') throw new Error(`kernel test required (PROCFLOW_REQUIRE_KERNEL=1) but cannot run: ${why}`);
      ctx.skip(`needs the kernel: ${why}`);
      return;
    }
    await fn(ctx);
  }, timeout);
}

/** Polls `check` every few ms until it returns true or the deadline passes; returns whether it did. */
export async function waitFor(check: () => boolean, deadlineMs: number, everyMs = 5): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

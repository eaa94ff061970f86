/**
 * Where the benchmarks find the repository and build their helpers.
 * Compiled to dist/bench/lib/, so the repository root is three levels up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Output folder of bench/bpf/Makefile (gitignored). */
export const BENCH_BUILD = join(REPO_ROOT, 'bench', 'bpf', 'build');

/** Builds bench/bpf (BPF producer object, C producer, C net client/server); make's output goes to stderr. */
export function buildBenchHelpers(): void {
  execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'bench', 'bpf')], { stdio: ['ignore', 2, 2] });
}

/**
 * Builds the agent's BPF object (bpf/build/procflow.bpf.o). If make fails but
 * an object already exists (bpf/ being edited concurrently), warns and keeps
 * the existing one. Returns the object path.
 */
export function buildAgentObject(): string {
  const obj = join(REPO_ROOT, 'bpf', 'build', 'procflow.bpf.o');
  try {
    execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'bpf')], { stdio: ['ignore', 2, 2] });
  } catch (err) {
    if (!existsSync(obj)) throw err;
    process.stderr.write(`bench: make -C bpf failed; using the existing ${obj}\n`);
  }
  return obj;
}

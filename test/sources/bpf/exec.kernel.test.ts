/**
 * Exec and exit capture on the real kernel: 500 short-lived processes with
 * unique nonce argv, each exec'd through a relative path to a symlink of a
 * uniquely named copy of a binary, with > 5 arguments, a 2 KiB argument, an
 * empty argument and a non-UTF-8 byte. Run for every tracepoint family.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ExecRecord, ExitRecord } from '../../../host/sources/bpf/decode.js';
import type { Family } from '../../../host/sources/bpf/hooks.js';
import { BpfCapture } from '../../../host/sources/bpf/loader.js';
import { kernelIt, waitFor } from '../../helpers/kernel.js';
import { testLog } from '../../helpers/logger.js';

const COUNT = 500;
const BIG = 'B'.repeat(2048);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procflow-exec-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/** Starts a capture of exec+exit forced to one family, collecting records. */
function capture(family: Family, argsCap?: number) {
  const cap = BpfCapture.start({ families: [family], only: ['exec', 'exit'], ignoreTgid: process.pid, argsCap }, testLog);
  const execs: ExecRecord[] = [];
  const exits: ExitRecord[] = [];
  const pump = () => cap.poll((r) => {
    if (r.kind === 'exec') execs.push(r);
    else if (r.kind === 'exit') exits.push(r);
  });
  const timer = setInterval(pump, 5);
  return {
    cap, execs, exits, pump,
    stop() {
      clearInterval(timer);
      cap.close();
    },
    chosen: () => cap.hooks.find((h) => h.hook === 'exec')?.chosen,
  };
}

describe.each(['tp_btf', 'tp'] as Family[])('exec capture with the %s family', (family) => {
  kernelIt('captures 500 short-lived processes with exact argv and resolved path', async () => {
    const nonce = randomBytes(6).toString('hex');
    const real = join(dir, `prog-${nonce}`);
    copyFileSync('/bin/true', real);
    symlinkSync(real, join(dir, `link-${nonce}`));
    const c = capture(family);
    try {
      expect(c.chosen()).toBe(family);
      // One bash runs the loop so that the only fork+exec cost is the VM's.
      const script = `for i in $(seq 0 ${COUNT - 1}); do ./link-${nonce} "${nonce}-$i" one two "" $'\\xff' three "${BIG}" four five six; done`;
      expect(await run('bash', ['-c', script], dir)).toBe(0);
      const mine = () => c.execs.filter((e) => e.argv[1]?.startsWith(`${nonce}-`));
      const all = await waitFor(() => mine().length >= COUNT, 30_000);
      expect(all, `captured ${mine().length}/${COUNT}`).toBe(true);
      const seen = new Set<string>();
      for (const e of mine()) {
        seen.add(e.argv[1]);
        expect(e.path).toBe(real);
        expect(e.argv).toEqual([`./link-${nonce}`, e.argv[1], 'one', 'two', '', '\\xff', 'three', BIG, 'four', 'five', 'six']);
        expect(e.truncated).toBe(false);
        expect(e.comm).toBe(`link-${nonce}`.slice(0, 15));
      }
      expect(seen.size).toBe(COUNT);
      // Every one of them exited once (per process, not per thread).
      const pids = new Set(mine().map((e) => e.pid));
      const exited = () => c.exits.filter((x) => pids.has(x.pid));
      expect(await waitFor(() => exited().length >= COUNT, 10_000)).toBe(true);
      expect(new Set(exited().map((x) => x.pid)).size).toBe(COUNT);
      expect(c.cap.counters().exec.dropped).toBe(0);
    } finally {
      c.stop();
    }
  }, 120_000);

  kernelIt('reports the interpreter for a #! script, and the start time of /proc stat field 22', async () => {
    const nonce = randomBytes(6).toString('hex');
    const script = join(dir, `script-${nonce}.sh`);
    writeFileSync(script, '#!/bin/sh\nread -r _ </dev/null; sleep 0.2\n');
    chmodSync(script, 0o755);
    const c = capture(family);
    try {
      const child = spawn(script, [nonce], { stdio: 'ignore' });
      const found = () => c.execs.find((e) => e.pid === child.pid && e.argv.includes(nonce));
      expect(await waitFor(() => found() !== undefined, 10_000)).toBe(true);
      const e = found()!;
      expect(e.path).toBe(realpathSync('/bin/sh'));
      // argv as the interpreter sees it: interpreter, script path, then args.
      expect(e.argv.slice(-2)).toEqual([script, nonce]);
      const { readFileSync } = await import('node:fs');
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const field22 = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      expect(Math.floor(e.startNs / 1e7)).toBe(field22);
      await new Promise((r) => child.on('exit', r));
    } finally {
      c.stop();
    }
  });

  kernelIt('reports one exit per process, also for a multi-threaded one', async () => {
    const nonce = randomBytes(6).toString('hex');
    const c = capture(family);
    try {
      // Node runs several threads (libuv pool, V8 workers); all of them exit with the process.
      const child = spawn(process.execPath, ['-e', `require('node:fs').readFile('/proc/self/stat', () => setTimeout(() => {}, 100)); // ${nonce}`], { stdio: 'ignore' });
      await new Promise((r) => child.on('exit', r));
      const exits = () => c.exits.filter((x) => x.pid === child.pid);
      expect(await waitFor(() => exits().length > 0, 10_000)).toBe(true);
      c.pump();
      expect(exits()).toHaveLength(1);
      expect(exits()[0].exitCode).toBe(0);
      expect(c.execs.filter((e) => e.pid === child.pid && e.argv.some((a) => a.includes(nonce)))).toHaveLength(1);
    } finally {
      c.stop();
    }
  });

  kernelIt('keeps elements whole under the argv cap and flags the cut', async () => {
    const nonce = randomBytes(6).toString('hex');
    const c = capture(family, 128);
    try {
      const args = [nonce, 'a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(40)];
      expect(await run('/bin/true', args)).toBe(0);
      const found = () => c.execs.find((e) => e.argv[1] === nonce);
      expect(await waitFor(() => found() !== undefined, 10_000)).toBe(true);
      const e = found()!;
      expect(e.truncated).toBe(true);
      // Every element present is whole; total within the cap.
      const kept = e.argv.slice(1);
      expect(kept.length).toBeGreaterThanOrEqual(2);
      kept.forEach((a, i) => expect(a).toBe(args[i]));
      expect(e.argv.reduce((n, a) => n + a.length + 1, 0)).toBeLessThanOrEqual(128);
    } finally {
      c.stop();
    }
  });
});

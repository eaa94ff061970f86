/** `procflow plugin new|build|test` on a scaffolded AssemblyScript plugin. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';

const run = promisify(execFile);
const bin = join(PROJECT_ROOT, 'bin', 'procflow.js');
const dir = mkdtempSync(join(tmpdir(), 'procflow-plugin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function procflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { ...process.env, PROCFLOW_LOG_LEVEL: 'error' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('procflow plugin', () => {
  const p = join(dir, 'mask');
  it('scaffolds an AssemblyScript redactor whose own test passes, and prints what changed', async () => {
    const created = await procflow('plugin', 'new', 'mask', '--lang', 'as', '--dir', p);
    expect(created.code).toBe(0);
    expect(JSON.parse(readFileSync(join(p, 'plugin.json'), 'utf8'))).toEqual({ name: 'mask', world: 'redactor', lang: 'as' });
    const t = await procflow('plugin', 'test', p);
    expect(t.stdout).toContain('sample-0: process_args: [["-h","db","--password=hunter2"]] → [["-h","db","--password=[REDACTED]"]]');
    expect(t.stdout).toContain('sample-1: unchanged');
    expect(t.stdout).toContain('all expectations met');
    expect(t.code).toBe(0);
  });

  it('build prints the component path and its sha256 pin; test fails on a broken expectation', async () => {
    const b = await procflow('plugin', 'build', p);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(new RegExp(`${join(p, 'build', 'mask.wasm')}  sha256 [0-9a-f]{64}`));
    writeFileSync(join(p, 'test', 'expected.json'), JSON.stringify({ 'sample-0': { process_args: [['nope']] } }));
    const t = await procflow('plugin', 'test', p);
    expect(t.code).toBe(1);
    expect(t.stdout).toContain('1 mismatch(es)');
  });

  it('refuses an unknown language', async () => {
    const r = await procflow('plugin', 'new', 'x', '--lang', 'rust', '--dir', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROCFLOW_E_USAGE');
  });
});

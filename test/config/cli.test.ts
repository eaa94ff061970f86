/** `procflow config check FILE`: exit 0 with the effective config, exit 2 with every problem. */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { effectiveConfigView } from '../../host/cli/config.js';
import { main } from '../../host/cli/main.js';
import { validateConfig } from '../../host/config/load.js';
import { DEFAULT_CONFIG } from '../../host/config/settings.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Runs main() in-process, capturing stdout and stderr. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe('procflow config check', () => {
  afterEach(() => vi.restoreAllMocks());

  it('exits 0 and prints the effective config of a valid file', async () => {
    const r = await run('config', 'check', fixture('good-overlay.yaml'));
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toMatchObject({ flushInterval: '1m30s', collectProcessPath: 'Disabled', includeLoopback: false, exitedProcessRetention: null });
    expect(Object.keys(printed).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
  });

  it('prints a config that is itself valid and loads to the same settings', () => {
    const c = validateConfig({ flushInterval: '1m30s', exitedProcessRetention: '45s', sinks: [{ type: 'stdout' }] });
    expect(validateConfig(JSON.parse(JSON.stringify(effectiveConfigView(c))))).toEqual(c);
  });

  it('exits 2 listing every problem, without a stack trace', async () => {
    const r = await run('config', 'check', fixture('bad-sinks.yaml'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^procflow: PROCFLOW_E_CONFIG: Config .*bad-sinks\.yaml has 5 problems:\n/);
    for (const path of ['sinks[1].path', 'sinks[1].maxFiles', 'sinks[1].maxSize', 'sinks[2].type', 'sinks[3]:']) expect(r.stderr).toContain(path);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a missing file and for bad usage', async () => {
    expect((await run('config', 'check', fixture('missing.yaml'))).stderr).toMatch(/PROCFLOW_E_CONFIG_FILE/);
    const usage = await run('config');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/PROCFLOW_E_USAGE: Usage: procflow config check FILE/);
  });

  it('sets the process exit code through bin/procflow.js', () => {
    const bin = new URL('../../bin/procflow.js', import.meta.url).pathname;
    const ok = spawnSync(process.execPath, [bin, 'config', 'check', new URL('../../docs/procflow.example.yaml', import.meta.url).pathname], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = spawnSync(process.execPath, [bin, 'config', 'check', fixture('bad-types.yaml')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('has 6 problems');
  });
});

/**
 * Hot reload in `procflow run`: SIGHUP (or an edit of the config file) loads
 * the plugins of the config as it is now and swaps them between batches; a
 * version that fails to load leaves the running one in place and says why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';

const BIN = `${PROJECT_ROOT}/bin/procflow.js`;

describe('procflow run: plugin hot reload', () => {
  kernelIt('SIGHUP swaps to the edited plugin config; a config whose plugin fails to load keeps the running one', async () => {
    const dir = mkdtempSync('/tmp/procflow-reload-');
    const cfg = `${dir}/procflow.yaml`;
    const out = `${dir}/flows.log`;
    const write = (redactArgs: string) =>
      writeFileSync(cfg, `flushInterval: 1s
dataDir: ${dir}/data
sinks:
  - type: file
    path: ${out}
plugins:
  chain:
    - name: redact-args
      stage: redactor
      path: builtin:redact-args
${redactArgs}`);
    write('      config: { replacement: "[OLD]" }\n');
    const server = spawn('node', [`${PROJECT_ROOT}/test/fixtures/echo-server.mjs`, '127.0.0.1', '1000', '37'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<number>((r) => createInterface({ input: server.stdout }).on('line', (l) => { if (l.startsWith('tcp ')) r(Number(l.slice(4))); }));
    const agent = spawn('node', [BIN, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    agent.stderr.on('data', (d) => { stderr += d; });
    const client = `${dir}/client-${randomBytes(4).toString('hex')}`;
    copyFileSync('/bin/bash', client);
    /** Connects with `--password=SECRET` in the client's args and waits until its record is in flows.log. */
    const connectAndFind = async (secret: string, expected: string): Promise<boolean> => {
      spawnSync(client, ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' 1000 '' >&3; read -r -t 5 -N 37 _ <&3`, 'x', `--nonce=${secret}`, `--password=${secret}`]);
      return waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes(`--nonce=${secret} --password=${expected}`), 30_000, 50);
    };
    try {
      expect(await waitFor(() => stderr.includes('procflow ready'), 60_000, 20), stderr).toBe(true);
      expect(await connectAndFind(`a${randomBytes(6).toString('hex')}`, '[OLD]'), stderr).toBe(true);

      write('      config: { replacement: "[NEW]" }\n');
      agent.kill('SIGHUP');
      expect(await waitFor(() => stderr.includes('"msg":"plugins reloaded"'), 60_000, 20), stderr).toBe(true);
      expect(await connectAndFind(`b${randomBytes(6).toString('hex')}`, '[NEW]'), stderr).toBe(true);

      // A version that cannot load (its pin does not match): the running plugins stay.
      write(`      sha256: ${'ab'.repeat(32)}\n      config: { replacement: "[BROKEN]" }\n`);
      agent.kill('SIGHUP');
      expect(await waitFor(() => stderr.includes('PROCFLOW_E_PLUGIN_RELOAD'), 60_000, 20), stderr).toBe(true);
      expect(stderr).toContain('PROCFLOW_E_PLUGIN_PIN_MISMATCH');
      expect(await connectAndFind(`c${randomBytes(6).toString('hex')}`, '[NEW]'), stderr).toBe(true);
      expect(readFileSync(out, 'utf8')).not.toContain('[BROKEN]');
    } finally {
      agent.kill('SIGTERM');
      server.kill();
    }
  }, 240_000);
});

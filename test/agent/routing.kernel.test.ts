/**
 * Routing on the real kernel: the agent captures real clients talking to two
 * real servers and routes their flows by dest_port — one tenant gets CEF in
 * its file, the other a stricter masking policy and calico-json in its own,
 * everything else goes to the default route's file (redacted by default).
 * The test waits for the records, it does not sleep.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect } from 'vitest';
import { Agent } from '../../host/agent/agent.js';
import { validateConfig } from '../../host/config/load.js';
import { readKernelInfo } from '../../host/kernel/features.js';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';
import { testLog } from '../helpers/logger.js';

const children: ChildProcess[] = [];
const cleanup: (() => void)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'procflow-routing-e2e-'));
afterAll(() => {
  for (const c of children) c.kill();
  for (const c of cleanup.reverse()) c();
  rmSync(dir, { recursive: true, force: true });
});

async function tcpServer(): Promise<number> {
  const child = spawn(process.execPath, [`${PROJECT_ROOT}/test/fixtures/echo-server.mjs`, '127.0.0.1', '100', '7'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let port = 0;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const [proto, p] = l.split(' ');
    if (proto === 'tcp') port = Number(p);
  });
  if (!(await waitFor(() => port > 0, 15_000))) throw new Error('echo server did not start');
  return port;
}

/** Runs a copy of bash named `name` that connects to `port` with a secret in its arguments; returns its path. */
function client(name: string, port: number, secret: string): string {
  const path = join(dir, name);
  copyFileSync('/bin/bash', path);
  const script = `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' 100 '' >&3; IFS= read -r -t 5 -N 7 _ <&3; exec 3>&-`;
  const r = spawnSync(path, ['-c', script, name, `--password=${secret}`], { encoding: 'utf8', timeout: 15_000 });
  expect(r.status, r.stderr).toBe(0);
  return path;
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

describe('routing in the agent', () => {
  kernelIt('routes real flows by dest_port to per-tenant formats, policies and files', async () => {
    const portA = await tcpServer();
    const portB = await tcpServer();
    const portC = await tcpServer();
    const files = { a: join(dir, 'a.cef'), b: join(dir, 'b.log'), rest: join(dir, 'rest.log') };
    const loaded = validateConfig({
      flushInterval: '1s', aggregationKindForAllowed: 0, dataDir: join(dir, 'data'),
      sinks: [{ type: 'file', name: 'a', path: files.a }, { type: 'file', name: 'b', path: files.b }, { type: 'file', name: 'rest', path: files.rest }],
      routes: {
        key: 'dest_port',
        tenants: [
          { name: 'tenant-a', match: { values: [String(portA)] }, chain: [{ name: 'cef', stage: 'formatter', path: 'builtin:cef' }], sinks: ['a'] },
          {
            name: 'tenant-b', match: { values: [String(portB)] }, sinks: ['b'],
            chain: [{ name: 'strict', stage: 'redactor', path: 'builtin:redact-args', config: { mode: 'drop-args' } }, { name: 'json', stage: 'formatter', path: 'builtin:calico-json' }],
          },
        ],
        default: { sinks: ['rest'] },
      },
    });
    const agent = await Agent.start({ ...loaded, plugins: { chain: [] } }, testLog);
    try {
      const nonce = randomBytes(6).toString('hex');
      const secret = `S3cr3t-${randomBytes(8).toString('hex')}`;
      const pathA = client(`client-a-${nonce}`, portA, secret);
      const pathB = client(`client-b-${nonce}`, portB, secret);
      const pathC = client(`client-c-${nonce}`, portC, secret);
      const jsonLines = (f: string) => read(f).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { process_name: string; dest_port: number; process_args: string[] });
      expect(await waitFor(() => read(files.a).includes(pathA) && jsonLines(files.b).some((r) => r.process_name === pathB) && jsonLines(files.rest).some((r) => r.process_name === pathC), 30_000, 50)).toBe(true);

      // tenant-a: CEF lines only, only its port; redaction on by default in its route.
      const cef = read(files.a).split('\n').filter((l) => l !== '');
      expect(cef.every((l) => l.startsWith('CEF:0|') && l.includes(`dpt=${portA}`))).toBe(true);
      expect(cef.find((l) => l.includes(pathA))).toContain('--password\\=[REDACTED]');
      // tenant-b: calico-json, only its port, drop-args policy (the whole list replaced).
      const b = jsonLines(files.b);
      expect(b.every((r) => r.dest_port === portB)).toBe(true);
      expect(b.find((r) => r.process_name === pathB)!.process_args).toEqual(['[REDACTED]']);
      // default: the rest (port C among them), flows.log lines, default masking.
      const rest = jsonLines(files.rest);
      expect(rest.some((r) => r.dest_port === portA || r.dest_port === portB)).toBe(false);
      expect(rest.find((r) => r.process_name === pathC)!.process_args[0]).toContain('--password=[REDACTED]');
      for (const f of Object.values(files)) expect(read(f)).not.toContain(secret);
    } finally {
      await agent.stop();
    }
  }, 120_000);

  kernelIt('routes by a field an enricher sets: container_id from builtin:enrich-process', async (ctx) => {
    const root = readKernelInfo().cgroup2;
    if (!root) {
      if (process.env.PROCFLOW_REQUIRE_KERNEL === '1') throw new Error('kernel test required but no cgroup2 mount');
      ctx.skip('needs a cgroup2 mount');
      return;
    }
    const id = randomBytes(32).toString('hex');
    const cgDir = join(root, `docker-${id}.scope`);
    mkdirSync(cgDir);
    cleanup.push(() => {
      if (existsSync(cgDir)) rmdirSync(cgDir); // empty by then: its processes exited
    });
    const port = await tcpServer();
    const files = { container: join(dir, 'container.log'), rest: join(dir, 'rest-2.log') };
    const loaded = validateConfig({
      flushInterval: '1s', aggregationKindForAllowed: 0, dataDir: join(dir, 'data-2'),
      plugins: { chain: [{ name: 'enrich', stage: 'enricher', path: 'builtin:enrich-process' }] },
      sinks: [{ type: 'file', name: 'container', path: files.container }, { type: 'file', name: 'rest', path: files.rest }],
      routes: { key: 'container_id', tenants: [{ name: 'one-container', match: { values: [id] }, sinks: ['container'] }], default: { sinks: ['rest'] } },
    });
    const agent = await Agent.start(loaded, testLog);
    try {
      const nonce = randomBytes(6).toString('hex');
      const inside = join(dir, `inside-${nonce}`);
      const outside = join(dir, `outside-${nonce}`);
      copyFileSync('/bin/bash', inside);
      copyFileSync('/bin/bash', outside);
      const connect = `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' 100 '' >&3; IFS= read -r -t 5 -N 7 _ <&3; exec 3>&-`;
      // Joins the cgroup, then runs the client there (the trailing assignment keeps bash from exec'ing it in place).
      const r1 = spawnSync(inside, ['-c', `echo $$ > '${cgDir}/cgroup.procs' && bash -c "$1"; rc=$?; exit $rc`, 'x', connect], { encoding: 'utf8', timeout: 15_000 });
      expect(r1.status, r1.stderr).toBe(0);
      const r2 = spawnSync(outside, ['-c', connect], { encoding: 'utf8', timeout: 15_000 });
      expect(r2.status, r2.stderr).toBe(0);
      const recs = (f: string) => read(f).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { container_id?: string; process_name: string; dest_port: number });
      // The client inside is /bin/bash run by the copy; the copy itself is the parent. Match on the container id.
      expect(await waitFor(() => recs(files.container).some((x) => x.dest_port === port) && recs(files.rest).some((x) => x.process_name === outside), 30_000, 50)).toBe(true);
      expect(recs(files.container).every((x) => x.container_id === id)).toBe(true);
      expect(recs(files.rest).some((x) => x.container_id === id)).toBe(false);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});

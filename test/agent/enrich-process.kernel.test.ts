/**
 * builtin:enrich-process on the real kernel: a parent (a copied bash) moves
 * itself into a fresh cgroup v2 `docker-<64 hex>.scope`, then starts a client
 * (another copied bash) that opens a TCP connection. The agent's record of
 * that connection, after the enricher, carries the cgroup path, the container
 * id parsed from it, and the parent's executable path and pid — all from the
 * kernel (cgroup id at exec, resolved to the path by the host). The cgroup is
 * removed afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect } from 'vitest';
import { Agent } from '../../host/agent/agent.js';
import { DEFAULT_CONFIG } from '../../host/config/settings.js';
import type { FlowRecord } from '../../host/flows/record.js';
import { readKernelInfo } from '../../host/kernel/features.js';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';
import { testLog } from '../helpers/logger.js';

const REQ = 100;
const REPLY = 7;
const dir = mkdtempSync(join(tmpdir(), 'procflow-enrich-'));
const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup.reverse()) c();
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [`${PROJECT_ROOT}/test/fixtures/echo-server.mjs`, '127.0.0.1', String(REQ), String(REPLY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => child.kill());
  let port = 0;
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const [proto, p] = l.split(' ');
    if (proto === 'tcp') port = Number(p);
  });
  if (!(await waitFor(() => port > 0, 15_000))) throw new Error('echo server did not start');
  return port;
}

describe('builtin:enrich-process end to end', () => {
  kernelIt('adds the parent path, the cgroup path and the container id of a process in a docker-style cgroup', async (ctx) => {
    const root = readKernelInfo().cgroup2;
    if (!root) {
      if (process.env.PROCFLOW_REQUIRE_KERNEL === '1') throw new Error('kernel test required but no cgroup2 mount');
      ctx.skip('needs a cgroup2 mount');
      return;
    }
    const id = randomBytes(32).toString('hex');
    const cgroup = `/docker-${id}.scope`;
    const cgDir = join(root, cgroup);
    mkdirSync(cgDir);
    cleanup.push(() => {
      if (existsSync(cgDir)) rmdirSync(cgDir); // empty by then: its processes exited
    });
    const port = await startServer();
    const nonce = randomBytes(6).toString('hex');
    const parentPath = join(dir, `parent-${nonce}`);
    const clientPath = join(dir, `client-${nonce}`);
    copyFileSync('/bin/bash', parentPath);
    copyFileSync('/bin/bash', clientPath);
    const client = `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' ${REQ} '' >&3; IFS= read -r -t 5 -N ${REPLY} _ <&3; exec 3>&-`;
    // The parent joins the cgroup, then forks the client there (the trailing assignment keeps bash from exec'ing it in place).
    const parent = `echo $$; echo $$ > '${cgDir}/cgroup.procs' && "$0" -c "$1" "$2"; rc=$?; exit $rc`;

    const records: FlowRecord[] = [];
    const cfg = { ...DEFAULT_CONFIG, flushInterval: 1000, aggregationKindForAllowed: 0 as const, sinks: [], statsInterval: 60_000,
      plugins: { chain: [{ name: 'enrich', stage: 'enricher' as const, path: 'builtin:enrich-process' }] } };
    const agent = await Agent.start(cfg, testLog, (recs) => records.push(...recs));
    try {
      const r = spawnSync(parentPath, ['-c', parent, clientPath, client, nonce], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, r.stderr).toBe(0);
      const parentPid = r.stdout.trim().split('\n')[0];
      const rec = () => records.find((x) => x.reporter === 'src' && x.dest_port === port && x.process_args.some((a) => a.includes(nonce)));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50)).toBe(true);
      expect(rec()).toMatchObject({
        process_name: clientPath,
        process_parent_name: parentPath,
        process_parent_id: parentPid,
        process_cgroup: cgroup,
        container_id: id,
      });
    } finally {
      await agent.stop();
    }
  }, 120_000);

  kernelIt('reads the cgroup of a process already running at start (startup snapshot: task iterator, /proc fallback) and its parent', async (ctx) => {
    const root = readKernelInfo().cgroup2;
    if (!root) {
      if (process.env.PROCFLOW_REQUIRE_KERNEL === '1') throw new Error('kernel test required but no cgroup2 mount');
      ctx.skip('needs a cgroup2 mount');
      return;
    }
    const id = randomBytes(32).toString('hex');
    const cgroup = `/kubepods/besteffort/pod${randomBytes(4).toString('hex')}/${id}`; // kubelet's cgroupfs layout
    const cgDir = join(root, cgroup);
    mkdirSync(cgDir, { recursive: true });
    cleanup.push(() => {
      for (let d = cgDir; d !== root; d = join(d, '..')) if (existsSync(d)) rmdirSync(d);
    });
    const port = await startServer();
    const nonce = randomBytes(6).toString('hex');
    const path = join(dir, `early-${nonce}`);
    const parentPath = join(dir, `early-parent-${nonce}`);
    copyFileSync('/bin/bash', path);
    copyFileSync('/bin/bash', parentPath); // not the test process: the agent leaves its own process out
    // Moves itself into the cgroup after its exec (so only a snapshot can know), says so, waits for `go`, connects.
    const script = `echo $$ > '${cgDir}/cgroup.procs' && echo "moved $$"; read -r _; ` +
      `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' ${REQ} '' >&3; IFS= read -r -t 5 -N ${REPLY} _ <&3; exec 3>&-`;
    const parent = spawn(parentPath, ['-c', '"$0" -c "$1" "$2"; rc=$?; exit $rc', path, script, nonce], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanup.push(() => parent.kill());
    let pid = '';
    createInterface({ input: parent.stdout! }).on('line', (l) => l.startsWith('moved ') && (pid = l.slice(6)));
    expect(await waitFor(() => pid !== '', 15_000)).toBe(true);

    const records: FlowRecord[] = [];
    const cfg = { ...DEFAULT_CONFIG, flushInterval: 1000, aggregationKindForAllowed: 0 as const, sinks: [], statsInterval: 60_000,
      plugins: { chain: [{ name: 'enrich', stage: 'enricher' as const, path: 'builtin:enrich-process' }] } };
    const agent = await Agent.start(cfg, testLog, (recs) => records.push(...recs));
    try {
      parent.stdin!.end('go\n');
      const rec = () => records.find((x) => x.reporter === 'src' && x.dest_port === port && x.process_args.some((a) => a.includes(nonce)));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50)).toBe(true);
      expect(rec()).toMatchObject({
        process_name: path,
        process_id: pid,
        process_parent_name: parentPath,
        process_parent_id: String(parent.pid),
        process_cgroup: cgroup,
        container_id: id,
      });
    } finally {
      await agent.stop();
    }
  }, 120_000);
});

/**
 * Flow logs end to end on the real kernel: a long-lived server started
 * before the agent, short-lived clients started after it — each a binary
 * copied to a unique temporary path with nonce args — on 127.0.0.1 and
 * [::1], TCP and UDP. Every record carries the right process_name (full
 * path), process_id and process_args for both reporters. A client in its own
 * PID namespace is attributed by its host pid. flushInterval 1 s; the test
 * waits for records, it does not sleep.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { Agent } from '../../host/agent/agent.js';
import { DEFAULT_CONFIG, type AgentConfig } from '../../host/config/settings.js';
import { renderFlowLog, type FlowRecord } from '../../host/flows/record.js';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';
import { testLog } from '../helpers/logger.js';

const REQ = 1000;
const REPLY = 37;
const SERVER_SCRIPT = `${PROJECT_ROOT}/test/fixtures/echo-server.mjs`;

let dir: string;
const servers: { host: string; child: ChildProcess; tcp: number; udp: number }[] = [];

async function startServer(host: string) {
  const child = spawn(process.execPath, [SERVER_SCRIPT, host, String(REQ), String(REPLY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports: Record<string, number> = {};
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const [proto, port] = l.split(' ');
    ports[proto] = Number(port);
  });
  if (!(await waitFor(() => ports.tcp > 0 && ports.udp > 0, 15_000))) throw new Error(`echo server on ${host} did not start`);
  servers.push({ host, child, tcp: ports.tcp, udp: ports.udp });
  return servers.at(-1)!;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procflow-e2e-'));
});
afterAll(() => {
  for (const s of servers) s.child.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A client: bash copied to a unique path, talking over /dev/tcp or /dev/udp, printing its host pid. */
function clientScript(proto: 'tcp' | 'udp', host: string, port: number): string {
  // /proc/self is resolved by the host's procfs: the host pid even inside a new PID namespace.
  return `read -r hostpid _ < /proc/self/stat; echo "$hostpid"; exec 3<>/dev/${proto}/${host}/${port}; ` +
    `printf '%*s' ${REQ} '' >&3; IFS= read -r -t 5 -N ${REPLY} _ <&3; exec 3>&-`; // builtins only: the client itself sends
}

async function runClient(path: string, proto: 'tcp' | 'udp', host: string, port: number, nonce: string, ownPidNs = false) {
  const script = clientScript(proto, host, port);
  const argv = ownPidNs ? ['unshare', '--pid', '--fork', path, '-c', script, nonce] : [path, '-c', script, nonce];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 15_000 });
  expect(r.status, r.stderr).toBe(0);
  return { pid: Number(r.stdout.trim().split('\n')[0]), args: ['-c', script, nonce] };
}

function config(): AgentConfig {
  return {
    ...DEFAULT_CONFIG, flushInterval: 1000, aggregationKindForAllowed: 0, sinks: [], statsInterval: 60_000,
    perFlowProcessArgsLimit: 5,
  };
}

describe('flow logs end to end', () => {
  kernelIt('attributes both reporters of TCP and UDP flows on v4 and v6 to the right process', async () => {
    const v4 = await startServer('127.0.0.1');
    const v6 = await startServer('::1');
    const records: FlowRecord[] = [];
    const agent = await Agent.start(config(), testLog, (recs) => records.push(...recs));
    try {
      const nonce = randomBytes(6).toString('hex');
      const clientPath = join(dir, `client-${nonce}`);
      copyFileSync('/bin/bash', clientPath);
      spawnSync('chmod', ['755', clientPath]);
      const cases = [
        { proto: 'tcp' as const, srv: v4, ip: '127.0.0.1' }, { proto: 'tcp' as const, srv: v6, ip: '::1' },
        { proto: 'udp' as const, srv: v4, ip: '127.0.0.1' }, { proto: 'udp' as const, srv: v6, ip: '::1' },
      ];
      const runs: ((typeof cases)[number] & { port: number; client: { pid: number; args: string[] } })[] = [];
      for (const c of cases) {
        const port = c.proto === 'tcp' ? c.srv.tcp : c.srv.udp;
        runs.push({ ...c, port, client: await runClient(clientPath, c.proto, c.ip, port, `${nonce}-${c.proto}-${c.ip}`) });
      }
      const nodePath = realpathSync(process.execPath);
      const find = (reporter: 'src' | 'dst', proto: string, ip: string, port: number, pid: number) =>
        records.find((r) => r.reporter === reporter && r.proto === proto && r.dest_ip === ip && r.dest_port === port && r.process_id === String(pid));
      const all = () => runs.every((r) => find('src', r.proto, r.ip, r.port, r.client.pid) && find('dst', r.proto, r.ip, r.port, r.srv.child.pid!));
      const ok = await waitFor(all, 20_000, 50);
      expect(ok, `records: ${JSON.stringify(records.map((r) => [r.reporter, r.proto, r.dest_ip, r.dest_port, r.process_id, r.process_name]))}`).toBe(true);
      for (const r of runs) {
        const src = find('src', r.proto, r.ip, r.port, r.client.pid)!;
        expect(src).toMatchObject({ process_name: clientPath, process_args: [r.client.args], bytes_out: REQ, bytes_in: REPLY, source_ip: r.ip, source_type: 'hep' });
        const dst = find('dst', r.proto, r.ip, r.port, r.srv.child.pid!)!;
        expect(dst).toMatchObject({ process_name: nodePath, bytes_in: REQ, bytes_out: REPLY });
        expect(dst.process_args[0]).toEqual([SERVER_SCRIPT, r.srv.host, String(REQ), String(REPLY)]);
        // flows.log typing
        const line = renderFlowLog(src);
        expect(line.process_args).toEqual([r.client.args.join(' ')]);
        expect(typeof line.process_id).toBe('string');
      }
    } finally {
      await agent.stop();
    }
  }, 90_000);

  kernelIt('attributes a client in its own PID namespace by its host pid', async (ctx) => {
    if (spawnSync('unshare', ['--pid', '--fork', 'true']).status !== 0) {
      ctx.skip('unshare --pid is not permitted here');
      return;
    }
    const srv = servers.find((s) => s.host === '127.0.0.1') ?? (await startServer('127.0.0.1'));
    const records: FlowRecord[] = [];
    const agent = await Agent.start(config(), testLog, (recs) => records.push(...recs));
    try {
      const nonce = randomBytes(6).toString('hex');
      const clientPath = join(dir, `nsclient-${nonce}`);
      copyFileSync('/bin/bash', clientPath);
      const c = await runClient(clientPath, 'tcp', '127.0.0.1', srv.tcp, nonce, true);
      expect(c.pid).toBeGreaterThan(1); // the host pid, not 1 as inside the namespace
      const rec = () => records.find((r) => r.reporter === 'src' && r.dest_port === srv.tcp && r.process_args.some((a) => a.includes(nonce)));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50)).toBe(true);
      expect(rec()).toMatchObject({ process_name: clientPath, process_id: String(c.pid), bytes_out: REQ, bytes_in: REPLY });
    } finally {
      await agent.stop();
    }
  }, 90_000);

  kernelIt("attributes a child forked without exec (a subshell, gone before the flush) to its own pid with its parent's image", async () => {
    const srv = servers.find((x) => x.host === '127.0.0.1') ?? (await startServer('127.0.0.1'));
    const records: FlowRecord[] = [];
    const agent = await Agent.start(config(), testLog, (recs) => records.push(...recs));
    try {
      const nonce = randomBytes(6).toString('hex');
      const clientPath = join(dir, `forker-${nonce}`);
      copyFileSync('/bin/bash', clientPath);
      // ( … ) forks a subshell that never execs: no exec event names its pid; it opens the connection.
      const script = `( ${clientScript('tcp', '127.0.0.1', srv.tcp)} ); wait`;
      const r = spawnSync(clientPath, ['-c', script, nonce], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, r.stderr).toBe(0);
      const childPid = Number(r.stdout.trim().split('\n')[0]);
      expect(childPid).not.toBe(r.pid); // the subshell, not the bash that exec'd
      const rec = () => records.find((x) => x.reporter === 'src' && x.dest_port === srv.tcp && x.process_id === String(childPid));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50), JSON.stringify(records.map((x) => [x.process_id, x.process_name]))).toBe(true);
      expect(rec()).toMatchObject({ process_name: clientPath, process_args: [['-c', script, nonce]], bytes_out: REQ, bytes_in: REPLY });

      // A forked child still alive after its connection (a pre-fork server's worker): read from /proc at connect time.
      // `; :` after sleep: bash would otherwise exec the last command in place of the subshell.
      const script2 = `( ${clientScript('tcp', '127.0.0.1', srv.tcp)}; sleep 3; : ) & wait`;
      // Not spawnSync: the agent runs in this process and must read /proc while the worker lives.
      const child2 = spawn(clientPath, ['-c', script2, nonce], { stdio: ['ignore', 'pipe', 'inherit'] });
      const worker = await new Promise<number>((resolve) => createInterface({ input: child2.stdout! }).once('line', (l) => resolve(Number(l))));
      const rec2 = () => records.find((x) => x.reporter === 'src' && x.dest_port === srv.tcp && x.process_id === String(worker));
      expect(await waitFor(() => rec2() !== undefined, 20_000, 50)).toBe(true);
      expect(rec2()).toMatchObject({ process_name: clientPath, process_args: [['-c', script2, nonce]] });
      expect(agent.stats.procFallback).toBeGreaterThanOrEqual(1);
      if (child2.exitCode === null) await new Promise((resolve) => child2.on('exit', resolve));
    } finally {
      await agent.stop();
    }
  }, 90_000);

  kernelIt('attributes a connection to the program that opened it when the process execs another program afterwards', async () => {
    const srv = servers.find((x) => x.host === '127.0.0.1') ?? (await startServer('127.0.0.1'));
    const records: FlowRecord[] = [];
    const agent = await Agent.start(config(), testLog, (recs) => records.push(...recs));
    try {
      const nonce = randomBytes(6).toString('hex');
      const clientPath = join(dir, `execer-${nonce}`);
      copyFileSync('/bin/bash', clientPath);
      // The bash copy opens and uses the connection, then the same process (same pid) becomes sleep, fd 3 still open.
      const script = `${clientScript('tcp', '127.0.0.1', srv.tcp).replace(/; exec 3>&-$/, '')}; exec /bin/sleep 0.2`;
      const r = spawnSync(clientPath, ['-c', script, nonce], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, r.stderr).toBe(0);
      const pid = Number(r.stdout.trim().split('\n')[0]);
      expect(pid).toBe(r.pid);
      const rec = () => records.find((x) => x.reporter === 'src' && x.dest_port === srv.tcp && x.process_id === String(pid));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50), JSON.stringify(records.map((x) => [x.process_id, x.process_name]))).toBe(true);
      expect(rec()).toMatchObject({ process_name: clientPath, process_args: [['-c', script, nonce]], bytes_out: REQ, bytes_in: REPLY });
    } finally {
      await agent.stop();
    }
  }, 90_000);

  kernelIt('runs the plugin chain: a built-in redactor masks secrets in process_args before the sinks', async () => {
    const srv = servers.find((x) => x.host === '127.0.0.1') ?? (await startServer('127.0.0.1'));
    const records: FlowRecord[] = [];
    const cfg = { ...config(), plugins: { chain: [{ name: 'redact', stage: 'redactor' as const, path: 'builtin:redact-args' }] } };
    const agent = await Agent.start(cfg, testLog, (recs) => records.push(...recs));
    try {
      const nonce = randomBytes(6).toString('hex');
      const secret = `S3cr3t-${randomBytes(8).toString('hex')}`;
      const clientPath = join(dir, `secret-client-${nonce}`);
      copyFileSync('/bin/bash', clientPath);
      const script = clientScript('tcp', '127.0.0.1', srv.tcp);
      const r = spawnSync(clientPath, ['-c', script, nonce, `--password=${secret}`], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, r.stderr).toBe(0);
      const rec = () => records.find((x) => x.reporter === 'src' && x.dest_port === srv.tcp && x.process_args.some((a) => a.includes(nonce)));
      expect(await waitFor(() => rec() !== undefined, 20_000, 50)).toBe(true);
      expect(rec()!.process_name).toBe(clientPath);
      expect(rec()!.process_args[0].slice(-2)).toEqual([nonce, '--password=[REDACTED]']);
      expect(JSON.stringify(records)).not.toContain(secret);
    } finally {
      await agent.stop();
    }
  }, 120_000);
});

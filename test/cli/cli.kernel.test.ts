/**
 * The commands as an operator runs them: `node bin/procflow.js …` in a child
 * process, on the real kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';

const require = createRequire(import.meta.url);
const BIN = `${PROJECT_ROOT}/bin/procflow.js`;
const schema = JSON.parse(readFileSync(`${PROJECT_ROOT}/docs/trace-events.schema.json`, 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

/** Runs the CLI; `unprivileged` drops every capability (root without them, so the checkout stays readable wherever it is). */
function cli(args: string[], opts: { unprivileged?: boolean } = {}) {
  const argv = opts.unprivileged ? ['setpriv', '--bounding-set', '-all', '--inh-caps', '-all', 'node', BIN, ...args] : ['node', BIN, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `trace --json`, hands each parsed line to onLine; resolves with all lines and the exit code. */
function trace(args: string[], onLine: (o: Record<string, unknown>) => void) {
  const child = spawn('node', [BIN, 'trace', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  createInterface({ input: child.stdout }).on('line', (l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    lines.push(o);
    onLine(o);
  });
  const done = new Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }>((resolve) =>
    child.on('exit', (code) => setImmediate(() => resolve({ code, lines, stderr }))));
  return { child, done };
}

describe('procflow check', () => {
  kernelIt('reports every hook and exits 0 with hooks auto', () => {
    const r = cli(['check', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.kernel.minimum).toBe('5.17');
    expect(report.capabilities.missing).toEqual([]);
    expect(typeof report.pidNamespace.host).toBe('boolean');
    for (const hook of ['exec', 'exit', 'tcp_connect', 'tcp_accept', 'tcp_close', 'udp_send', 'udp_recv']) {
      expect(report.hooks[hook]?.chosen, `${hook}: ${report.hooks[hook]?.reason}`).toBeDefined();
      expect(report.hooks[hook].reason.length).toBeGreaterThan(10);
      expect(report.hooks[hook].attachTypes.length).toBeGreaterThan(0);
    }
    expect(report.iterators.iter_task.ok).toBe(true);
    expect(report.iterators.iter_task.records).toBeGreaterThan(1);
  });

  kernelIt('exits non-zero with --hooks kprobe on a kernel without kprobes, naming each refusal', (ctx) => {
    const first = cli(['check', '--json']);
    if (JSON.parse(first.stdout).kprobes) {
      ctx.skip('this kernel has kprobes: the kprobe family is exercised by the kernel matrix instead');
      return;
    }
    const r = cli(['check', '--hooks', 'kprobe', '--json']);
    expect(r.code).not.toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    for (const hook of ['exec', 'exit', 'tcp_connect', 'tcp_accept', 'tcp_close', 'udp_send', 'udp_recv']) {
      const h = report.hooks[hook];
      expect(h.chosen, hook).toBeUndefined();
      expect(h.tried.length, `${hook} has a kprobe variant`).toBeGreaterThan(0);
      expect(h.reason, hook).toMatch(/ENOENT|CONFIG_KPROBES/);
    }
    expect(report.errors.map((e: { code: string }) => e.code)).toContain('PROCFLOW_E_EXEC_HOOK_MISSING');
  });

  it('rejects a bad --hooks value naming the flag and the fix', () => {
    const r = cli(['check', '--hooks', 'fentry']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROCFLOW_E_CONFIG_INVALID');
    expect(r.stderr).toContain('--hooks');
    expect(r.stderr).toContain('auto, tracepoint, kprobe');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('without the capabilities', () => {
  kernelIt('trace and run exit 3 naming the missing capabilities, without a stack trace', () => {
    for (const cmd of [['trace', '--duration', '1s'], ['run', '--duration', '1s', '--output', '/tmp/procflow-nonroot/flows.log']]) {
      const r = cli(cmd, { unprivileged: true });
      expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain('PROCFLOW_E_NOT_ROOT');
      expect(r.stderr).toMatch(/CAP_BPF/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const check = cli(['check', '--json'], { unprivileged: true });
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout);
    expect(report.capabilities.missing).toContain('CAP_BPF');
    expect(report.errors[0].code).toBe('PROCFLOW_E_NOT_ROOT');
  });
});

describe('procflow trace --json', () => {
  kernelIt('writes ready first, captures an exec begun after it, ends with stats; every line fits the schema', async () => {
    const nonce = randomBytes(6).toString('hex');
    let ready = false;
    let sawExec = false;
    const t = trace(['--duration', '20s'], (o) => {
      if (o.type === 'ready') {
        ready = true;
        spawn('/bin/echo', [nonce, '--password=hunter2'], { stdio: 'ignore' });
      }
      if (o.type === 'exec' && (o.argv as string[])[1] === nonce) {
        sawExec = true;
        t.child.kill('SIGINT');
      }
    });
    const { code, lines, stderr } = await t.done;
    expect(code, stderr).toBe(0);
    expect(ready).toBe(true);
    expect(sawExec).toBe(true);
    expect(lines[0].type).toBe('ready');
    expect(lines.at(-1)!.type).toBe('stats');
    const exec = lines.find((l) => l.type === 'exec' && (l.argv as string[])[1] === nonce)!;
    expect(exec).toMatchObject({ path: '/usr/bin/echo', argv: ['/bin/echo', nonce, '--password=hunter2'], truncated: false });
    for (const l of lines) expect(validate(l), JSON.stringify(validate.errors)).toBe(true);
    const stats = lines.at(-1)!.hooks as Record<string, { seen: number; dropped: number }>;
    expect(stats.exec.seen).toBeGreaterThan(0);
    expect(stats.exec.dropped).toBe(0);
  });

  kernelIt('ends with the UDP counters that the per-peer throttle held back', async () => {
    const dgram = await import('node:dgram');
    const rx = dgram.createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const port = rx.address().port;
    const tx = dgram.createSocket('udp4');
    const t = trace(['--duration', '20s'], (o) => {
      if (o.type !== 'ready') return;
      // Three datagrams within the 1 s report interval: the ring reports the first, the map holds all three.
      let sent = 0;
      const next = () => tx.send(Buffer.alloc(100 + sent), port, '127.0.0.1', () => (++sent < 3 ? next() : setTimeout(() => t.child.kill('SIGINT'), 50)));
      next();
    });
    const { lines } = await t.done;
    tx.close();
    rx.close();
    const sends = lines.filter((l) => l.type === 'udp_send' && l.dport === port && l.pid === process.pid);
    expect(sends.length).toBeGreaterThanOrEqual(1);
    // saddr is the socket's own: 0.0.0.0 for an unconnected socket bound to the wildcard (routing picks the source per datagram).
    expect(sends.at(-1)).toMatchObject({ segs_out: 3, bytes_out: 100 + 101 + 102, saddr: '0.0.0.0', daddr: '127.0.0.1' });
  });

  kernelIt('--redact masks secrets in argv', async () => {
    const nonce = randomBytes(6).toString('hex');
    const t = trace(['--redact', '--duration', '20s'], (o) => {
      if (o.type === 'ready') spawn('/bin/echo', [nonce, '--password=hunter2', 'https://bob:s3cr3t@example.com/x'], { stdio: 'ignore' });
      if (o.type === 'exec' && (o.argv as string[])[1] === nonce) t.child.kill('SIGINT');
    });
    const { lines } = await t.done;
    const exec = lines.find((l) => l.type === 'exec' && (l.argv as string[])[1] === nonce)!;
    expect(exec.argv).toEqual(['/bin/echo', nonce, '--password=[REDACTED]', 'https://bob:[REDACTED]@example.com/x']);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(JSON.stringify(lines)).not.toContain('s3cr3t');
    const stats = lines.find((l) => l.type === 'stats')!; // counts per rule, never values
    expect((stats.redactions as Record<string, number>).flag).toBeGreaterThanOrEqual(1);
    expect((stats.redactions as Record<string, number>)['url-userinfo']).toBeGreaterThanOrEqual(1);
  });
});

describe('procflow run', () => {
  kernelIt('writes flows.log (0600, in a 0700 directory) and emits the final partial interval when stopped', async () => {
    const { mkdtempSync, statSync, readFileSync: read, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/procflow-run-`);
    const out = `${dir}/logs/flows.log`;
    const cfg = `${dir}/procflow.yaml`;
    (await import('node:fs')).writeFileSync(cfg, `flushInterval: 1h\ndataDir: ${dir}/data\nsinks:\n  - type: file\n    path: ${dir}/data/flows.log\n`);
    // A flush interval of an hour: whatever is in flows.log came from the final partial interval.
    const child = spawn('node', [BIN, 'run', '--config', cfg, '--output', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const ready = await waitFor(() => stderr.includes('procflow ready'), 20_000, 20);
    expect(ready, stderr).toBe(true);
    const server = spawn('node', [`${PROJECT_ROOT}/test/fixtures/net-peer.mjs`, 'tcp-server', '127.0.0.1', '0', '37', '1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<number>((r) => server.stdout.once('data', (d) => r(Number(String(d).split(' ')[1]))));
    const client = spawn('node', [`${PROJECT_ROOT}/test/fixtures/net-peer.mjs`, 'tcp-client', '127.0.0.1', String(port), '1000', '37'], { stdio: 'ignore' });
    await new Promise((r) => client.on('exit', r));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM'); // the exchange is over: stopping must still write its interval
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(`${dir}/logs`).mode & 0o777).toBe(0o700);
    expect(statSync(`${dir}/data/flows.log`).mode & 0o777).toBe(0o600);
    const lines = read(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mine = lines.filter((l) => l.dest_port === port && l.proto === 'tcp');
    expect(mine.map((l) => l.reporter).sort()).toEqual(['dst', 'src']);
    const src = mine.find((l) => l.reporter === 'src');
    expect(src.process_args).toEqual([`${PROJECT_ROOT}/test/fixtures/net-peer.mjs tcp-client 127.0.0.1 ${port} 1000 37`]);
    expect(src.end_time - src.start_time).toBeLessThan(60); // a partial interval, ended by the stop
    expect(stderr).toMatch(/"msg":"stats"/);
    // The default chain's pool: one worker, redact-args instantiated in it, a spare built after.
    const stats = JSON.parse(stderr.split('\n').filter((l) => l.includes('"msg":"stats"')).at(-1)!);
    expect(Object.values(stats.pluginPools)[0]).toMatchObject({ workersSpawned: 1, workersTerminated: 0, instantiations: 1 });
  });

  kernelIt('masks secrets in process_args by default (built-in redact-args), also with an empty chain; off only with plugins.defaultRedaction: false', async () => {
    const { mkdtempSync, writeFileSync, readFileSync: read, copyFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/procflow-redact-');
    // A server that outlives one exchange: both runs connect to it.
    const server = spawn('node', [`${PROJECT_ROOT}/test/fixtures/echo-server.mjs`, '127.0.0.1', '1000', '37'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<number>((r) => createInterface({ input: server.stdout }).on('line', (l) => { if (l.startsWith('tcp ')) r(Number(l.slice(4))); }));
    const runWith = async (extra: string, secret: string) => {
      const cfg = `${dir}/cfg-${secret}.yaml`;
      writeFileSync(cfg, `flushInterval: 1h
dataDir: ${dir}/data
sinks:
  - type: file
    path: ${dir}/flows-${secret}.log
${extra}`);
      const child = spawn('node', [BIN, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      expect(await waitFor(() => stderr.includes('procflow ready'), 60_000, 20), stderr).toBe(true);
      const client = `${dir}/client-${randomBytes(4).toString("hex")}`; // the name must not carry the secret
      copyFileSync('/bin/bash', client);
      spawnSync(client, ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; printf '%*s' 1000 '' >&3; read -r -t 5 -N 37 _ <&3`, 'x', `--password=${secret}`]);
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
      return { flows: read(`${dir}/flows-${secret}.log`, 'utf8'), stderr };
    };
    const secret = `Pw${randomBytes(8).toString('hex')}`;
    const masked = await runWith('plugins:\n  chain: []\n', secret); // an empty chain no longer turns redaction off
    expect(masked.flows).toContain('--password=[REDACTED]');
    expect(masked.flows).not.toContain(secret);
    expect(masked.stderr).toContain('argument redaction: redact-args (builtin:redact-args, mode mask)');
    const secret2 = `Pw${randomBytes(8).toString('hex')}`;
    const off = await runWith('plugins:\n  defaultRedaction: false\n', secret2);
    expect(off.flows).toContain(`--password=${secret2}`); // the operator turned redaction off explicitly
    expect(off.stderr).toContain('argument redaction is OFF');
    server.kill();
  }, 180_000);

  it('exits 2 on a bad config file, listing the problems', () => {
    const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
    const dir = mkdtempSync('/tmp/procflow-badcfg-');
    writeFileSync(`${dir}/bad.yaml`, 'flushInterval: soon\nperFlowProcesLimit: 3\n');
    const r = cli(['run', '--config', `${dir}/bad.yaml`, '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('flushInterval');
    expect(r.stderr).toContain('perFlowProcesLimit');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/**
 * End to end, on the real kernel (issue 5): `procflow run` with its default
 * redaction, real processes with secrets in their arguments (fresh random
 * secrets in realistic shapes on every run) opening real TCP connections.
 * The records in flows.log carry the masked arguments (flag names, user
 * names and hosts readable), and no 8-character piece of any secret is in any
 * file the agent wrote: the file sink's outputs and rotated files, the http
 * sink's spool (written while its destination is down) and dead letters (its
 * first request after it comes up is refused for good), and the agent's own
 * stdout/stderr at debug level. What reached the destination is checked too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';
import { kernelIt, waitFor } from '../helpers/kernel.js';

const BIN = `${PROJECT_ROOT}/bin/procflow.js`;
const MASK = '[REDACTED]';

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** `n` random characters from `alphabet`. */
function rand(n: number, alphabet = B62): string {
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** One process to start: its binary's name, its arguments, the secrets in them, what its masked args must show. */
interface Case {
  name: string;
  tool: string;
  /** Arguments after bash's `-c SCRIPT x` (or, for the shell case, inside SCRIPT). */
  args: string[];
  /** Text inside the connecting script (the shell-string case carries its secret there). */
  scriptExtra?: string;
  secrets: string[];
  /** Substrings the masked process_args must contain (the key, user, host stay readable). */
  expect: string[];
}

function cases(): Case[] {
  const pw = `Pw${rand(18)}`;
  const curlPass = rand(20);
  const gitToken = rand(24);
  const bearer = `${rand(24)}.${rand(16)}`;
  const pg = `pg${rand(18)}`;
  const jwt = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: rand(12), iat: 1_795_000_000, nonce: rand(16) }))}.${b64url(randomBytes(32))}`;
  const aws = `AKIA${rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
  const shToken = `tk${rand(22)}`;
  const pw2 = `Pw${rand(18)}`;
  const mysql = `My${rand(16)}`;
  const [apiKey, clientSecret, secretKey] = [rand(24), `cs_${rand(22)}`, rand(26)];
  const jvm = `ks${rand(18)}`;
  const pat = `ghp_${rand(36)}`;
  const pemLines = [b64url(randomBytes(48)), b64url(randomBytes(48))];
  const pem = `-----BEGIN PRIVATE KEY-----\n${pemLines.join('\n')}\n-----END PRIVATE KEY-----`;
  const bashPw = `Bp${rand(18)}`;
  return [
    { name: '--password=', tool: 'app-client', args: ['--user=svc', `--password=${pw}`, '--host=db.internal'], secrets: [pw], expect: ['--user=svc', `--password=${MASK}`, '--host=db.internal'] },
    { name: '-u user:pass', tool: 'curl', args: ['-sS', '-u', `alice:${curlPass}`, 'https://api.internal.example/v1/items'], secrets: [curlPass], expect: [`-u alice:${MASK}`, 'https://api.internal.example/v1/items'] },
    { name: 'URL userinfo', tool: 'git', args: ['clone', `https://deploy:${gitToken}@git.example.com/org/repo.git`], secrets: [gitToken], expect: [`https://deploy:${MASK}@git.example.com/org/repo.git`] },
    { name: 'Bearer header', tool: 'curl', args: ['-sS', '-H', `Authorization: Bearer ${bearer}`, 'https://api.example.com/v2/me'], secrets: [bearer], expect: [`Authorization: Bearer ${MASK}`, 'https://api.example.com/v2/me'] },
    { name: 'PGPASSWORD=', tool: 'psql', args: [`PGPASSWORD=${pg}`, '-h', 'db.internal', '-U', 'app', 'shop'], secrets: [pg], expect: [`PGPASSWORD=${MASK}`, '-h db.internal -U app shop'] },
    { name: 'JWT', tool: 'api-call', args: ['--endpoint', 'https://auth.example.com/introspect', jwt], secrets: [jwt], expect: [`--endpoint https://auth.example.com/introspect ${MASK}`] },
    { name: 'AWS access key id', tool: 'aws', args: ['s3', 'cp', 'report.csv', 's3://reports-bucket/', aws], secrets: [aws], expect: [`s3 cp report.csv s3://reports-bucket/ ${MASK}`] },
    { name: 'sh -c "… --token …"', tool: 'sh', args: [], scriptExtra: `: deploy --token ${shToken} --env prod`, secrets: [shToken], expect: [`--token ${MASK} --env prod`] },
    { name: '--password x', tool: 'db-admin', args: ['--user=svc', '--password', pw2, '--host=db2.internal'], secrets: [pw2], expect: [`--user=svc --password ${MASK} --host=db2.internal`] },
    { name: 'mysql -pSECRET', tool: 'mysql', args: ['-uroot', `-p${mysql}`, 'shop'], secrets: [mysql], expect: [`-uroot -p${MASK} shop`] },
    { name: '--api-key= --client-secret x --secret-key=', tool: 'svc-cli', args: [`--api-key=${apiKey}`, '--client-secret', clientSecret, `--secret-key=${secretKey}`], secrets: [apiKey, clientSecret, secretKey], expect: [`--api-key=${MASK} --client-secret ${MASK} --secret-key=${MASK}`] },
    { name: '-D…password=… (JVM)', tool: 'java', args: [`-Djavax.net.ssl.keyStorePassword=${jvm}`, '-Dfoo=bar', '-jar', 'app.jar'], secrets: [jvm], expect: [`-Djavax.net.ssl.keyStorePassword=${MASK} -Dfoo=bar -jar app.jar`] },
    { name: 'GitHub personal access token', tool: 'gh', args: ['auth', 'login', '--with', pat], secrets: [pat], expect: [`auth login --with ${MASK}`] },
    { name: 'private key block', tool: 'keytool', args: ['import', pem], secrets: pemLines, expect: ['import -----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', MASK] },
    { name: 'bash -c "… --password=…"', tool: 'bash', args: [], scriptExtra: `: mysql --password=${bashPw} shop`, secrets: [bashPw], expect: [`mysql --password=${MASK} shop`] },
    { name: '--password-file PATH is kept', tool: 'app-server', args: ['--password-file', '/etc/app/pw', '--listen', ':8443'], secrets: [], expect: ['--password-file /etc/app/pw --listen :8443'] },
  ];
}

/** Files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every 8-character piece of every secret found in `text`, as `case: piece`. */
function leaks(text: string, all: Case[]): string[] {
  const found: string[] = [];
  for (const c of all) {
    for (const s of c.secrets) {
      for (let i = 0; i + 8 <= s.length; i++) {
        if (text.includes(s.slice(i, i + 8))) {
          found.push(`${c.name}: ${s.slice(i, i + 8)}`);
          break;
        }
      }
    }
  }
  return found;
}

/** Leaks in every file under `dirs`, as `file → case: piece`. */
function scan(dirs: string[], all: Case[]): string[] {
  return dirs.flatMap(filesUnder).flatMap((f) => leaks(readFileSync(f, 'latin1'), all).map((l) => `${f} → ${l}`));
}

/** The records of every flows.log file (current and rotated). */
function outputRecords(out: string): Record<string, unknown>[] {
  return filesUnder(out).filter((f) => /flows\.log(\.\d+)?$/.test(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
}

/** A port nothing listens on now (the http sink's destination, started later). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('procflow run: no secret leaves the process arguments', () => {
  kernelIt('masks every planted secret in flows.log; no 8-character piece of one is in outputs, rotated files, spool, dead letters or the agent logs', async () => {
    const dir = mkdtempSync('/tmp/procflow-noleak-');
    let passed = false;
    const [data, out, logs, bin] = ['data', 'out', 'logs', 'bin'].map((d) => join(dir, d));
    for (const d of [out, logs, bin]) mkdirSync(d, { mode: 0o700 });
    const port = await freePort();
    writeFileSync(join(dir, 'procflow.yaml'), `flushInterval: 1s
statsInterval: 1s
aggregationKindForAllowed: 0
argsCap: 16384
dataDir: ${data}
sinks:
  - type: file
    path: ${out}/flows.log
    maxFileSizeMB: 1
    maxFiles: 4
  - type: http
    name: collector
    url: http://127.0.0.1:${port}/ingest
    batchMaxRecords: 50
    retryInitial: 200ms
    retryMax: 1s
    flushTimeout: 5s
`);
    const echo = spawn('node', [`${PROJECT_ROOT}/test/fixtures/echo-server.mjs`, '127.0.0.1', '100', '37'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let destination: Server | undefined;
    let agent: ReturnType<typeof spawn> | undefined;
    try {
      const echoPort = await new Promise<number>((r) => createInterface({ input: echo.stdout! }).on('line', (l) => { if (l.startsWith('tcp ')) r(Number(l.slice(4))); }));
      const [stdoutFile, stderrFile] = [join(logs, 'agent.stdout'), join(logs, 'agent.stderr')];
      agent = spawn('node', [BIN, 'run', '--config', join(dir, 'procflow.yaml')], {
        stdio: ['ignore', openSync(stdoutFile, 'w', 0o600), openSync(stderrFile, 'w', 0o600)],
        env: { ...process.env, PROCFLOW_LOG_LEVEL: 'debug' },
      });
      const exited = new Promise<number | null>((r) => agent!.on('exit', r));
      const stderr = () => readFileSync(stderrFile, 'utf8');
      expect(await waitFor(() => stderr().includes('procflow ready'), 60_000, 50), stderr()).toBe(true);

      // Each case 32 times, with ~1 KB of harmless padding, so flows.log passes 1 MB and rotates.
      const all = cases();
      const padding = `--comment=${'lorem ipsum dolor sit amet '.repeat(40)}`;
      const pids = new Map<number, Case>();
      for (let round = 0; round < 32; round++) {
        for (const c of all) {
          const exe = join(bin, c.tool);
          if (!existsSync(exe)) copyFileSync('/bin/bash', exe);
          const script = `exec 3<>/dev/tcp/127.0.0.1/${echoPort}; printf '%*s' 100 '' >&3; read -r -t 5 -N 37 _ <&3${c.scriptExtra ? `; ${c.scriptExtra}` : ''}`;
          const r = spawnSync(exe, ['-c', script, 'x', ...c.args, padding], { stdio: 'ignore', timeout: 20_000 });
          expect(r.status, `${c.name}: ${String(r.error ?? '')}`).toBe(0);
          pids.set(r.pid!, c);
        }
      }

      // Every process's flow is in the outputs (a flush happens every second).
      const byPid = () => {
        const m = new Map<string, Record<string, unknown>[]>();
        for (const rec of outputRecords(out)) {
          if (rec.dest_port !== echoPort || rec.reporter !== 'src') continue;
          const list = m.get(String(rec.process_id)) ?? [];
          list.push(rec);
          m.set(String(rec.process_id), list);
        }
        return m;
      };
      expect(await waitFor(() => { const m = byPid(); return [...pids.keys()].every((p) => m.has(String(p))); }, 60_000, 200), 'a flow record for every process').toBe(true);
      const records = byPid();
      const failed: string[] = [];
      for (const [pid, c] of pids) {
        const rec = records.get(String(pid))![0]!;
        const args = (rec.process_args as string[]).join('\n');
        // A record without the exec's path and args (process_name = comm) is an attribution failure, not a redaction one: said apart.
        if (rec.num_process_args === 0) failed.push(`${c.name} (pid ${pid}): attributed without its exec (process_name ${String(rec.process_name)}, no args)`);
        else for (const e of c.expect) if (!args.includes(e)) failed.push(`${c.name} (pid ${pid}): process_args lack ${JSON.stringify(e)}: ${JSON.stringify(args.slice(0, 300))}`);
      }
      expect(failed).toEqual([]);
      expect(existsSync(`${out}/flows.log.1`), 'flows.log rotated').toBe(true);

      // The destination is down: the http sink's spool holds the records.
      const spoolDir = join(data, 'spool', 'collector');
      expect(await waitFor(() => filesUnder(spoolDir).some((f) => f.endsWith('.seg') && statSync(f).size > 0), 30_000, 100), 'spool segments written').toBe(true);
      const whileDown = scan([data, out, logs], all);

      // The destination comes up: its first request is refused for good (dead letters), the rest accepted.
      const received: string[] = [];
      let requests = 0;
      destination = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(Buffer.concat(chunks).toString('latin1'));
          res.writeHead(++requests === 1 ? 400 : 204).end();
        });
      });
      await new Promise<void>((r) => destination!.listen(port, '127.0.0.1', () => r()));
      const deadLetter = join(data, 'dead-letter', 'collector.ndjson');
      expect(await waitFor(() => requests >= 2 && existsSync(deadLetter) && statSync(deadLetter).size > 0, 30_000, 100), 'dead letters written and a batch accepted').toBe(true);

      agent.kill('SIGTERM');
      expect(await exited, stderr()).toBe(0);
      agent = undefined;
      expect(stderr()).toMatch(/"level":(20|"debug")/); // debug lines were written (and scanned)
      const atEnd = scan([data, out, logs], all);
      const sent = received.flatMap((body) => leaks(body, all).map((l) => `sent to the destination → ${l}`));
      expect([...whileDown, ...atEnd, ...sent]).toEqual([]);
      passed = true;
    } finally {
      agent?.kill('SIGKILL');
      echo.kill();
      destination?.close();
      if (passed) rmSync(dir, { recursive: true, force: true }); // kept after a failure, to look at
    }
  }, 240_000);
});

// In-guest runner of the kernel matrix (test/kernels/run.mjs boots a kernel and runs this as root,
// chrooted into the host's root mounted read-only). Plain node, not vitest: JS runs ~19× slower
// under emulation, so the checks are a compact version of test/sources/bpf/{exec,net}.kernel.test.ts.
//
// 1. `procflow check --hooks kprobe --json` (must attach every logical hook through kprobes), and the
//    same check with hooks=auto (runCheck, what `procflow check --json` prints: which family auto picks).
// 2. One cell per hook mode, kprobe then tracepoint, each with the same expected events:
//    exec+exit of COUNT processes (nonce argv with an empty argument and a non-UTF-8 byte, run
//    through a symlink to a copied binary), TCP on 127.0.0.1 and [::1] (1000 bytes out, 37 back;
//    both ends attributed to their own pid) and UDP on both (1000/37, unconnected and connected).
//
// Usage: node test/kernels/guest.mjs OUT_DIR  → OUT_DIR/result.json (rewritten after every step).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = process.argv[2] ?? '/tmp/out';
const COUNT = 30;
const PEERS = join(ROOT, 'test', 'kernels', 'peers.mjs');
const { EXCHANGES } = await import(PEERS);

const { BpfCapture } = await import(join(ROOT, 'dist/host/sources/bpf/loader.js'));
const { LOGICAL_HOOKS, MIN_KERNEL } = await import(join(ROOT, 'dist/host/sources/bpf/hooks.js'));
const { kernelAtLeast, readKernelInfo } = await import(join(ROOT, 'dist/host/kernel/features.js'));
const { createLogger } = await import(join(ROOT, 'dist/host/log.js'));
const { runCheck } = await import(join(ROOT, 'dist/host/cli/check.js'));
const log = createLogger(process.env.PROCFLOW_LOG_LEVEL ?? 'warn');

const result = { release: release(), cells: {} };
const save = () => writeFileSync(join(OUT, 'result.json'), `${JSON.stringify(result, null, 1)}\n`);
const say = (s) => process.stdout.write(`[${(performance.now() / 1000).toFixed(1)} s] ${s}\n`);

async function waitFor(check, deadlineMs, everyMs = 20) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/** `procflow check --hooks mode --json`, through the CLI as an operator runs it. */
function check(mode) {
  const args = [join(ROOT, 'bin', 'procflow.js'), 'check', '--hooks', mode, '--json'];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  writeFileSync(join(OUT, `check-${mode}.json`), r.stdout ?? '');
  if (r.stderr) process.stdout.write(r.stderr);
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = undefined;
  }
  say(`procflow check --hooks ${mode}: exit ${r.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { exit: r.status, report };
}

/** A peers.mjs process whose stdout lines can be awaited. */
class Peer {
  constructor(args) {
    this.lines = [];
    this.child = spawn(process.execPath, [PEERS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.exit = new Promise((r) => this.child.on('exit', (code) => r(code)));
    createInterface({ input: this.child.stdout }).on('line', (l) => this.lines.push(l));
  }
  get pid() {
    return this.child.pid;
  }
  async line(prefix, deadlineMs = 60_000) {
    const find = () => this.lines.find((l) => l.startsWith(prefix));
    if (!(await waitFor(find, deadlineMs))) throw new Error(`peer ${this.child.spawnargs.slice(2).join(' ')}: no "${prefix}" line`);
    return find().slice(prefix.length).trim();
  }
}

function run(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** One cell: a capture with `hooks: mode`, the exec/TCP/UDP workload, every expected event checked. */
async function runCell(mode, kernel) {
  const t0 = performance.now();
  const failures = [];
  const notes = [];
  const signature = [];
  let events = 0;
  const allowed = mode === 'kprobe' ? ['kprobe'] : ['tp_btf', 'tp'];
  const cap = BpfCapture.start({ hooks: mode, ignoreTgid: process.pid }, log);
  const records = [];
  const timer = setInterval(() => cap.poll((r) => records.push(r)), 5);
  const peers = [];
  const dir = mkdtempSync(join(tmpdir(), 'pfk-'));
  const families = {};
  const skipped = new Set();
  try {
    say(`${mode}: capture started in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const h of cap.hooks) {
      families[h.hook] = h.chosen ?? 'none';
      if (h.chosen && allowed.includes(h.chosen)) continue;
      const min = MIN_KERNEL[h.hook].tp;
      if (!h.chosen && mode === 'tracepoint' && !kernelAtLeast(kernel.version, min)) {
        // Documented: that tracepoint does not exist before `min` (hooks=auto uses kprobes there).
        skipped.add(h.hook);
        notes.push(`${h.hook} n/a: no tracepoint before Linux ${min}`);
        continue;
      }
      failures.push(`${h.hook}: ${h.chosen ?? 'not attached'} with hooks=${mode}: ${h.reason}`);
    }
    // Every expected event counts once; per group, how many matched (the cells compare these).
    const groups = new Map();
    const expect = (group, what, ok, detail) => {
      const g = groups.get(group) ?? { ok: 0, all: 0 };
      groups.set(group, g);
      g.all++;
      if (ok) {
        g.ok++;
        events++;
      } else failures.push(`${what}: ${detail}`);
    };

    // --- workload: network peers (node starts slowly here, so they start first), then the exec loop.
    const nets = EXCHANGES.map((x) => ({ ...x }))
      .filter((n) => n.proto === 'tcp' || !(skipped.has('udp_send') || skipped.has('udp_recv')));
    const server = new Peer(['server', ...nets.map((n) => n.name)]);
    peers.push(server);
    const nonce = randomBytes(6).toString('hex');
    const real = join(dir, `prog-${nonce}`);
    copyFileSync('/bin/true', real);
    symlinkSync(real, join(dir, `link-${nonce}`));
    const script = `for i in $(seq 0 ${COUNT - 1}); do ./link-${nonce} "${nonce}-$i" one "" $'\\xff' two; done`;
    const execDone = run('bash', ['-c', script], dir);
    for (const n of nets) n.port = Number(await server.line(`port ${n.name} `));
    const client = new Peer(['client', ...nets.map((n) => `${n.name}=${n.port}`)]);
    peers.push(client);
    for (const n of nets) {
      n.server = server;
      n.client = client;
      n.cport = Number(await client.line(`local ${n.name} `));
    }
    const execRc = await execDone;
    if (execRc !== 0) failures.push(`exec loop exited ${execRc}`);
    const peerRc = await Promise.all(peers.map((p) => p.exit));
    if (peerRc.some((c) => c !== 0)) failures.push(`peers exited ${peerRc.join(', ')}`);

    // --- exec + exit. One deadline for all the waits of the cell, so a broken hook fails it in 40 s.
    const until = Date.now() + 40_000;
    const waitAll = (check) => waitFor(check, Math.max(0, until - Date.now()));
    const mine = () => records.filter((r) => r.kind === 'exec' && r.argv[1]?.startsWith(`${nonce}-`));
    await waitAll(() => mine().length >= COUNT);
    const pids = () => new Set(mine().map((e) => e.pid));
    await waitAll(() => records.filter((r) => r.kind === 'exit' && pids().has(r.pid)).length >= COUNT);
    for (let i = 0; i < COUNT; i++) {
      const want = [`./link-${nonce}`, `${nonce}-${i}`, 'one', '', '\\xff', 'two'];
      const got = mine().filter((e) => e.argv[1] === `${nonce}-${i}`);
      const e = got[0];
      expect('exec', `exec #${i}`, got.length === 1 && e.path === real && same(e.argv, want) && !e.truncated && e.comm === `link-${nonce}`.slice(0, 15),
        got.length !== 1 ? `${got.length} records` : JSON.stringify({ path: e.path, argv: e.argv, truncated: e.truncated, comm: e.comm }));
      if (!e) continue;
      const exits = records.filter((r) => r.kind === 'exit' && r.pid === e.pid);
      expect('exit', `exit of exec #${i}`, exits.length === 1 && exits[0].exitCode === 0, `${exits.length} exit records${exits[0] ? `, code ${exits[0].exitCode}` : ''}`);
    }

    // --- TCP and UDP attribution
    const socks = (pred) => records.filter((r) => 'cookie' in r && r.kind !== 'tcp_stats' && r.kind !== 'sock_owner').filter(pred);
    for (const n of nets) {
      const fam = n.host === '::1' ? 6 : 4;
      const isClient = (r) => r.lport === n.cport && r.rport === n.port;
      const isServer = (r) => r.lport === n.port && r.rport === n.cport;
      const show = (rs) => JSON.stringify(rs.map((r) => ({ kind: r.kind, pid: r.pid, l: `${r.laddr}:${r.lport}`, r: `${r.raddr}:${r.rport}`, out: r.bytesOut, in: r.bytesIn, passive: r.passive })));
      if (n.proto === 'tcp') {
        await waitAll(() => socks((r) => r.kind === 'close' && (isClient(r) || isServer(r))).length >= 2);
        const connect = socks((r) => r.kind === 'connect' && isClient(r));
        const accept = socks((r) => r.kind === 'accept' && isServer(r));
        const cClose = socks((r) => r.kind === 'close' && isClient(r));
        const sClose = socks((r) => r.kind === 'close' && isServer(r));
        const c = connect[0];
        const a = accept[0];
        expect(n.name, `${n.name} connect`, connect.length === 1 && c.pid === n.client.pid && c.proto === 'tcp' && c.family === fam && c.laddr === n.host && c.raddr === n.host && !c.passive,
          `client pid ${n.client.pid}: ${show(connect)}`);
        expect(n.name, `${n.name} accept`, accept.length === 1 && a.pid === n.server.pid && a.proto === 'tcp' && a.family === fam && a.passive,
          `server pid ${n.server.pid}: ${show(accept)}`);
        expect(n.name, `${n.name} client close`, cClose.length === 1 && cClose[0].pid === n.client.pid && cClose[0].bytesOut === 1000 && cClose[0].bytesIn === 37 && cClose[0].cookie === c?.cookie,
          `client pid ${n.client.pid}: ${show(cClose)}`);
        expect(n.name, `${n.name} server close`, sClose.length === 1 && sClose[0].pid === n.server.pid && sClose[0].bytesOut === 37 && sClose[0].bytesIn === 1000 && sClose[0].cookie === a?.cookie,
          `server pid ${n.server.pid}: ${show(sClose)}`);
      } else {
        const want = [
          { kind: 'udp_send', pid: n.client.pid, lport: n.cport, rport: n.port, bytesOut: 1000 },
          { kind: 'udp_recv', pid: n.server.pid, lport: n.port, rport: n.cport, bytesIn: 1000 },
          { kind: 'udp_send', pid: n.server.pid, lport: n.port, rport: n.cport, bytesOut: 37 },
          { kind: 'udp_recv', pid: n.client.pid, lport: n.cport, rport: n.port, bytesIn: 37 },
        ];
        const match = (w) => socks((r) => r.kind === w.kind && r.pid === w.pid && r.lport === w.lport && r.rport === w.rport);
        await waitAll(() => want.every((w) => match(w).length > 0));
        for (const w of want) {
          const got = match(w);
          const r = got[0];
          const bytesOk = w.kind === 'udp_send' ? r?.bytesOut === w.bytesOut && r?.segsOut === 1 : r?.bytesIn === w.bytesIn && r?.segsIn === 1;
          expect(n.name, `${n.name} ${w.kind} pid ${w.pid}`, got.length >= 1 && r.proto === 'udp' && r.family === fam && r.raddr === n.host && bytesOk,
            `${show(got)}; all ${n.name} events: ${show(socks((x) => isClient(x) || isServer(x)))}`);
        }
      }
    }
    for (const [g, c] of groups) signature.push(`${g} ${c.ok}/${c.all}`);
    const counters = cap.counters();
    const dropped = Object.entries(counters).filter(([, c]) => c.dropped > 0).map(([h, c]) => `${h}:${c.dropped}`);
    if (dropped.length > 0) failures.push(`kernel-side drops ${dropped.join(' ')}`);
    if (cap.malformed > 0) failures.push(`${cap.malformed} malformed records`);
  } catch (err) {
    failures.push(`error: ${err.stack ?? err}`);
  } finally {
    clearInterval(timer);
    cap.close();
    for (const p of peers) if (p.child.exitCode === null) p.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const uniq = [...new Set(Object.values(families))].filter((f) => f !== 'none').join('+');
  return { pass: failures.length === 0, events, wallMs: performance.now() - t0, families: uniq, hooks: families, failures, notes, signature };
}

async function main() {
  const kernel = readKernelInfo({ mountTracefs: true });
  result.kernel = { release: kernel.release, btf: kernel.btf, kprobes: kernel.kprobes, cgroup2: kernel.cgroup2 ?? null, tracefs: kernel.tracefs ?? null };
  say(`guest ${kernel.release}: btf ${kernel.btf}, kprobes ${kernel.kprobes}, cgroup2 ${kernel.cgroup2}, tracefs ${kernel.tracefs}`);
  save();

  const ck = check('kprobe');
  result.checkKprobe = { exit: ck.exit, hooks: Object.fromEntries(Object.entries(ck.report?.hooks ?? {}).map(([h, r]) => [h, r.chosen ?? null])), errors: ck.report?.errors ?? [] };
  // hooks=auto: the report `procflow check --json` prints, built in this process (saves a node start).
  const t0 = performance.now();
  const auto = runCheck({ hooks: 'auto' }, log);
  writeFileSync(join(OUT, 'check-auto.json'), `${JSON.stringify(auto, null, 1)}\n`);
  say(`procflow check (hooks=auto, in process): ok ${auto.ok} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  result.auto = Object.fromEntries(Object.entries(auto.hooks).map(([h, r]) => [h, r.chosen ?? null]));
  save();

  for (const mode of ['kprobe', 'tracepoint']) {
    let cell;
    try {
      cell = await runCell(mode, kernel);
    } catch (err) {
      cell = { pass: false, events: 0, wallMs: 0, families: 'none', failures: [`capture did not start: ${err.message}`], notes: [] };
    }
    if (mode === 'kprobe') {
      // procflow check --hooks kprobe must report every logical hook attached through kprobes.
      const bad = LOGICAL_HOOKS.filter((h) => result.checkKprobe.hooks[h] !== 'kprobe');
      if (ck.exit !== 0 || bad.length > 0) {
        cell.pass = false;
        cell.failures.unshift(`procflow check --hooks kprobe: exit ${ck.exit}; not on kprobe: ${bad.map((h) => `${h} (${ck.report?.hooks?.[h]?.reason ?? 'no report'})`).join(', ') || 'none'}`);
      } else {
        cell.notes.unshift(`check --hooks kprobe: ${LOGICAL_HOOKS.length}/${LOGICAL_HOOKS.length} hooks on kprobe`);
      }
    } else if (result.cells.kprobe?.signature) {
      const a = result.cells.kprobe.signature;
      const b = cell.signature ?? [];
      const missing = a.filter((x) => !b.includes(x));
      cell.notes.push(missing.length === 0 && a.length === b.length ? 'same events as kprobe' : `events differ from kprobe (kprobe had ${missing.join(', ')})`);
    }
    result.cells[mode] = cell;
    say(`${mode}: ${cell.pass ? 'pass' : 'FAIL'}, ${cell.events} events checked in ${(cell.wallMs / 1000).toFixed(1)} s${cell.failures.length ? `\n  ${cell.failures.join('\n  ')}` : ''}`);
    save();
  }
  return Object.values(result.cells).every((c) => c.pass) ? 0 : 1;
}

process.exitCode = await main();

#!/usr/bin/env node
// The kernel matrix (`npm run test:kernels`): boots Debian's kernels under qemu and runs procflow's
// capture checks inside each, once with hooks=kprobe and once with hooks=tracepoint.
//
// Per kernel of MATRIX: resolve the newest package of the series from Debian's registry (apt-cache),
// fetch it once into .cache/kernels/ (apt-get download), keep the kernel image and the few modules
// the guest needs (virtio, 9p), build a busybox initramfs, boot it under qemu (TCG: no KVM here) with
// the host's root read-only over 9p and a writable 9p share for the results, and run
// test/kernels/guest.mjs chrooted into the host's root, as root. One boot per kernel.
//
// Prints one line per kernel × hook family (pass/fail, events checked, wall time) and exits
// non-zero when any cell failed or did not run.
//
// Usage: node test/kernels/run.mjs [--only 6.1|6.12] [--serial] [--timeout SECONDS per boot]
// Needs root, qemu-system-x86, busybox-static, kmod, cpio, apt-get/dpkg-deb, and npm ci done (it
// compiles dist/ and the BPF object itself, into .cache/kernels/tree/).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(ROOT, '.cache', 'kernels');

/** The kernels tested: Debian bookworm's 6.1 (its default) and 6.12 (bookworm backports line). */
const MATRIX = [
  { series: '6.1', search: '^linux-image-6\\.1\\.0-[0-9]+-amd64$', key: /^linux-image-6\.1\.0-(\d+)-amd64$/ },
  { series: '6.12', search: '^linux-image-6\\.12\\.[0-9]+\\+deb12-amd64$', key: /^linux-image-6\.12\.(\d+)\+deb12-amd64$/ },
];
/** The cells of each kernel, in the order the guest runs them. */
const CELLS = ['kprobe', 'tracepoint'];
/** Modules the guest loads (with their dependencies, in modprobe's order) when they are not built in. */
const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p'];

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const only = opt('--only');
const timeoutS = Number(opt('--timeout', '240'));
const serial = argv.includes('--serial');

const t = () => performance.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const say = (s) => process.stdout.write(`${s}\n`);

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !options.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}`);
  }
  return r;
}

function which(tool) {
  return sh('sh', ['-c', `command -v ${tool}`], { allowFail: true }).stdout.trim();
}

/** True when an ELF64 executable has no PT_INTERP program header (no dynamic loader needed). */
function isStatic(file) {
  const b = readFileSync(file);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  for (let i = 0; i < b.readUInt16LE(0x38); i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

function preflight() {
  const problems = [];
  if (process.getuid?.() !== 0) problems.push('run as root (the guest mounts the host root through qemu, and apt-get downloads as root)');
  for (const [tool, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['busybox', 'busybox-static'], ['depmod', 'kmod'],
    ['modprobe', 'kmod'], ['cpio', 'cpio'], ['xz', 'xz-utils'], ['apt-get', 'apt'], ['apt-cache', 'apt'], ['dpkg-deb', 'dpkg'], ['gzip', 'gzip']]) {
    if (!which(tool)) problems.push(`${tool} missing (apt-get install ${pkg})`);
  }
  const busybox = which('busybox');
  if (busybox && !isStatic(busybox)) problems.push(`${busybox} is not statically linked (apt-get install busybox-static)`);
  for (const f of ['node_modules/koffi', 'node_modules/.bin/tsc']) {
    if (!existsSync(join(ROOT, f))) problems.push(`${f} missing (npm ci)`);
  }
  if (problems.length > 0) {
    for (const p of problems) say(`test:kernels: ${p}`);
    process.exit(2);
  }
}

/**
 * Builds what the guests run into a private tree, .cache/kernels/tree/: other sessions may rebuild
 * dist/ while a guest reads it over 9p (a torn file is a SyntaxError in the guest). The tree has
 * its own dist/ (tsc --outDir), the BPF object, bin/, the guest runner, and node_modules as a link.
 */
function snapshot() {
  const tree = join(CACHE, 'tree');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'bpf', 'build'), { recursive: true });
  sh('make', ['-s', '-C', join(ROOT, 'bpf')]);
  copyFileSync(join(ROOT, 'bpf', 'build', 'procflow.bpf.o'), join(tree, 'bpf', 'build', 'procflow.bpf.o'));
  sh(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(tree, 'dist')]);
  copyFileSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
  symlinkSync(relative(tree, join(ROOT, 'node_modules')), join(tree, 'node_modules'));
  for (const f of ['bin/procflow.js', 'test/kernels/guest.mjs', 'test/kernels/peers.mjs']) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(tree, f));
  }
  return tree;
}

/** Newest package of a series known to apt (after `apt-get update`), with its version. */
function resolve(entry) {
  const names = sh('apt-cache', ['search', '--names-only', entry.search]).stdout.split('\n')
    .map((l) => l.split(' - ')[0].trim()).filter((n) => entry.key.test(n));
  if (names.length === 0) return undefined;
  names.sort((a, b) => Number(b.match(entry.key)[1]) - Number(a.match(entry.key)[1]));
  const pkg = names[0];
  const version = sh('apt-cache', ['show', '--no-all-versions', pkg]).stdout.match(/^Version: (.+)$/m)?.[1];
  return version ? { pkg, version, release: pkg.replace(/^linux-image-/, '') } : undefined;
}

function resolveAll(entries) {
  let out = entries.map((e) => ({ entry: e, got: resolve(e) }));
  if (out.some((r) => !r.got)) {
    say('test:kernels: a series is not in the package lists: apt-get update');
    sh('apt-get', ['update', '-q']);
    out = entries.map((e) => ({ entry: e, got: resolve(e) }));
  }
  return out;
}

/**
 * Makes sure .cache/kernels/<pkg>_<version>/ holds vmlinuz, mods/ and mods/order. Downloads and
 * unpacks only what is missing; returns the download and unpack times (0 when cached).
 */
function fetchKernel(k) {
  const dir = join(CACHE, `${k.pkg}_${k.version}`);
  const ready = join(dir, 'ready');
  if (existsSync(ready)) return { dir, downloadMs: 0, unpackMs: 0, bytes: 0, cached: true };
  rmSync(dir, { recursive: true, force: true });
  const debs = join(CACHE, 'debs');
  mkdirSync(debs, { recursive: true });
  const t0 = t();
  const debName = () => readdirSync(debs).find((f) => f.startsWith(`${k.pkg}_`) && f.endsWith('.deb') && f.includes(k.version.replace(/:/g, '%3a')));
  if (!debName()) {
    const r = sh('apt-get', ['download', '-q', `${k.pkg}=${k.version}`], { cwd: debs, allowFail: true });
    if (r.status !== 0) {
      // An old point release left the mirror since the last `apt-get update`: refresh once and retry.
      sh('apt-get', ['update', '-q']);
      sh('apt-get', ['download', '-q', `${k.pkg}=${k.version}`], { cwd: debs });
    }
  }
  const deb = join(debs, debName());
  const downloadMs = t() - t0;
  // Unpack only the kernel image and the virtio/9p modules (the whole package is ~400 MB unpacked).
  const t1 = t();
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  const mdir = `./lib/modules/${k.release}`;
  const wanted = [`./boot/vmlinuz-${k.release}`, `./boot/config-${k.release}`, `${mdir}/modules.order`, `${mdir}/modules.builtin`,
    `${mdir}/modules.builtin.modinfo`, `${mdir}/kernel/drivers/virtio`, `${mdir}/kernel/net/9p`, `${mdir}/kernel/fs/9p`,
    `${mdir}/kernel/fs/netfs`, `${mdir}/kernel/fs/fscache`];
  sh('sh', ['-c', `dpkg-deb --fsys-tarfile "$0" | tar -x -C "$1" --ignore-failed-read --wildcards ${wanted.map((w) => `'${w}'`).join(' ')} 2>/dev/null; test -f "$1/boot/vmlinuz-$2"`,
    deb, tree, k.release]);
  const config = readFileSync(join(tree, 'boot', `config-${k.release}`), 'utf8');
  for (const c of ['CONFIG_KPROBES=y', 'CONFIG_DEBUG_INFO_BTF=y', 'CONFIG_BPF_EVENTS=y', 'CONFIG_CGROUP_BPF=y']) {
    if (!config.includes(`\n${c}\n`)) throw new Error(`${k.pkg} is not a kernel for this matrix: ${c} not set`);
  }
  sh('depmod', ['-b', tree, k.release]);
  const deps = sh('modprobe', ['-d', tree, '-S', k.release, '--show-depends', '-a', ...GUEST_MODULES]).stdout;
  const order = [];
  mkdirSync(join(dir, 'mods'), { recursive: true });
  for (const line of deps.split('\n')) {
    const m = line.match(/^insmod (\S+)/);
    if (!m) continue;
    const name = basename(m[1]).replace(/\.ko(\.xz|\.zst|\.gz)?$/, '.ko');
    if (order.includes(name)) continue;
    order.push(name);
    const out = join(dir, 'mods', name);
    if (m[1].endsWith('.xz')) writeFileSync(out, sh('xz', ['-dc', m[1]], { encoding: 'buffer' }).stdout);
    else copyFileSync(m[1], out);
  }
  writeFileSync(join(dir, 'mods', 'order'), `${order.join('\n')}\n`);
  copyFileSync(join(tree, 'boot', `vmlinuz-${k.release}`), join(dir, 'vmlinuz'));
  rmSync(tree, { recursive: true, force: true });
  writeFileSync(ready, `${k.pkg} ${k.version}\n`);
  return { dir, downloadMs, unpackMs: t() - t1, bytes: statSync(deb).size, cached: false };
}

/** Drops cached packages and unpacked kernels of the series that are not the current newest. */
function prune(current) {
  const keep = new Set(current.map((k) => `${k.pkg}_${k.version}`));
  for (const e of existsSync(CACHE) ? readdirSync(CACHE) : []) {
    if (e.startsWith('linux-image-') && !keep.has(e)) rmSync(join(CACHE, e), { recursive: true, force: true });
  }
  const debs = join(CACHE, 'debs');
  for (const f of existsSync(debs) ? readdirSync(debs) : []) {
    if (![...keep].some((k) => f.startsWith(`${k.split('_')[0]}_${k.split('_')[1].replace(/:/g, '%3a')}_`))) rmSync(join(debs, f), { force: true });
  }
}

/**
 * The guest's /init: modules, the host root over 9p, kernel filesystems, then the guest runner.
 * The guest gets a private tmpfs on /tmp; a checkout that lives under /tmp (CI may clone there)
 * is held aside with a bind mount before /tmp is masked, then bound back in place.
 */
function initScript(guestCmd, projectRoot) {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /mods/order); do insmod /mods/$m || echo "init: insmod $m failed"; done
fail() { echo "init: $*"; poweroff -f; }
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || fail "cannot mount the host root over 9p"
case "${projectRoot}" in /tmp/*) mkdir -p /project && mount -o bind "/host${projectRoot}" /project || fail "cannot hold the project aside";; esac
mount -t tmpfs -o mode=1777 tmpfs /host/tmp || fail "tmpfs"
case "${projectRoot}" in /tmp/*) mkdir -p "/host${projectRoot}" && mount -o bind /project "/host${projectRoot}" || fail "cannot bind the project back under /tmp";; esac
mkdir -p /host/tmp/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /host/tmp/out || fail "cannot mount the results share"
mount -t proc proc /host/proc; mount -t sysfs sysfs /host/sys; mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm 2>/dev/null
mount -t debugfs debugfs /host/sys/kernel/debug; mount -t tracefs tracefs /host/sys/kernel/tracing
mount -t bpf bpf /host/sys/fs/bpf; mount -t cgroup2 cgroup2 /host/sys/fs/cgroup || echo "init: no cgroup2"
ip link set lo up
echo "init: guest ready after $(cut -d' ' -f1 /proc/uptime) s of guest time"
chroot /host /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/tmp ${guestCmd} > /host/tmp/out/guest.log 2>&1
echo $? > /host/tmp/out/rc
sync
poweroff -f
`;
}

function buildInitramfs(k, kdir, runDir, tree) {
  const stage = join(runDir, 'initramfs');
  rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'dev', 'proc', 'sys', 'mods']) mkdirSync(join(stage, d), { recursive: true });
  copyFileSync(which('busybox'), join(stage, 'bin', 'busybox'));
  chmodSync(join(stage, 'bin', 'busybox'), 0o755);
  for (const f of readdirSync(join(kdir, 'mods'))) copyFileSync(join(kdir, 'mods', f), join(stage, 'mods', f));
  // PFK_GUEST_CMD replaces the guest runner (diagnostics: timings of the emulated guest itself).
  const guest = process.env.PFK_GUEST_CMD ?? `node ${join(tree, 'test', 'kernels', 'guest.mjs')} /tmp/out`;
  writeFileSync(join(stage, 'init'), initScript(guest, resolvePath(ROOT)));
  chmodSync(join(stage, 'init'), 0o755);
  const img = join(runDir, 'initramfs.cpio.gz');
  sh('sh', ['-c', 'cd "$0" && find . | cpio -o -H newc --quiet | gzip -1 > "$1"', stage, img]);
  rmSync(stage, { recursive: true, force: true });
  return img;
}

/** Boots one kernel; resolves with the qemu exit status (or 'timeout'). */
function boot(kdir, initrd, outDir, consoleLog) {
  // TCG: `-cpu max` and tsc=reliable (a TSC clocksource, not an emulated HPET read per clock_gettime)
  // took a 6.12 guest's workload from 105 s to 84 s and a 6.1 guest's from 89 s to 71 s.
  const args = ['-accel', 'tcg,thread=multi', '-cpu', 'max', '-m', '1024', '-smp', '2', '-nographic', '-no-reboot',
    '-kernel', join(kdir, 'vmlinuz'), '-initrd', initrd,
    '-append', 'console=ttyS0 rdinit=/init quiet loglevel=3 panic=-1 mitigations=off tsc=reliable',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${outDir},mount_tag=out,security_model=none`];
  return new Promise((done) => {
    const chunks = [];
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    q.stdout.on('data', (d) => chunks.push(d));
    q.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      q.kill('SIGKILL');
    }, timeoutS * 1000);
    q.on('error', (err) => {
      clearTimeout(timer);
      writeFileSync(consoleLog, String(err));
      done('spawn failed');
    });
    q.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(consoleLog, Buffer.concat(chunks));
      done(timedOut ? 'timeout' : code);
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const tail = (file, n) => (existsSync(file) ? readFileSync(file, 'utf8').replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').trim().split('\n').slice(-n) : []);

async function main() {
  preflight();
  const tStart = t();
  const entries = MATRIX.filter((e) => !only || e.series === only);
  const resolved = resolveAll(entries);
  const lines = [];
  let failed = false;
  const kernels = [];
  for (const { entry, got } of resolved) {
    if (!got) {
      lines.push(`FAIL ${entry.series.padEnd(22)} all        no linux-image package of the ${entry.series} series in the package lists`);
      failed = true;
      continue;
    }
    say(`kernel ${entry.series}: newest is ${got.pkg} ${got.version}`);
    kernels.push({ ...got, series: entry.series });
  }
  mkdirSync(CACHE, { recursive: true });
  if (!only) prune(kernels);
  for (const k of kernels) {
    try {
      const f = fetchKernel(k);
      k.dir = f.dir;
      say(f.cached
        ? `fetch  ${k.pkg} ${k.version}: cached in ${relative(ROOT, f.dir)}`
        : `fetch  ${k.pkg} ${k.version}: downloaded ${(f.bytes / 1e6).toFixed(1)} MB in ${secs(f.downloadMs)}, unpacked in ${secs(f.unpackMs)} (first run only)`);
    } catch (err) {
      k.error = `fetch failed: ${err.message}`;
    }
  }
  const tFetched = t();
  const tree = snapshot();
  const tBuilt = t();
  say(`build  dist/ and the BPF object into ${relative(ROOT, tree)} in ${secs(tBuilt - tFetched)}`);
  // One boot per kernel; the guests run side by side unless --serial (each is mostly one busy vCPU).
  const bootOne = async (k) => {
    k.runDir = join(CACHE, 'runs', k.release);
    k.outDir = join(k.runDir, 'out');
    rmSync(k.runDir, { recursive: true, force: true });
    mkdirSync(k.outDir, { recursive: true });
    k.consoleLog = join(k.runDir, 'console.log');
    const t0 = t();
    if (!k.error) {
      try {
        const initrd = buildInitramfs(k, k.dir, k.runDir, tree);
        k.status = await boot(k.dir, initrd, k.outDir, k.consoleLog);
        // A guest that ended without its runner's exit code (e.g. a guest kernel panic while booting
        // under TCG, seen once in 6.12's sched_clock) is booted once more; the first console is kept
        // and the retry is reported, so a crash our programs cause still fails twice and shows.
        if (k.status !== 'timeout' && !existsSync(join(k.outDir, 'rc'))) {
          const first = join(k.runDir, 'console-first-boot.log');
          renameSync(k.consoleLog, first);
          k.retried = tail(first, 200).find((l) => /Kernel panic|BUG:|Oops/.test(l))?.replace(/^\s*\[[\s\d.]+\]\s*/, '') ?? `qemu exit ${k.status}, no runner exit code`;
          rmSync(k.outDir, { recursive: true, force: true });
          mkdirSync(k.outDir, { recursive: true });
          k.status = await boot(k.dir, initrd, k.outDir, k.consoleLog);
        }
      } catch (err) {
        k.error = err.message;
      }
    }
    k.bootMs = t() - t0;
  };
  if (serial) for (const k of kernels) await bootOne(k);
  else await Promise.all(kernels.map(bootOne));
  for (const k of kernels) {
    const { runDir, outDir, status } = k;
    const result = readJson(join(outDir, 'result.json'));
    const rc = existsSync(join(outDir, 'rc')) ? readFileSync(join(outDir, 'rc'), 'utf8').trim() : undefined;
    const why = k.error ?? (status === 'timeout' ? `qemu killed after ${timeoutS} s` : rc === undefined ? `guest did not finish (qemu exit ${status})` : '');
    if (k.retried) say(`retry  ${k.release}: the first boot ended without the runner's exit code (${k.retried}); booted once more (its console: ${relative(ROOT, join(runDir, 'console-first-boot.log'))})`);
    say(`boot   ${k.release}: qemu ${status === 'timeout' ? 'timed out' : `exited ${status}`} after ${secs(k.bootMs)}; guest runner exit ${rc ?? 'none'}; logs in ${relative(ROOT, runDir)}`);
    if (result?.auto) say(`auto   ${k.release}: hooks=auto picks ${Object.entries(result.auto).map(([h, f]) => `${h}=${f ?? 'none'}`).join(' ')}`);
    for (const cell of CELLS) {
      const c = result?.cells?.[cell];
      const label = `${k.release.padEnd(22)} ${cell.padEnd(10)}`;
      if (!c) {
        failed = true;
        lines.push(`FAIL ${label} did not run${why ? `: ${why}` : ''}`);
        continue;
      }
      if (!c.pass) failed = true;
      const notes = c.notes?.length ? `; ${c.notes.join('; ')}` : '';
      lines.push(`${c.pass ? 'PASS' : 'FAIL'} ${label} ${String(c.events).padStart(3)} events checked  ${secs(c.wallMs).padStart(7)}  families ${c.families}${notes}`);
      for (const f of (c.failures ?? []).slice(0, 12)) lines.push(`       - ${f}`);
    }
    if (!result?.cells || Object.values(result.cells).some((c) => !c.pass) || rc !== '0') {
      for (const l of tail(join(outDir, 'guest.log'), 15)) say(`  guest| ${l}`);
      if (!result) for (const l of tail(k.consoleLog, 15)) say(`  console| ${l}`);
    }
  }
  say('');
  say('kernel matrix (kernel × hook family):');
  for (const l of lines) say(l);
  say(`kernel matrix: ${failed ? 'FAILED' : 'passed'} in ${secs(t() - tStart)} (resolve+fetch ${secs(tFetched - tStart)}, build ${secs(tBuilt - tFetched)}, boots ${secs(t() - tBuilt)})`);
  process.exitCode = failed ? 1 : 0;
}

await main();

/** /proc parsers and the fallback snapshot, on a fixture tree (no root, no kernel). */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCgroupV2, parseProcNet, parseStat, socketInode } from '../../../host/sources/procfs/parse.js';
import { snapshotProc } from '../../../host/sources/procfs/snapshot.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5002 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 6001 1 0000000000000000 20 4 0 10 -1
   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000200007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 6002 1 0000000000000000 20 4 0 10 -1
`;

const root = mkdtempSync(join(tmpdir(), 'procflow-proc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(pid: number, comm: string, ppid: number, startTicks: number, argv: Buffer, exe: string | null, fds: Record<string, string>, cgroup?: string) {
  const dir = join(root, String(pid));
  mkdirSync(join(dir, 'fd'), { recursive: true });
  const fields = ['S', String(ppid), ...Array(17).fill('0'), String(startTicks), '0'];
  writeFileSync(join(dir, 'stat'), `${pid} (${comm}) ${fields.join(' ')}\n`);
  writeFileSync(join(dir, 'status'), `Name:\t${comm}\nUid:\t1000\t1000\t1000\t1000\n`);
  writeFileSync(join(dir, 'cmdline'), argv);
  if (exe) symlinkSync(exe, join(dir, 'exe'));
  if (cgroup !== undefined) writeFileSync(join(dir, 'cgroup'), cgroup);
  for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(dir, 'fd', fd));
}

describe('/proc parsers', () => {
  it('parses stat with a comm holding spaces and parentheses', () => {
    expect(parseStat('42 (my (odd) prog) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2 3')).toEqual({
      pid: 42, comm: 'my (odd) prog', ppid: 1, startTicks: 98765,
    });
  });
  it('parses /proc/net/tcp and tcp6 addresses, unmapping IPv4-mapped ones', () => {
    const v4 = parseProcNet(TCP);
    expect(v4[0]).toMatchObject({ laddr: '127.0.0.1', lport: 8080, raddr: '0.0.0.0', rport: 0, state: 10, inode: 5001 });
    expect(v4[1]).toMatchObject({ laddr: '127.0.0.1', lport: 50000, raddr: '127.0.0.1', rport: 8080, state: 1, uid: 1000 });
    const v6 = parseProcNet(TCP6);
    expect(v6[0]).toMatchObject({ laddr: '::1', lport: 80, raddr: '::1', rport: 54321 });
    expect(v6[1]).toMatchObject({ laddr: '127.0.0.1', raddr: '127.0.0.2', rport: 54322 });
  });
  it('reads the cgroup v2 path of /proc/PID/cgroup (hybrid and unified hosts), none on v1-only hosts', () => {
    expect(parseCgroupV2('0::/system.slice/docker-0123abcd.scope\n')).toBe('/system.slice/docker-0123abcd.scope');
    expect(parseCgroupV2('9:name=systemd:/\n4:memory:/user.slice\n0::/user.slice/user-1000.slice/session-3.scope\n')).toBe('/user.slice/user-1000.slice/session-3.scope');
    expect(parseCgroupV2('0::/\n')).toBe('/');
    expect(parseCgroupV2('4:memory:/docker/abc\n1:cpu:/docker/abc\n')).toBeUndefined();
  });
  it('recognises socket fd links', () => {
    expect(socketInode('socket:[5002]')).toBe(5002);
    expect(socketInode('/dev/null')).toBeUndefined();
  });
});

describe('snapshotProc', () => {
  mkdirSync(join(root, 'net'), { recursive: true });
  writeFileSync(join(root, 'net', 'tcp'), TCP);
  writeFileSync(join(root, 'net', 'tcp6'), TCP6);
  writeFileSync(join(root, 'net', 'udp'), TCP.split('\n')[0] + '\n');
  writeFileSync(join(root, 'net', 'udp6'), '');
  fakeProcess(100, 'curl', 1, 12345, Buffer.from('curl\0-s\0\0http://x\xff\0', 'latin1'), '/usr/bin/curl', { 3: 'socket:[5002]', 4: '/dev/null' }, '1:cpu:/\n0::/kubepods.slice/cri-containerd-feed.scope\n');
  fakeProcess(2, 'kthreadd', 0, 1, Buffer.alloc(0), null, {});

  it('reads processes with path, argv and start time, and their sockets', () => {
    const snap = snapshotProc({ hostPidNs: true, proc: root });
    const curl = snap.processes.find((p) => p.pid === 100)!;
    expect(curl).toMatchObject({ kind: 'task', path: '/usr/bin/curl', argv: ['curl', '-s', '', 'http://x\\xff'], ppid: 1, uid: 1000, comm: 'curl', cgroupPath: '/kubepods.slice/cri-containerd-feed.scope' });
    expect(Math.floor(curl.startNs / 1e7)).toBe(12345);
    const kthread = snap.processes.find((p) => p.pid === 2)!;
    expect(kthread).toMatchObject({ path: '', argv: [], noMm: true, comm: 'kthreadd' });
    expect(kthread.cgroupPath).toBeUndefined();
    expect(snap.sockets).toEqual([expect.objectContaining({ pid: 100, fd: 3, proto: 'tcp', laddr: '127.0.0.1', lport: 50000, rport: 8080 })]);
  });

  it('reads nothing when /proc is not the host PID namespace', () => {
    expect(snapshotProc({ hostPidNs: false, proc: root })).toEqual({ processes: [], sockets: [] });
  });
});

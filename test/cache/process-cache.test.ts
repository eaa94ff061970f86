import { describe, expect, it } from 'vitest';
import { ProcessCache } from '../../host/cache/process-cache.js';
import { exec, exit } from '../helpers/records.js';

describe('ProcessCache', () => {
  it('resolves by pid and start time, never the wrong incarnation of a reused pid', () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 60_000 });
    c.onExec(exec(42, 1_000e7, '/usr/bin/curl', ['curl', 'a']));
    c.onExit(exit(42, 1_000e7), 1000);
    c.onExec(exec(42, 2_000e7, '/usr/bin/wget', ['wget', 'b']), 1500); // pid reused
    expect(c.lookup(42, 1_000e7 + 5e6)?.path).toBe('/usr/bin/curl'); // same tick
    expect(c.lookup(42, 2_000e7)?.path).toBe('/usr/bin/wget');
    expect(c.lookup(42, 3_000e7)).toBeUndefined();
    expect(c.lookup(42)?.path).toBe('/usr/bin/wget');
    expect(c.stats()).toMatchObject({ size: 2, hits: 3, misses: 1, pidReuseMisses: 1 });
  });

  it("gives a child forked without exec its parent's image at exit, unless it was reparented", () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 10_000 });
    c.onExec(exec(100, 1_000e7, '/usr/sbin/nginx', ['nginx', '-g', 'daemon off;'])); // comm 'nginx'
    c.onExit(exit(101, 1_100e7, { ppid: 100, comm: 'nginx' }), 2_000); // a worker forked from it, never exec'd
    expect(c.lookup(101, 1_100e7)).toMatchObject({ pid: 101, ppid: 100, path: '/usr/sbin/nginx', args: ['-g', 'daemon off;'], exitedAtMs: 2_000 });
    // Reparented to init after its parent died: init's image would be wrong, so nothing is made up.
    c.onExec(exec(1, 1e7, '/usr/lib/systemd/systemd', ['/sbin/init']));
    c.onExit(exit(102, 1_200e7, { ppid: 1, comm: 'nginx' }), 2_000);
    expect(c.lookup(102, 1_200e7)).toBeUndefined();
    // A child that started before its "parent" is not its child.
    c.onExit(exit(103, 900e7, { ppid: 100, comm: 'nginx' }), 2_000);
    expect(c.lookup(103, 900e7)).toBeUndefined();
    expect(c.stats().forkImages).toBe(1);
    // Kept for the retention window like any exited process.
    c.sweep(12_001);
    expect(c.lookup(101, 1_100e7)).toBeUndefined();
  });

  it('attributes by the time a connection was seen: a process that exec\'d since is reported as the program it ran then', () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 60_000 });
    const start = 1_000e7;
    c.onSnapshot(exec(50, start, '/bin/sh', ['sh', '/opt/start.sh'], { kind: 'task', bootNs: start + 100 })); // known from the startup snapshot
    c.onExec(exec(50, start, '/usr/bin/python3', ['python3', 'app.py', '--port', '80'], { bootNs: start + 5e9 })); // exec #1
    c.onExec(exec(50, start, '/usr/local/bin/app', ['app', '--serve'], { bootNs: start + 9e9 })); // exec #2
    expect(c.lookup(50, start, start + 1e9)).toMatchObject({ path: '/bin/sh', args: ['/opt/start.sh'], comm: 'sh' });
    expect(c.lookup(50, start, start + 5e9 - 1)?.path).toBe('/bin/sh');
    expect(c.lookup(50, start, start + 5e9)).toMatchObject({ path: '/usr/bin/python3', args: ['app.py', '--port', '80'] });
    expect(c.lookup(50, start, start + 10e9)).toMatchObject({ path: '/usr/local/bin/app', args: ['--serve'] });
    expect(c.lookup(50, start)?.path).toBe('/usr/local/bin/app'); // no time: the current image
    expect(c.lookup(50)?.path).toBe('/usr/local/bin/app');
    // A fresher snapshot of the same image adds no history; an exec after it does.
    const d = new ProcessCache({ maxEntries: 100, retentionMs: 60_000 });
    d.onSnapshot(exec(60, start, '/bin/a', ['a'], { kind: 'task', bootNs: start + 1 }));
    d.onSnapshot(exec(60, start, '/bin/a', ['a', 'x'], { kind: 'task', bootNs: start + 2e9 }));
    expect(d.lookup(60, start, start + 10)?.args).toEqual(['x']);
  });

  it('keeps exited processes for the retention window, then forgets them', () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 10_000 });
    c.onExec(exec(7, 1e9, '/bin/true', ['true']));
    c.onExit(exit(7, 1e9), 1_000);
    c.sweep(10_999);
    expect(c.lookup(7, 1e9)?.path).toBe('/bin/true');
    c.sweep(11_001);
    expect(c.lookup(7, 1e9)).toBeUndefined();
    expect(c.stats().evictions).toBe(1);
  });

  it('lets exec-time argv win over a later snapshot of the same incarnation', () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 10_000 });
    c.onExec(exec(9, 1e9, '/usr/bin/app', ['app', '--token', 'x']));
    c.onSnapshot({ ...exec(9, 1e9, '/usr/bin/app', ['renamed-by-setproctitle']), kind: 'task' });
    expect(c.lookup(9, 1e9)?.argv).toEqual(['app', '--token', 'x']);
    // A re-exec in the same process replaces the image.
    c.onExec(exec(9, 1e9, '/usr/bin/other', ['other']));
    expect(c.lookup(9, 1e9)?.path).toBe('/usr/bin/other');
  });

  it('keeps the cgroup of the exec, refreshed by later snapshots (a process can move); unknown ids keep the last known', () => {
    const c = new ProcessCache({ maxEntries: 100, retentionMs: 10_000 });
    c.onExec(exec(11, 1e9, '/usr/bin/app', ['app'], { cgroupId: 4242 }));
    expect(c.lookup(11)).toMatchObject({ cgroupId: 4242, cgroupPath: undefined });
    c.onSnapshot({ ...exec(11, 1e9, '/usr/bin/app', ['app'], { cgroupId: 5151 }), kind: 'task' });
    expect(c.lookup(11)).toMatchObject({ cgroupId: 5151, path: '/usr/bin/app' });
    c.onSnapshot({ ...exec(11, 1e9, '/usr/bin/app', ['app'], { cgroupPath: '/system.slice/app.service' }), kind: 'task' }); // /proc fallback
    expect(c.lookup(11)).toMatchObject({ cgroupId: 0, cgroupPath: '/system.slice/app.service' });
    c.onSnapshot({ ...exec(11, 1e9, '/usr/bin/app', ['app']), kind: 'task' }); // a source that does not know
    expect(c.lookup(11)?.cgroupPath).toBe('/system.slice/app.service');
  });

  it('is bounded, evicting the oldest exited first', () => {
    const c = new ProcessCache({ maxEntries: 3, retentionMs: 1e9 });
    c.onExec(exec(1, 1e9, '/a', ['a']));
    c.onExec(exec(2, 2e9, '/b', ['b']));
    c.onExec(exec(3, 3e9, '/c', ['c']));
    c.onExit(exit(3, 3e9), 100);
    c.onExit(exit(2, 2e9), 200);
    c.onExec(exec(4, 4e9, '/d', ['d']), 250); // over the 10% slack: the insert itself evicts
    c.sweep(300);
    expect(c.stats().size).toBe(3);
    expect(c.lookup(3, 3e9)).toBeUndefined(); // earliest exit went first
    expect(c.lookup(2, 2e9)?.path).toBe('/b');
    expect(c.lookup(1, 1e9)?.path).toBe('/a'); // running processes are kept over exited ones
    expect(c.lookup(4, 4e9)?.path).toBe('/d');
  });
});

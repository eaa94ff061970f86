/** The process cache as the plugins' lookups see it: floor-redacted args, cgroup paths resolved from ids (temp dir tree). */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupPaths } from '../../host/cache/cgroup-paths.js';
import { PluginProcessLookup } from '../../host/cache/plugin-lookup.js';
import { ProcessCache } from '../../host/cache/process-cache.js';
import { exec } from '../helpers/records.js';

const root = mkdtempSync(join(tmpdir(), 'procflow-cg-lookup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('PluginProcessLookup', () => {
  it('gives path, floor-redacted args, uid and the cgroup path of the newest incarnation, without touching attribution counters', () => {
    const scope = `system.slice/docker-${'0f'.repeat(32)}.scope`;
    mkdirSync(join(root, scope), { recursive: true });
    const cache = new ProcessCache({ maxEntries: 10, retentionMs: 1e6 });
    cache.onExec(exec(50, 1e9, '/usr/bin/mysql', ['mysql', '-u', 'app', '--password=hunter22'], { ppid: 7, uid: 1000, cgroupId: statSync(join(root, scope)).ino }));
    cache.onSnapshot({ ...exec(7, 5e8, '/usr/bin/bash', ['bash'], { cgroupPath: '/user.slice/session-1.scope' }), kind: 'task' });
    cache.onSnapshot({ ...exec(8, 5e8, '', [], { comm: 'kworker/0:1', cgroupId: 987_654_321 }), kind: 'task' });
    const lookup = new PluginProcessLookup(cache, new CgroupPaths({ root }));
    expect(lookup.get(50)).toEqual({ pid: 50, ppid: 7, name: '/usr/bin/mysql', args: ['-u', 'app', '--password=[REDACTED]'], cgroup: `/${scope}`, uid: 1000 });
    expect(lookup.get(7)).toMatchObject({ name: '/usr/bin/bash', cgroup: '/user.slice/session-1.scope' });
    expect(lookup.get(8)).toMatchObject({ name: 'kworker/0:1', args: [], cgroup: '' }); // id of no directory: unknown
    expect(lookup.get(9)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0 });
    expect(new PluginProcessLookup(cache, undefined).get(50)?.cgroup).toBe(''); // no cgroup2 mount
  });
});

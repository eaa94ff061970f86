/** The cgroup id → path resolver on a temp directory tree (inode numbers stand in for cgroup ids, as on cgroup v2). */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupPaths } from '../../host/cache/cgroup-paths.js';

const root = mkdtempSync(join(tmpdir(), 'procflow-cgroup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ino = (rel: string) => statSync(join(root, rel)).ino;

describe('CgroupPaths', () => {
  const docker = 'system.slice/docker-' + 'ab'.repeat(32) + '.scope';
  mkdirSync(join(root, docker), { recursive: true });
  mkdirSync(join(root, 'user.slice'), { recursive: true });

  it('maps a directory inode to its path relative to the root, the root itself to /', () => {
    const r = new CgroupPaths({ root });
    expect(r.resolve(ino(docker))).toBe(`/${docker}`);
    expect(r.resolve(ino('.'))).toBe('/');
    expect(r.resolve(ino('user.slice'))).toBe('/user.slice');
    expect(r.stats()).toMatchObject({ walks: 1, misses: 0 }); // one walk learnt the whole tree
    expect(r.resolve(0)).toBeUndefined();
  });

  it('walks again on a new unknown id (a cgroup created after the last walk), not again for an id it just missed', () => {
    const r = new CgroupPaths({ root, minRescanMs: 1000 });
    r.resolve(ino('user.slice'), 0);
    mkdirSync(join(root, 'kubepods.slice', 'pod1'), { recursive: true });
    expect(r.resolve(ino('kubepods.slice/pod1'), 10)).toBe('/kubepods.slice/pod1');
    expect(r.stats().walks).toBe(2);
    const missing = 987_654_321;
    expect(r.resolve(missing, 20)).toBeUndefined();
    expect(r.resolve(missing, 500)).toBeUndefined();
    expect(r.stats()).toMatchObject({ walks: 3, misses: 2 });
    r.resolve(missing, 1100); // past minRescanMs: one more walk
    expect(r.stats().walks).toBe(4);
  });

  it('remembers a removed cgroup under the path it had (ids are not reused)', () => {
    const r = new CgroupPaths({ root });
    mkdirSync(join(root, 'gone.scope'));
    const id = ino('gone.scope');
    expect(r.resolve(id)).toBe('/gone.scope');
    rmSync(join(root, 'gone.scope'), { recursive: true });
    expect(r.resolve(id)).toBe('/gone.scope');
  });

  it('bounds the walk and the memory', () => {
    const r = new CgroupPaths({ root, maxDirs: 2, maxEntries: 4 });
    expect(r.resolve(ino(docker))).toBeUndefined(); // depth 2: past the 2 directories visited
    for (let i = 0; i < 10; i++) mkdirSync(join(root, 'many', `c${i}`), { recursive: true });
    const big = new CgroupPaths({ root, maxEntries: 4 });
    expect(big.resolve(ino('many/c9'))).toBe('/many/c9');
    expect(big.stats().size).toBeLessThanOrEqual(4);
  });

  it('resolves nothing without a cgroup2 mount', () => {
    const r = new CgroupPaths({ root: join(root, 'does-not-exist') });
    expect(r.resolve(1)).toBeUndefined();
  });
});

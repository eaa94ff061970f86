/** A released plugin contract never changes: its files hash to what wit/released.json recorded at release. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../host/paths.js';

const WIT = join(PROJECT_ROOT, 'wit');
const released = JSON.parse(readFileSync(join(WIT, 'released.json'), 'utf8')) as Record<string, { folder: string; files: Record<string, string> } | string>;

describe('released WIT packages', () => {
  const versions = Object.entries(released).filter((e): e is [string, { folder: string; files: Record<string, string> }] => typeof e[1] === 'object');

  it('lists at least the contract the host loads', () => {
    expect(versions.map(([v]) => v)).toContain('procflow:plugin@0.1.0');
  });

  for (const [version, rel] of versions) {
    it(`${version}: every file is byte for byte as released, and nothing was added`, () => {
      const dir = join(WIT, rel.folder);
      expect(readdirSync(dir).sort()).toEqual(Object.keys(rel.files).sort());
      for (const [file, sha] of Object.entries(rel.files)) {
        const actual = createHash('sha256').update(readFileSync(join(dir, file))).digest('hex');
        expect(actual, `${rel.folder}/${file} changed after ${version} was released: put the change in a new version folder instead`).toBe(sha);
      }
      const pkg = /^package\s+([^;]+);/m.exec(readFileSync(join(dir, 'plugin.wit'), 'utf8'))?.[1];
      expect(pkg).toBe(version);
    });
  }
});

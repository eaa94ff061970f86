/**
 * Builds the built-in and fixture plugins once per test run, before any test
 * file starts (the build cache under .cache/plugins/build makes later runs a lookup).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.js';
import { buildPlugin } from '../../host/plugins/build.js';

export default async function setup(): Promise<void> {
  for (const group of ['builtin', 'fixtures']) {
    const root = join(PROJECT_ROOT, 'plugins', group);
    for (const name of readdirSync(root)) await buildPlugin(join(root, name));
  }
}

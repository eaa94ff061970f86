/** Locations inside the installed package, valid from host/ sources and from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'procflow') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('procflow package root not found above host/');
    dir = up;
  }
}

/** The package root (where package.json is). */
export const PROJECT_ROOT = findRoot();

/** Where `npm run build:bpf` puts the compiled BPF object. */
export const BPF_OBJECT_PATH = join(PROJECT_ROOT, 'bpf', 'build', 'procflow.bpf.o');

/**
 * jco transpilation, once per component: the generated glue and core modules
 * are cached on disk under the component's sha256 (and jco's version), so a
 * restart or a second worker never transpiles again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { componentWit, transpile } from '@bytecodealliance/jco';
import { PROJECT_ROOT } from '../paths.js';
import { parseWorld, type WorldShape } from './wit-check.js';

/** jco's version is part of the cache key: another jco may generate other glue. */
const JCO_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', '@bytecodealliance', 'jco', 'package.json'), 'utf8')) as { version: string }).version;

/** A transpiled component on disk. */
export interface TranspiledComponent {
  sha256: string;
  /** Directory holding `plugin.js` and the core modules. */
  dir: string;
  /** Absolute path of the generated glue (ESM, `instantiate(getCoreModule, imports)`). */
  glue: string;
  /** File names of the core modules, relative to `dir`. */
  coreFiles: string[];
  /** The component's root world. */
  world: WorldShape;
}

/** sha256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** True when the bytes start with a component's preamble (not a core module). */
export function isComponent(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[6] === 0x01 && bytes[7] === 0x00;
}

/** Reads the component's root world (imports and exports) without transpiling it. */
export async function readWorld(bytes: Uint8Array): Promise<WorldShape> {
  return parseWorld(await componentWit(bytes));
}

/** Returns the cached transpilation of `bytes`, transpiling (and caching) on a miss. */
export async function transpileCached(bytes: Uint8Array, cacheDir: string, world?: WorldShape): Promise<TranspiledComponent> {
  const sha256 = sha256Hex(bytes);
  const dir = join(cacheDir, `${sha256}-jco${JCO_VERSION}`);
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<TranspiledComponent, 'dir' | 'glue'>;
    return { ...meta, dir, glue: join(dir, 'plugin.js') };
  }
  const shape = world ?? (await readWorld(bytes));
  // Async instantiation: the glue imports nothing itself; the host passes every import.
  const out = await transpile(bytes, { name: 'plugin', instantiation: 'async', noTypescript: true, quiet: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const coreFiles: string[] = [];
  for (const [name, content] of Object.entries(out.files)) {
    const path = join(tmp, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (name.endsWith('.wasm')) coreFiles.push(name);
  }
  const meta = { sha256, coreFiles, world: shape };
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
  mkdirSync(cacheDir, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process won the race: its copy is identical
  }
  return { ...meta, dir, glue: join(dir, 'plugin.js') };
}

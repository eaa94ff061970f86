/**
 * Names of the built-in plugins, without loading the build toolchain (the
 * config validator needs them; host/plugins/builtin.ts builds them).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths.js';

/** Where the built-in plugins' sources live. */
export const BUILTIN_DIR = join(PROJECT_ROOT, 'plugins', 'builtin');

/** Old names of built-ins, still accepted: `json-lines` was calico-json's first name. */
export const BUILTIN_ALIASES: Readonly<Record<string, string>> = { 'json-lines': 'calico-json' };

/** The source directory of `builtin:NAME` (aliases followed), or undefined when there is no such built-in. */
export function builtinSourceDir(name: string): string | undefined {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  const dir = join(BUILTIN_DIR, BUILTIN_ALIASES[name] ?? name);
  return existsSync(dir) ? dir : undefined;
}

/** The built-in plugins' names (for "did you mean"). */
export function builtinNames(): string[] {
  try {
    return readdirSync(BUILTIN_DIR).filter((n) => existsSync(join(BUILTIN_DIR, n, 'plugin.json')));
  } catch {
    return [];
  }
}

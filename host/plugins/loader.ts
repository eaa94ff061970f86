/**
 * Loading a plugin: read the file, check its sha256 pin, refuse any import
 * outside the host world (WASI included) by name, check it implements its
 * stage, transpile it (cached by sha256), and compile its core modules with
 * the memory cap written into them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ERRORS, ProcflowError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import { PLUGIN_DEFAULTS, type PluginEntry } from './config.js';
import { isComponent, readWorld, sha256Hex, transpileCached } from './transpile-cache.js';
import { capMemory } from './wasm-binary.js';
import { refusedImports, STAGE_EXPORTS, stageOf, type Stage } from './wit-check.js';

/** Default cache of transpiled components. */
export const DEFAULT_CACHE_DIR = join(PROJECT_ROOT, '.cache', 'plugins', 'transpiled');

/** A plugin ready to be defined in the pool. */
export interface LoadedPlugin {
  name: string;
  stage: Stage;
  path: string;
  sha256: string;
  /** file: URL of the jco glue. */
  glue: string;
  /** Core modules, compiled with the memory cap. */
  modules: Record<string, WebAssembly.Module>;
  imports: string[];
  memoryCapBytes: number;
}

/** Resolves `builtin:NAME` to a file; set by the built-in registry (builtin.ts). */
export type BuiltinResolver = (name: string) => Promise<string>;

/** Loads and checks one plugin entry; throws a catalogued PROCFLOW_E_PLUGIN_* error naming the fix. */
export async function loadPlugin(entry: PluginEntry, opts: { cacheDir?: string; resolveBuiltin?: BuiltinResolver } = {}): Promise<LoadedPlugin> {
  const { name } = entry;
  let path = entry.path;
  const builtin = path.startsWith('builtin:');
  if (builtin) {
    if (!opts.resolveBuiltin) throw new ProcflowError(ERRORS.PLUGIN_NOT_FOUND, { name, path, reason: 'no built-in plugins are available here' });
    path = await opts.resolveBuiltin(path.slice('builtin:'.length));
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ProcflowError(ERRORS.PLUGIN_NOT_FOUND, { name, path, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
  const sha256 = sha256Hex(bytes);
  if (!builtin || entry.sha256) {
    if (!entry.sha256) throw new ProcflowError(ERRORS.PLUGIN_PIN_MISSING, { name, path, actual: sha256 });
    if (entry.sha256 !== sha256) throw new ProcflowError(ERRORS.PLUGIN_PIN_MISMATCH, { name, path, actual: sha256, expected: entry.sha256 });
  }
  if (!isComponent(bytes)) throw new ProcflowError(ERRORS.PLUGIN_NOT_COMPONENT, { name, path, reason: bytes[4] === 1 ? 'it is a core module' : 'no component preamble' });
  let world;
  try {
    world = await readWorld(bytes);
  } catch (err) {
    throw new ProcflowError(ERRORS.PLUGIN_NOT_COMPONENT, { name, path, reason: String(err instanceof Error ? err.message : err) });
  }
  const refused = refusedImports(world.imports, entry.grants);
  if (refused.length) throw new ProcflowError(ERRORS.PLUGIN_IMPORT_REFUSED, { name, imports: refused.join(', ') });
  if (stageOf(world.exports) !== entry.stage) {
    throw new ProcflowError(ERRORS.PLUGIN_WORLD, { name, exports: world.exports.join(', ') || 'nothing', stage: entry.stage, expected: STAGE_EXPORTS[entry.stage].join(', ') });
  }
  let transpiled;
  try {
    transpiled = await transpileCached(bytes, opts.cacheDir ?? DEFAULT_CACHE_DIR, world);
  } catch (err) {
    throw new ProcflowError(ERRORS.PLUGIN_TRANSPILE, { name, reason: String(err instanceof Error ? err.message : err) });
  }
  const memoryMiB = entry.memoryMiB ?? PLUGIN_DEFAULTS.memoryMiB;
  const modules: Record<string, WebAssembly.Module> = {};
  for (const file of transpiled.coreFiles) {
    try {
      modules[file] = await WebAssembly.compile(capMemory(readFileSync(join(transpiled.dir, file)), memoryMiB * 16));
    } catch (err) {
      throw new ProcflowError(ERRORS.PLUGIN_INSTANTIATE, { name, reason: `${file}: ${err instanceof Error ? err.message : String(err)}`, memoryMiB });
    }
  }
  return {
    name, stage: entry.stage, path, sha256,
    glue: pathToFileURL(transpiled.glue).href,
    modules,
    imports: world.imports,
    memoryCapBytes: memoryMiB * 1048576,
  };
}

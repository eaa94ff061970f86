/**
 * Building plugins from source (what `procflow plugin build` runs):
 * AssemblyScript — asc compiles the author's function plus a generated entry
 * that calls it through the SDK's canonical-ABI shim, then jco embeds the WIT
 * and wraps the core module into a component; TypeScript — componentize-js
 * with every WASI feature disabled. Results are cached by a hash of every
 * input (sources, SDK, WIT, toolchain versions), so a rebuild is a lookup.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import { sha256Hex } from './transpile-cache.js';
import { renameExports } from './wasm-binary.js';
import type { Stage } from './wit-check.js';

/** The contract's WIT (one file: the package and its worlds). */
export const WIT_PATH = join(PROJECT_ROOT, 'wit', 'plugin-0.1.0', 'plugin.wit');
/** The AssemblyScript SDK's sources. */
export const SDK_AS_DIR = join(PROJECT_ROOT, 'plugins', 'sdk-as', 'assembly');
/** The TypeScript SDK's sources. */
export const SDK_TS_DIR = join(PROJECT_ROOT, 'plugins', 'sdk-ts');
/** Default cache of built plugins. */
export const BUILD_CACHE_DIR = join(PROJECT_ROOT, '.cache', 'plugins', 'build');
const BUILDER_VERSION = '1';

/** plugin.json: what a plugin directory declares. */
export interface PluginManifest {
  /** Plugin name (file name of the built component). */
  name: string;
  /** The world it implements. */
  world: Stage;
  /** Source language: AssemblyScript or TypeScript. */
  lang: 'as' | 'ts';
  /** Source file with the author's function (default assembly/index.ts or src/index.ts). */
  entry?: string;
  /** Formatters: MIME type of one item (default application/json). */
  contentType?: string;
  /** Test fixtures only: WIT appended to the contract (e.g. a world that also imports WASI). */
  witAppend?: string;
  /** Test fixtures only: world to embed instead of `world`. */
  embedWorld?: string;
}

/** A built component. */
export interface BuiltPlugin {
  manifest: PluginManifest;
  /** Path of the component. */
  wasm: string;
  sha256: string;
  /** True when it came from the cache. */
  cached: boolean;
  /** Build time, ms (0 when cached). */
  ms: number;
}

function buildError(dir: string, reason: string, fix: string): ProcflowError {
  return new ProcflowError(ERRORS.PLUGIN_BUILD, { dir, reason, fix });
}

/** Reads and checks DIR/plugin.json. */
export function readManifest(dir: string): PluginManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
  } catch (err) {
    throw buildError(dir, `cannot read plugin.json (${err instanceof Error ? err.message : String(err)})`, 'Create one with `procflow plugin new NAME --lang as|ts`.');
  }
  const m = raw as PluginManifest;
  if (typeof m.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.name)) throw buildError(dir, 'plugin.json: name is missing or not a plain name', 'Set "name": "my-plugin".');
  if (m.world !== 'enricher' && m.world !== 'redactor' && m.world !== 'formatter') throw buildError(dir, `plugin.json: world ${JSON.stringify(m.world)}`, 'Set "world" to enricher, redactor or formatter.');
  if (m.lang !== 'as' && m.lang !== 'ts') throw buildError(dir, `plugin.json: lang ${JSON.stringify(m.lang)}`, 'Set "lang" to as (AssemblyScript) or ts (TypeScript).');
  return m;
}

function listFiles(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name === 'build' || name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

function toolVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', ...pkg.split('/'), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Hash of everything a build depends on. */
function inputHash(dir: string, m: PluginManifest): string {
  const h = createHash('sha256');
  h.update(`builder ${BUILDER_VERSION}\n`);
  const files = [...listFiles(dir, ['.ts', '.json', '.wit', '.js']), WIT_PATH, ...(m.lang === 'as' ? listFiles(SDK_AS_DIR, ['.ts']) : listFiles(SDK_TS_DIR, ['.ts', '.js']))];
  for (const f of files) h.update(`${relative(PROJECT_ROOT, f)}\n`).update(readFileSync(f));
  h.update(m.lang === 'as' ? `asc ${toolVersion('assemblyscript')}` : `cjs ${toolVersion('@bytecodealliance/componentize-js')}`);
  h.update(`jco ${toolVersion('@bytecodealliance/jco')}`);
  return h.digest('hex').slice(0, 24);
}

function witSource(dir: string, m: PluginManifest): string {
  const base = readFileSync(WIT_PATH, 'utf8');
  return m.witAppend ? `${base}\n${readFileSync(join(dir, m.witAppend), 'utf8')}` : base;
}

/**
 * Builds the plugin in `dir` into a component, or returns the cached one.
 * The result is also copied to DIR/build/NAME.wasm when `copyTo` is set.
 */
export async function buildPlugin(dir: string, opts: { cacheDir?: string; copyTo?: string } = {}): Promise<BuiltPlugin> {
  const m = readManifest(dir);
  const cacheDir = opts.cacheDir ?? BUILD_CACHE_DIR;
  const target = join(cacheDir, `${m.name}-${inputHash(dir, m)}.wasm`);
  let cached = true;
  const t0 = performance.now();
  if (!existsSync(target)) {
    cached = false;
    const bytes = m.lang === 'as' ? await buildAs(dir, m) : await buildTs(dir, m);
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
  }
  if (opts.copyTo) {
    mkdirSync(dirname(opts.copyTo), { recursive: true });
    copyFileSync(target, opts.copyTo);
  }
  return { manifest: m, wasm: opts.copyTo ?? target, sha256: sha256Hex(readFileSync(target)), cached, ms: cached ? 0 : performance.now() - t0 };
}

const AS_ENTRY: Record<Stage, (user: string, ct: string) => string> = {
  enricher: (u) => `import { enrich as __handler } from "${u}";
import { runEnrich, ENCODING_MSGPACK } from "procflow-plugin-sdk/stages";
import { resetArena } from "procflow-plugin-sdk/abi";
export { cabi_realloc } from "procflow-plugin-sdk/abi";
export function batch_encoding(): i32 { return ENCODING_MSGPACK; }
export function enrich(ptr: usize, len: usize): usize { return runEnrich(__handler, ptr, len); }
export function cabi_post_enrich(ret: usize): void { resetArena(); }
`,
  redactor: (u) => `import { redact as __handler } from "${u}";
import { runRedact, ENCODING_MSGPACK } from "procflow-plugin-sdk/stages";
import { resetArena } from "procflow-plugin-sdk/abi";
export { cabi_realloc } from "procflow-plugin-sdk/abi";
export function batch_encoding(): i32 { return ENCODING_MSGPACK; }
export function redact(ptr: usize, len: usize): usize { return runRedact(__handler, ptr, len); }
export function cabi_post_redact(ret: usize): void { resetArena(); }
`,
  formatter: (u, ct) => `import { format as __handler } from "${u}";
import { runFormat, runContentType, ENCODING_MSGPACK } from "procflow-plugin-sdk/stages";
import { resetArena } from "procflow-plugin-sdk/abi";
export { cabi_realloc } from "procflow-plugin-sdk/abi";
export function batch_encoding(): i32 { return ENCODING_MSGPACK; }
export function content_type(): usize { return runContentType(${JSON.stringify(ct)}); }
export function cabi_post_content_type(ret: usize): void { resetArena(); }
export function format(ptr: usize, len: usize): usize { return runFormat(__handler, ptr, len); }
export function cabi_post_format(ret: usize): void { resetArena(); }
`,
};

async function buildAs(dir: string, m: PluginManifest): Promise<Uint8Array> {
  const { default: asc } = await import('assemblyscript/asc').catch(() => {
    throw buildError(dir, 'the AssemblyScript compiler is not installed', 'Install it: npm install --save-dev assemblyscript@0.28.20.');
  });
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  // A work dir per build: concurrent builds of one plugin (test workers, tools) must not share it.
  mkdirSync(join(dir, 'build'), { recursive: true });
  const work = mkdtempSync(join(dir, 'build', '.work-'));
  try {
    mkdirSync(join(work, 'pkgs'), { recursive: true });
    // Package resolution: `import … from "procflow-plugin-sdk"` finds the SDK through --path.
    symlinkSync(SDK_AS_DIR, join(work, 'pkgs', 'procflow-plugin-sdk'), 'dir');
    const entryFile = m.entry ?? 'assembly/index.ts';
    if (!existsSync(join(dir, entryFile))) throw buildError(dir, `${entryFile} not found`, 'Set "entry" in plugin.json to the file with your function.');
    const userImport = relative(work, join(dir, entryFile)).replace(/\.ts$/, '');
    const entry = join(work, 'entry.ts');
    writeFileSync(entry, AS_ENTRY[m.world](userImport.startsWith('.') ? userImport : `./${userImport}`, m.contentType ?? 'application/json'));
    const out = join(work, 'core.wasm');
    const stderr: string[] = [];
    const { error } = await asc.main([entry, '-o', out, '--runtime', 'stub', '--use', 'abort=', '-O3', '--noAssert', '--path', join(work, 'pkgs')], {
      stderr: { write: (s: string | Uint8Array) => { stderr.push(typeof s === 'string' ? s : Buffer.from(s).toString()); return true; } } as never,
      stdout: { write: () => true } as never,
    });
    if (error) throw buildError(dir, `asc: ${stderr.join('').trim() || error.message}`, 'Fix the compile errors above (AssemblyScript is a subset of TypeScript: no closures, no union types except with null).');
    let core: Uint8Array = readFileSync(out);
    core = renameExports(core, { batch_encoding: 'batch-encoding', content_type: 'content-type', cabi_post_content_type: 'cabi_post_content-type' });
    try {
      const embedded = await componentEmbed({ binary: core, witSource: witSource(dir, m), world: m.embedWorld ?? m.world, stringEncoding: 'utf8' });
      return await componentNew(embedded);
    } catch (err) {
      throw buildError(dir, `wrapping into a component: ${err instanceof Error ? err.message : String(err)}`, 'The exports must match the world; check plugin.json "world" and the function name (enrich, redact or format).');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildTs(dir: string, m: PluginManifest): Promise<Uint8Array> {
  const { buildTsComponent } = await import('./build-ts.js');
  return buildTsComponent(dir, m, witSource(dir, m));
}

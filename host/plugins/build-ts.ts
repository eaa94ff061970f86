/**
 * TypeScript plugins: the author's sources and the SDK are transpiled to
 * JavaScript (types stripped), a generated entry binds the author's function
 * to the stage's exports, and componentize-js builds the component with every
 * WASI feature disabled (no stdio, clocks, randomness, http: zero WASI imports).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import type { PluginManifest } from './build.js';
import { SDK_TS_DIR } from './build.js';

const ENTRY: Record<PluginManifest['world'], (user: string, sdk: string, ct: string) => string> = {
  enricher: (u, s) => `import { enrich as user } from ${JSON.stringify(u)};
import { runEnrich } from ${JSON.stringify(s)};
export function batchEncoding() { return 'json'; }
export function enrich(bytes) { return runEnrich(user, bytes); }
`,
  redactor: (u, s) => `import { redact as user } from ${JSON.stringify(u)};
import { runRedact } from ${JSON.stringify(s)};
export function batchEncoding() { return 'json'; }
export function redact(bytes) { return runRedact(user, bytes); }
`,
  formatter: (u, s, ct) => `import { format as user } from ${JSON.stringify(u)};
import { runFormat } from ${JSON.stringify(s)};
export function batchEncoding() { return 'json'; }
export function contentType() { return ${JSON.stringify(ct)}; }
export function format(bytes) { return runFormat(user, bytes); }
`,
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Builds a TypeScript plugin into a component. */
export async function buildTsComponent(dir: string, m: PluginManifest, wit: string): Promise<Uint8Array> {
  const fail = (reason: string, fix: string) => new ProcflowError(ERRORS.PLUGIN_BUILD, { dir, reason, fix });
  const { default: ts } = await import('typescript');
  const { componentize } = await import('@bytecodealliance/componentize-js').catch(() => {
    throw fail('componentize-js is not installed', 'Install it: npm install --save-dev @bytecodealliance/componentize-js@0.23.0.');
  });
  const entryFile = m.entry ?? 'src/index.ts';
  const srcRoot = dirname(join(dir, entryFile));
  if (!existsSync(join(dir, entryFile))) throw fail(`${entryFile} not found`, 'Set "entry" in plugin.json to the file with your function.');
  // A work dir per build: concurrent builds of one plugin must not share it.
  mkdirSync(join(dir, 'build'), { recursive: true });
  const work = mkdtempSync(join(dir, 'build', '.work-ts-'));
  try {
    return await componentizeIn(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  async function componentizeIn(work: string): Promise<Uint8Array> {
    const compile = (file: string, out: string, rewriteSdk: boolean) => {
      const res = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        reportDiagnostics: true,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: false },
      });
      const errs = (res.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errs.length) throw fail(`${relative(dir, file)}: ${ts.flattenDiagnosticMessageText(errs[0].messageText, ' ')}`, 'Fix the syntax error.');
      let js = res.outputText;
      if (rewriteSdk) {
        let rel = relative(dirname(out), join(work, 'sdk.js'));
        if (!rel.startsWith('.')) rel = `./${rel}`;
        js = js.replace(/(from\s*|import\s*\(\s*)(['"])procflow-plugin-sdk\2/g, `$1"${rel}"`);
      }
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, js);
    };
    compile(join(SDK_TS_DIR, 'index.ts'), join(work, 'sdk.js'), false);
    for (const f of tsFiles(srcRoot)) compile(f, join(work, 'src', relative(srcRoot, f)).replace(/\.ts$/, '.js'), true);
    const userJs = `./src/${relative(srcRoot, join(dir, entryFile)).replace(/\.ts$/, '.js')}`;
    writeFileSync(join(work, 'entry.js'), ENTRY[m.world](userJs, './sdk.js', m.contentType ?? 'application/json'));
    // componentize-js may rewrite the WIT it is given: hand it a private copy.
    writeFileSync(join(work, 'plugin.wit'), wit);
    try {
      const { component } = await componentize({
        sourcePath: join(work, 'entry.js'),
        witPath: join(work, 'plugin.wit'),
        worldName: m.embedWorld ?? m.world,
        disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
      });
      return component;
    } catch (err) {
      throw fail(`componentize-js: ${err instanceof Error ? err.message : String(err)}`, 'Check that the file exports the stage function (enrich, redact or format) and uses no Node or WASI APIs.');
    }
  }
}

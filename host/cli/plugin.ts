/**
 * `procflow plugin new|build|test`: the plugin author's commands.
 *   new NAME --lang as|ts [--world redactor|enricher|formatter] [--dir DIR]
 *   build DIR
 *   test DIR [--input FILE]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { ERRORS, ProcflowError } from '../errors.js';
import type { FlowRecord } from '../flows/record.js';
import { PROJECT_ROOT } from '../paths.js';
import { buildPlugin, readManifest, SDK_AS_DIR, SDK_TS_DIR } from '../plugins/build.js';
import { PluginChain } from '../plugins/chain.js';
import type { Stage } from '../plugins/wit-check.js';

const SAMPLE_FLOWS: FlowRecord[] = [0, 1, 2].map((i) => ({
  id: `sample-${i}`, start_time: 1700000000, end_time: 1700000300, host: 'node-1', action: 'allow', reporter: 'src', proto: 'tcp',
  source_ip: '10.0.0.5', source_port: 43000 + i, source_name: '-', source_name_aggr: 'pvt', source_namespace: '-', source_type: 'net', source_labels: '-',
  dest_ip: '10.0.0.9', dest_port: [5432, 443, 22][i], dest_name: '-', dest_name_aggr: 'pvt', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
  dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
  bytes_in: 1200, bytes_out: 800, packets_in: 9, packets_out: 8, num_flows: 1, num_flows_started: 1, num_flows_completed: 1,
  process_name: ['/usr/bin/psql', '/usr/bin/curl', '/usr/bin/ssh'][i], process_id: String(4100 + i),
  process_args: [[['-h', 'db', '--password=hunter2'], ['-H', 'Authorization: Bearer abc', 'https://u:pw@api/x'], ['-i', 'key', 'admin@host']][i]],
  num_process_names: 1, num_process_ids: 1, num_process_args: 1,
}));

const AS_TEMPLATES: Record<Stage, string> = {
  redactor: `import { Flow } from "procflow-plugin-sdk";

/** Masks the value of every --password=… argument. Only process fields may change. */
export function redact(flows: Flow[]): void {
  for (let i = 0; i < flows.length; i++) {
    const lists = flows[i].processArgs;
    for (let j = 0; j < lists.length; j++) {
      const argv = lists[j];
      for (let k = 0; k < argv.length; k++) {
        if (argv[k].startsWith("--password=")) argv[k] = "--password=[REDACTED]";
      }
    }
  }
}
`,
  enricher: `import { Flow } from "procflow-plugin-sdk";

/** Names the service of port 5432. Return every flow, same ids, same order. */
export function enrich(flows: Flow[]): void {
  for (let i = 0; i < flows.length; i++) {
    if (flows[i].getNumber("dest_port") == 5432) flows[i].setString("dest_service_name", "postgres");
  }
}
`,
  formatter: `import { Flow, Items, writeFlowLogJson } from "procflow-plugin-sdk";

/** One item per flow, in order: here the flows.log JSON line. */
export function format(flows: Flow[], items: Items): void {
  for (let i = 0; i < flows.length; i++) {
    writeFlowLogJson(flows[i], items.begin());
    items.end();
  }
}
`,
};

const TS_TEMPLATES: Record<Stage, string> = {
  redactor: `import type { Flow } from 'procflow-plugin-sdk';

/** Masks the value of every --password=… argument. Only process fields may change. */
export function redact(flows: Flow[]): Flow[] {
  for (const f of flows) f.process_args = f.process_args.map((argv) => argv.map((a) => (a.startsWith('--password=') ? '--password=[REDACTED]' : a)));
  return flows;
}
`,
  enricher: `import type { Flow } from 'procflow-plugin-sdk';

/** Names the service of port 5432. Return every flow, same ids, same order. */
export function enrich(flows: Flow[]): Flow[] {
  for (const f of flows) if (f.dest_port === 5432) f.dest_service_name = 'postgres';
  return flows;
}
`,
  formatter: `import { flowLogLine, type Flow } from 'procflow-plugin-sdk';

/** One item per flow, in order: here the flows.log JSON line. */
export function format(flows: Flow[]): string[] {
  return flows.map(flowLogLine);
}
`,
};

function expectation(world: Stage): unknown {
  if (world === 'redactor') return { 'sample-0': { process_args: [['-h', 'db', '--password=[REDACTED]']] } };
  if (world === 'enricher') return { 'sample-0': { dest_service_name: 'postgres' }, 'sample-1': { dest_service_name: '-' } };
  return { count: 3 };
}

function usage(reason: string): ProcflowError {
  return new ProcflowError(ERRORS.USAGE, { reason });
}

/** Scaffolds a plugin directory with a sample test. */
export function scaffold(name: string, lang: 'as' | 'ts', world: Stage, dir: string): string[] {
  if (existsSync(join(dir, 'plugin.json'))) throw usage(`${dir} already holds a plugin`);
  const files: Record<string, string> = {
    'plugin.json': `${JSON.stringify({ name, world, lang }, null, 2)}\n`,
    'test/flows.json': `${JSON.stringify(SAMPLE_FLOWS, null, 2)}\n`,
    'test/expected.json': `${JSON.stringify(expectation(world), null, 2)}\n`,
  };
  if (lang === 'as') {
    files['assembly/index.ts'] = AS_TEMPLATES[world];
    files['assembly/tsconfig.json'] = `${JSON.stringify({ extends: relative(join(dir, 'assembly'), join(PROJECT_ROOT, 'node_modules', 'assemblyscript', 'std', 'assembly.json')), compilerOptions: { paths: { 'procflow-plugin-sdk': [relative(join(dir, 'assembly'), join(SDK_AS_DIR, 'index.ts'))] } }, include: ['./**/*.ts'] }, null, 2)}\n`;
  } else {
    files['src/index.ts'] = TS_TEMPLATES[world];
    const sdk = relative(dir, SDK_TS_DIR);
    files['tsconfig.json'] = `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ES2022', moduleResolution: 'bundler', strict: true, noEmit: true, lib: ['ES2022'], types: [], paths: { 'procflow-plugin-sdk': [`${sdk}/index.ts`] } }, include: ['src', `${sdk}/generated`, `${sdk}/text-codec.d.ts`] }, null, 2)}\n`;
  }
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  return Object.keys(files);
}

function changes(before: FlowRecord, after: FlowRecord): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  const b = before as unknown as Record<string, unknown>;
  const a = after as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) if (JSON.stringify(b[k]) !== JSON.stringify(a[k])) out[k] = [b[k], a[k]];
  return out;
}

/**
 * The `plugins.chain` entry `plugin build` prints. TypeScript plugins get
 * `memoryMiB: 256`: StarlingMonkey's heap peaks near 110 MiB on 1000-flow
 * batches, and at the default 64 it traps every few dozen batches (docs/plugins.md).
 */
export function yamlEntry(m: { name: string; world: string; lang: string }, b: { wasm: string; sha256: string }): string {
  const mem = m.lang === 'ts' ? '\n    memoryMiB: 256' : '';
  return `  - name: ${m.name}\n    stage: ${m.world}\n    path: ${b.wasm}\n    sha256: ${b.sha256}${mem}`;
}

/** Runs `procflow plugin …`; resolves with the exit code. */
export async function runPlugin(argv: string[], log: Logger): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { lang: { type: 'string' }, world: { type: 'string' }, dir: { type: 'string' }, input: { type: 'string' } },
  });
  const [sub, arg] = positionals;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (sub) {
    case 'new': {
      if (!arg) throw usage('plugin new needs a NAME');
      const lang = values.lang;
      if (lang !== 'as' && lang !== 'ts') throw usage('plugin new needs --lang as (AssemblyScript) or --lang ts (TypeScript)');
      const world = (values.world ?? 'redactor') as Stage;
      if (!['redactor', 'enricher', 'formatter'].includes(world)) throw usage(`--world must be redactor, enricher or formatter, not "${world}"`);
      const dir = resolve(values.dir ?? arg);
      const files = scaffold(arg, lang, world, dir);
      out(`Created ${dir}: ${files.join(', ')}`);
      out(`Next: procflow plugin build ${relative(process.cwd(), dir) || '.'} && procflow plugin test ${relative(process.cwd(), dir) || '.'}`);
      return 0;
    }
    case 'build': {
      const dir = resolve(arg ?? '.');
      const m = readManifest(dir);
      const b = await buildPlugin(dir, { copyTo: join(dir, 'build', `${m.name}.wasm`) });
      out(`${b.wasm}  sha256 ${b.sha256}  ${b.cached ? '(cached)' : `(${Math.round(b.ms)} ms)`}`);
      out(`YAML:\n${yamlEntry(m, b)}`);
      return 0;
    }
    case 'test': {
      const dir = resolve(arg ?? '.');
      const m = readManifest(dir);
      const b = await buildPlugin(dir, { copyTo: join(dir, 'build', `${m.name}.wasm`) });
      const inputPath = values.input ?? (existsSync(join(dir, 'test', 'flows.json')) ? join(dir, 'test', 'flows.json') : undefined);
      const input: FlowRecord[] = inputPath ? JSON.parse(readFileSync(inputPath, 'utf8')) : SAMPLE_FLOWS;
      const chain = await PluginChain.create({ chain: [{ name: m.name, stage: m.world, path: b.wasm, sha256: b.sha256, timeoutMs: 5000 }] }, { log });
      try {
        const res = await chain.process(input);
        const st = chain.stats()[m.name];
        const failures = Object.entries(st.failures).filter(([, n]) => n > 0);
        out(`${m.name} (${m.world}, ${m.lang}) on ${input.length} flows from ${inputPath ?? 'built-in samples'}: ${failures.length ? `FAILED (${failures.map(([k, n]) => `${k} ${n}`).join(', ')})` : 'ok'}`);
        const byId = new Map(res.flows.map((f) => [f.id, f]));
        if (m.world === 'formatter') {
          res.items.forEach((it, i) => out(`  ${res.flows[i].id} [${res.contentType}] ${Buffer.from(it).toString('utf8')}`));
        } else {
          for (const f of input) {
            const after = byId.get(f.id);
            const ch = after ? changes(f, after) : {};
            out(`  ${f.id}: ${after ? (Object.keys(ch).length ? Object.entries(ch).map(([k, [x, y]]) => `${k}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`).join('; ') : 'unchanged') : 'DROPPED'}`);
          }
        }
        let ok = failures.length === 0;
        const expPath = join(dir, 'test', 'expected.json');
        if (!values.input && existsSync(expPath)) {
          const exp = JSON.parse(readFileSync(expPath, 'utf8')) as Record<string, unknown>;
          const problems: string[] = [];
          if (m.world === 'formatter') {
            if (typeof exp.count === 'number' && res.items.length !== exp.count) problems.push(`expected ${exp.count} items, got ${res.items.length}`);
          } else {
            for (const [id, fields] of Object.entries(exp)) {
              const f = byId.get(id) as unknown as Record<string, unknown> | undefined;
              for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
                if (JSON.stringify(f?.[k]) !== JSON.stringify(v)) problems.push(`${id}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(f?.[k])}`);
              }
            }
          }
          out(problems.length ? `test/expected.json: ${problems.length} mismatch(es)\n  ${problems.join('\n  ')}` : 'test/expected.json: all expectations met');
          ok &&= problems.length === 0;
        }
        return ok ? 0 : 1;
      } finally {
        await chain.close();
      }
    }
    default:
      throw usage(`Unknown plugin command "${sub ?? ''}" (new, build, test)`);
  }
}

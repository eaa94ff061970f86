/**
 * Loading the config file: YAML parsed with the `yaml` package (YAML 1.2 core
 * schema: `yes`/`no` stay strings), syntax errors reported with line and
 * column, then validated and overlaid on DEFAULT_CONFIG. Problems found by
 * validation are located in the file too.
 */
import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ERRORS, ProcflowError } from '../errors.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { DEFAULT_CONFIG } from './settings.js';
import { checkConfig, type LoadedConfig } from './validate.js';

export type { LoadedConfig } from './validate.js';
export { validateConfig } from './validate.js';

/** The embedded defaults without a path; otherwise the file's settings overlaid on them. */
export function loadConfig(path?: string): LoadedConfig {
  if (path === undefined) return structuredClone(DEFAULT_CONFIG);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ProcflowError(ERRORS.CONFIG_FILE, { path, reason });
  }
  return parseConfigText(text, path);
}

/** Parses and validates config text; `source` names it in errors (usually the file path). */
export function parseConfigText(text: string, source: string): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { path: [], syntax: true, message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, line, column: col };
    }));
  }
  const { config, problems } = checkConfig(doc.toJS());
  if (!config) throw new ConfigError(source, byPosition(problems.map((p) => locate(p, doc, lines))));
  return config;
}

/** Problems in file order (a stable sort keeps those of one place in check order). */
function byPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Adds the line and column of the value at the problem's path, when the file has it. */
function locate(p: ConfigProblem, doc: Document, lines: LineCounter): ConfigProblem {
  // The value at the path (its key for key problems), or its nearest ancestor present in the file (a missing key).
  for (let n = p.path.length; n >= 0; n--) {
    const node = p.atKey && n === p.path.length ? keyNode(doc, p.path) : n === 0 ? doc.contents : doc.getIn(p.path.slice(0, n), true);
    const offset = isNode(node) ? node.range?.[0] : undefined;
    if (offset === undefined) continue;
    const { line, col } = lines.linePos(offset);
    return { ...p, line, column: col };
  }
  return p;
}

/** The key node of the last path element, in its parent mapping. */
function keyNode(doc: Document, path: ConfigProblem['path']): unknown {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === path[path.length - 1]);
  return pair?.key;
}

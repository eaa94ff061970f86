/**
 * Config problems: each names the field path (`sinks[1].maxFiles`), what was
 * found and what is allowed. All problems of a file are reported together in
 * one PROCFLOW_E_CONFIG error.
 */
import { ERRORS, ProcflowError } from '../errors.js';

/** A path into the config: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** One thing wrong with a config. `line` is filled when the config came from a file. */
export interface ConfigProblem {
  path: FieldPath;
  /** What was found and what is allowed, e.g. `found "five" (a string); expected an integer from 1 to 1000`. */
  message: string;
  /** The problem is the key itself (unknown, or a duplicate setting): located at the key, not its value. */
  atKey?: boolean;
  /** A YAML syntax error: it has a line and column but no field path. */
  syntax?: boolean;
  line?: number;
  column?: number;
}

/** `['sinks', 1, 'maxFiles']` → `sinks[1].maxFiles`; the empty path is `(top level)`. */
export function formatPath(path: FieldPath): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Says what a YAML value is, for "found …": `"abc" (a string)`, `5 (a number)`, `a list`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': return `${JSON.stringify(value)} (a string)`;
    case 'number': return `${value} (a number)`;
    case 'boolean': return `${value} (a boolean)`;
    case 'object': return 'a mapping';
    default: return `a ${typeof value}`;
  }
}

/** One line of the error: `line 4, column 3: sinks[1].maxFiles: found …`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? '' : `line ${p.line}${p.column === undefined ? '' : `, column ${p.column}`}: `;
  return p.syntax ? `${where}${p.message}` : `${where}${formatPath(p.path)}: ${p.message}`;
}

/** PROCFLOW_E_CONFIG carrying every problem found (also as data, for tests and tools). */
export class ConfigError extends ProcflowError {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(ERRORS.CONFIG, {
      source,
      count: problems.length === 1 ? '1 problem' : `${problems.length} problems`,
      problems: problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
    });
    this.problems = problems;
  }
}

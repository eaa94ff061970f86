/**
 * Validation of a parsed config: every key known (canonical or alias), every
 * value checked, all problems collected, then the values overlaid on
 * DEFAULT_CONFIG key by key.
 */
import { ALIASES, suggest } from './aliases.js';
import { CROSS_CHECKS, EXTENSIONS, type ExtensionValues } from './extensions.js';
import { INVALID, isMapping } from './fields.js';
import { ConfigError, describe, type ConfigProblem } from './problems.js';
import { SCHEMA, SETTING_KEYS } from './schema.js';
import { DEFAULT_CONFIG, type AgentConfig } from './settings.js';

/** The settings the agent runs with, plus extension keys (plugins) when given. */
export type LoadedConfig = AgentConfig & ExtensionValues;

/** Result of checking: the config when there is no problem. */
export interface CheckResult {
  config: LoadedConfig | undefined;
  problems: ConfigProblem[];
}

const KNOWN_NAMES = [...SETTING_KEYS, ...Object.keys(EXTENSIONS)];

/** Checks `raw` (a parsed YAML document; null means an empty file) without throwing. */
export function checkConfig(raw: unknown): CheckResult {
  const problems: ConfigProblem[] = [];
  if (raw === null || raw === undefined) return { config: structuredClone(DEFAULT_CONFIG), problems };
  if (!isMapping(raw)) {
    problems.push({ path: [], message: `found ${describe(raw)}; expected a mapping of settings (key: value lines)` });
    return { config: undefined, problems };
  }
  const out = structuredClone(DEFAULT_CONFIG) as LoadedConfig & Record<string, unknown>;
  const setBy = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    const name = Object.hasOwn(SCHEMA, key) || Object.hasOwn(EXTENSIONS, key) ? key : ALIASES.get(key);
    if (name === undefined) {
      const hint = suggest(key, KNOWN_NAMES);
      problems.push({ path: [key], atKey: true, message: `unknown setting${hint ? ` (${hint})` : ''}; docs/config.md lists every setting` });
      continue;
    }
    const earlier = setBy.get(name);
    if (earlier !== undefined) {
      problems.push({ path: [key], atKey: true, message: `sets ${name} a second time (already set by ${earlier}); keep only one of ${earlier} and ${key}` });
      continue;
    }
    setBy.set(name, key);
    const check = (SCHEMA as Record<string, (v: unknown, p: (string | number)[], pr: ConfigProblem[]) => unknown>)[name] ?? EXTENSIONS[name]!;
    const checked = check(value, [key], problems);
    if (checked !== INVALID) out[name] = checked;
  }
  if (problems.length === 0) for (const check of CROSS_CHECKS) check(out, problems);
  return { config: problems.length === 0 ? out : undefined, problems };
}

/**
 * Validates a parsed config and overlays it on the defaults; throws one
 * PROCFLOW_E_CONFIG error listing every problem. `source` names it in the message.
 */
export function validateConfig(raw: unknown, source = '(inline)'): LoadedConfig {
  const { config, problems } = checkConfig(raw);
  if (!config) throw new ConfigError(source, problems);
  return config;
}

/**
 * Alias names of settings, and "did you mean" suggestions for unknown keys.
 * Operators know the settings from the replaced product with a `flowLogs` or
 * `flowLogsFile` prefix (flowLogsFlushInterval, flowLogsFilePerFlowProcessLimit);
 * both prefixed forms of each operator-known setting are accepted.
 */
import type { AgentConfig } from './settings.js';

/** The settings that carry the product's prefix as aliases. */
export const PREFIXED_SETTINGS = [
  'flushInterval', 'collectProcessInfo', 'collectProcessPath', 'aggregationKindForAllowed',
  'aggregationKindForDenied', 'perFlowProcessLimit', 'perFlowProcessArgsLimit', 'includeLoopback',
  'processCacheMaxEntries', 'exitedProcessRetention', 'flowTableMaxEntries', 'hooks',
] as const satisfies readonly (keyof AgentConfig)[];

const PREFIXES = ['flowLogs', 'flowLogsFile'] as const;

const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

/** Alias → canonical setting name. */
export const ALIASES: ReadonlyMap<string, keyof AgentConfig> = new Map(
  PREFIXED_SETTINGS.flatMap((key) => PREFIXES.map((p) => [`${p}${cap(key)}`, key] as const)),
);

/** The alias names of one setting (for the docs and messages). */
export function aliasesOf(key: keyof AgentConfig): string[] {
  return [...ALIASES].filter(([, k]) => k === key).map(([a]) => a);
}

/**
 * Settings of the replaced product that procflow expresses differently:
 * an unknown key among these gets this hint instead of a spelling guess.
 */
const MOVED: Readonly<Record<string, string>> = {
  flowLogsFileDirectory: 'procflow writes where its sinks say: sinks: [{type: file, path: DIR/flows.log}]',
  flowLogsFileMaxFiles: 'rotation is per sink: sinks: [{type: file, path: …, maxFiles: N}]',
  flowLogsFileMaxFileSizeMB: 'rotation is per sink: sinks: [{type: file, path: …, maxFileSizeMB: N}]',
  flowLogsFileEnabled: 'list the sinks you want under sinks:',
};

/** Edit distance (insert, delete, substitute) between two short strings. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * A hint for an unknown key among `known` names (and, at the top level, the
 * aliases): `did you mean flushInterval?`, or undefined when nothing is close.
 */
export function suggest(key: string, known: readonly string[]): string | undefined {
  if (MOVED[key]) return MOVED[key];
  const lower = key.toLowerCase();
  const stripped = lower.replace(/^flowlogs(file)?/, '');
  let best: string | undefined;
  let bestD = Infinity;
  for (const name of known) {
    const n = name.toLowerCase();
    const d = n === lower || n === stripped ? 0 : Math.min(distance(lower, n), distance(stripped, n));
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 5)) ? `did you mean ${best}?` : undefined;
}

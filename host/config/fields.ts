/**
 * Field checkers: each turns a YAML value into the setting's value, or
 * records a problem saying what was found and what is allowed.
 */
import { suggest } from './aliases.js';
import { parseDurationText, formatDuration } from './duration.js';
import { describe, type ConfigProblem, type FieldPath } from './problems.js';

/** Returned by a checker whose value was rejected (the problem is already recorded). */
export const INVALID: unique symbol = Symbol('invalid');

/** Checks one value at `path`; pushes to `problems` and returns INVALID when it is wrong. */
export type Checker<T> = (value: unknown, path: FieldPath, problems: ConfigProblem[]) => T | typeof INVALID;

function reject(problems: ConfigProblem[], path: FieldPath, value: unknown, allowed: string, hint?: string): typeof INVALID {
  problems.push({ path, message: `found ${describe(value)}; expected ${allowed}${hint ? ` (${hint})` : ''}` });
  return INVALID;
}

/** true or false, written as YAML booleans (not quoted, not yes/no). */
export const bool: Checker<boolean> = (v, path, problems) => {
  if (typeof v === 'boolean') return v;
  const hint = typeof v === 'string' && /^(true|false|yes|no|on|off)$/i.test(v) ? 'write true or false unquoted' : undefined;
  return reject(problems, path, v, 'true or false', hint);
};

/** An integer in [min, max]. */
export function int(min: number, max: number): Checker<number> {
  return (v, path, problems) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : reject(problems, path, v, `an integer from ${min} to ${max}`, typeof v === 'string' && /^\d+$/.test(v) ? 'write the number unquoted' : undefined);
}

/** One of `values`, spelled exactly. */
export function oneOf<T extends string | number>(values: readonly T[]): Checker<T> {
  return (v, path, problems) => {
    if ((values as readonly unknown[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? suggest(v, values.map(String)) : undefined;
    return reject(problems, path, v, `one of ${values.join(', ')}`, hint);
  };
}

/** A duration such as 500ms, 15s, 5m, 1h or 1m30s, in [minMs, maxMs]; yields ms. */
export function duration(minMs: number, maxMs: number): Checker<number> {
  const allowed = `a duration such as 500ms, 15s, 5m or 1h, from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  return (v, path, problems) => {
    if (typeof v === 'number') return reject(problems, path, v, allowed, `write the unit, e.g. ${v}s`);
    const ms = typeof v === 'string' ? parseDurationText(v) : undefined;
    return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : reject(problems, path, v, allowed);
  };
}

/** A non-empty string. */
export const text: Checker<string> = (v, path, problems) =>
  typeof v === 'string' && v.trim() !== '' ? v : reject(problems, path, v, 'a non-empty string');

/** `inner`, or null / absent meaning "unset" (undefined). */
export function optional<T>(inner: Checker<T>): Checker<T | undefined> {
  return (v, path, problems) => (v === null || v === undefined ? undefined : inner(v, path, problems));
}

/** True for a YAML mapping (a plain object). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reports every key of `obj` not in `known`, with a "did you mean" when one is close. */
export function rejectUnknownKeys(obj: Record<string, unknown>, known: readonly string[], path: FieldPath, problems: ConfigProblem[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const hint = suggest(key, known);
    problems.push({ path: [...path, key], atKey: true, message: `unknown setting; allowed here: ${known.join(', ')}${hint ? ` (${hint})` : ''}` });
  }
}

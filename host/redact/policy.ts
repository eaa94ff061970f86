/**
 * Masking policies: the `policy:` key of a `builtin:redact-args` entry, and the
 * settings of its `config:` map. Validated at load (a problem names the field
 * path, e.g. `plugins.chain[0].policy.rules[2].positions[0]`, and the fix);
 * the plugin receives the policy as JSON in its `policy` config value.
 * docs/redaction.md documents the syntax and the precedence.
 */
import { ERRORS, ProcflowError } from '../errors.js';

/** Caps on an argument list, applied after masking. */
export interface ArgsCap {
  /** At most this many arguments are kept. */
  count?: number;
  /** Each argument is cut to this many characters (UTF-16 units). */
  length?: number;
}

/** What a policy adds to the built-in rules (globally, or for the binaries of one rule). */
export interface PolicyAdditions {
  /** More secret flags, with their dashes (`--db-pass`, `-k`): `--db-pass=x`, `--db-pass x`, `-kx`, `-k x`. */
  flags?: string[];
  /** More secret KEY names for `KEY=value` and `-DKEY=value` (case-insensitive; `-` and `.` match `_`). */
  keys?: string[];
  /** Templates over a whole argument: `*` any text, `{secret}` the part masked (exactly once), `\` escapes. */
  patterns?: string[];
  /** Caps on the argument list. */
  argsCap?: ArgsCap;
}

/** A rule for the binaries its `match` glob selects. */
export interface PolicyRule extends PolicyAdditions {
  /** Glob on the executable (`*` within a path segment, `**` across, `?` one character); with a `/` it matches the full path, else the file name. */
  match: string;
  /** Argument positions masked whole: 1 is the first argument after argv[0], -1 the last. */
  positions?: number[];
  /** The binaries' arguments pass verbatim. */
  allow?: boolean;
  /** Allow rules only: keep masking token shapes and private keys (default true). */
  tokenShapes?: boolean;
}

/** A masking policy. */
export interface RedactPolicy extends PolicyAdditions {
  /** Shorthand for rules `{ match: GLOB, allow: true }` (listed after `rules`). */
  allow?: string[];
  /** Binary rules: the most specific matching one applies (full-path globs before file-name globs, then more literal characters, then the first listed). */
  rules?: PolicyRule[];
}

function fail(field: string, reason: string, fix: string): never {
  throw new ProcflowError(ERRORS.PLUGIN_CONFIG, { field, reason, fix });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, field: string, ok: (s: string) => boolean, what: string, example: string): string[] {
  if (!Array.isArray(v)) fail(field, `expected a list of ${what}`, `For example ${field.split('.').pop()}: [${example}].`);
  v.forEach((x, i) => {
    if (typeof x !== 'string' || !ok(x)) fail(`${field}[${i}]`, `expected ${what}, got ${JSON.stringify(x)}`, `For example ${example}.`);
  });
  return v as string[];
}

const FLAG = /^--?[A-Za-z0-9][A-Za-z0-9._-]*$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function checkGlob(g: string, field: string): void {
  if (g === '' || /\s/.test(g)) fail(field, `expected a glob without spaces, got ${JSON.stringify(g)}`, 'For example match: /usr/bin/mysql* or match: psql.');
  if (/[[\]{}]/.test(g.replace(/\\./g, ''))) fail(field, `${JSON.stringify(g)}: character classes and braces are not supported`, 'Use * (any text within a path segment), ** (across segments) and ?; escape a literal with \\.');
}

function checkPattern(p: string, field: string): void {
  const n = p.split('{secret}').length - 1;
  if (n !== 1) fail(field, `${JSON.stringify(p)} has ${n} {secret} placeholders`, 'Write exactly one {secret} where the secret is, e.g. "*Password={secret};*".');
}

function cap(v: unknown, field: string): ArgsCap {
  if (!isObject(v)) fail(field, 'expected a map with count and/or length', 'For example argsCap: { count: 64, length: 512 }.');
  const out: ArgsCap = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'count' && k !== 'length') fail(`${field}.${k}`, 'unknown setting', 'argsCap has count and length.');
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 1_000_000) fail(`${field}.${k}`, `expected an integer from 1 to 1000000, got ${JSON.stringify(x)}`, `For example ${k}: ${k === 'count' ? 64 : 512}.`);
    out[k] = x;
  }
  return out;
}

function additions(v: Record<string, unknown>, field: string, out: PolicyAdditions): void {
  if (v.flags !== undefined) out.flags = stringList(v.flags, `${field}.flags`, (s) => FLAG.test(s), 'flags with their dashes', '--db-pass, -k');
  if (v.keys !== undefined) out.keys = stringList(v.keys, `${field}.keys`, (s) => KEY.test(s), 'KEY names', 'DB_CONN, app.secretPhrase');
  if (v.patterns !== undefined) {
    out.patterns = stringList(v.patterns, `${field}.patterns`, () => true, 'templates', '"*Password={secret};*"');
    out.patterns.forEach((p, i) => checkPattern(p, `${field}.patterns[${i}]`));
  }
  if (v.argsCap !== undefined) out.argsCap = cap(v.argsCap, `${field}.argsCap`);
}

const RULE_KEYS = new Set(['match', 'flags', 'keys', 'patterns', 'argsCap', 'positions', 'allow', 'tokenShapes']);
const POLICY_KEYS = new Set(['flags', 'keys', 'patterns', 'argsCap', 'allow', 'rules']);

function rule(v: unknown, field: string): PolicyRule {
  if (!isObject(v)) fail(field, 'expected a map with match and what to do', 'For example - { match: /opt/app/bin/*, positions: [2] }.');
  for (const k of Object.keys(v)) if (!RULE_KEYS.has(k)) fail(`${field}.${k}`, 'unknown setting', `A rule has ${[...RULE_KEYS].join(', ')}.`);
  if (typeof v.match !== 'string') fail(`${field}.match`, 'missing: which binaries the rule is for', 'For example match: /usr/local/bin/app or match: "mysql*".');
  checkGlob(v.match, `${field}.match`);
  const out: PolicyRule = { match: v.match };
  additions(v, field, out);
  if (v.positions !== undefined) {
    if (!Array.isArray(v.positions)) fail(`${field}.positions`, 'expected a list of argument positions', 'For example positions: [2, -1] (1 is the first argument after the program, -1 the last).');
    v.positions.forEach((p, i) => {
      if (typeof p !== 'number' || !Number.isInteger(p) || p === 0 || Math.abs(p) > 10_000) fail(`${field}.positions[${i}]`, `expected a non-zero integer, got ${JSON.stringify(p)}`, 'Positions count from 1 (the first argument after the program); negative ones from the end (-1 is the last).');
    });
    out.positions = v.positions as number[];
  }
  if (v.allow !== undefined) {
    if (typeof v.allow !== 'boolean') fail(`${field}.allow`, 'expected true or false', 'allow: true lets the arguments of these binaries pass verbatim.');
    out.allow = v.allow;
  }
  if (v.tokenShapes !== undefined) {
    if (typeof v.tokenShapes !== 'boolean') fail(`${field}.tokenShapes`, 'expected true or false', 'tokenShapes: false lets even token shapes pass (allow rules only).');
    if (out.allow !== true) fail(`${field}.tokenShapes`, 'only allow rules have it (other rules always mask token shapes)', 'Add allow: true, or remove tokenShapes.');
    out.tokenShapes = v.tokenShapes;
  }
  if (out.allow && (out.positions || out.flags || out.keys || out.patterns)) {
    fail(field, 'an allow rule passes the arguments verbatim, so positions, flags, keys and patterns would never apply', 'Remove them, or make it a masking rule (allow: false).');
  }
  return out;
}

/** Validates a `policy:` value; throws PROCFLOW_E_PLUGIN_CONFIG naming the field path and the fix. */
export function validateRedactPolicy(raw: unknown, field: string): RedactPolicy {
  if (!isObject(raw)) fail(field, 'expected a map', 'See docs/redaction.md, "Masking policies".');
  for (const k of Object.keys(raw)) if (!POLICY_KEYS.has(k)) fail(`${field}.${k}`, 'unknown setting', `A policy has ${[...POLICY_KEYS].join(', ')}.`);
  const out: RedactPolicy = {};
  additions(raw, field, out);
  if (raw.allow !== undefined) {
    out.allow = stringList(raw.allow, `${field}.allow`, (s) => s !== '', 'globs of binaries', '/usr/bin/ls, "git"');
    out.allow.forEach((g, i) => checkGlob(g, `${field}.allow[${i}]`));
  }
  if (raw.rules !== undefined) {
    if (!Array.isArray(raw.rules)) fail(`${field}.rules`, 'expected a list of rules', 'Write each rule as a list item (- match: …).');
    out.rules = raw.rules.map((r, i) => rule(r, `${field}.rules[${i}]`));
  }
  return out;
}

/** The policy as the plugin reads it (JSON): the `allow:` shorthand becomes rules after the others. */
export function policyJson(p: RedactPolicy): string {
  const rules = [...(p.rules ?? []), ...(p.allow ?? []).map((match) => ({ match, allow: true }))];
  return JSON.stringify({ flags: p.flags, keys: p.keys, patterns: p.patterns, argsCap: p.argsCap, rules });
}

const CONFIG_KEYS = new Set(['mode', 'replacement', 'hmacKeyFile']);

/** Validates the `config:` map (or a tenant's override) of a builtin:redact-args entry. */
export function validateRedactArgsConfig(config: Record<string, string>, field: string): void {
  for (const [k, v] of Object.entries(config)) {
    if (k === 'hmacKey') fail(`${field}.hmacKey`, 'the HMAC key is never written in the config', 'Put it in a file (0600) and name it with hmacKeyFile, or let procflow create <dataDir>/redact-hmac.key.');
    if (k === 'policy') fail(`${field}.policy`, 'the policy is not a config value', 'Write it as policy: beside config: in the plugin entry (docs/redaction.md).');
    if (!CONFIG_KEYS.has(k)) fail(`${field}.${k}`, 'unknown setting of redact-args', `Its settings: ${[...CONFIG_KEYS].join(', ')}.`);
    if (k === 'mode' && v !== 'mask' && v !== 'hash' && v !== 'drop-args') fail(`${field}.mode`, `expected mask, hash or drop-args, got ${JSON.stringify(v)}`, 'mask writes the replacement, hash writes [HMAC:…] (equal secrets correlate), drop-args drops a list that held a secret.');
    if (k === 'replacement' && (v === '' || v.length > 64)) fail(`${field}.replacement`, 'expected 1 to 64 characters', 'For example replacement: "***".');
    if (k === 'hmacKeyFile' && v === '') fail(`${field}.hmacKeyFile`, 'expected a file path', 'For example hmacKeyFile: /etc/procflow/redact-hmac.key.');
  }
}

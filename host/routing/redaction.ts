/**
 * Redaction stays on by default on every route: a route whose records meet no
 * redactor (neither in the shared `plugins.chain` nor in its own chain) gets
 * `builtin:redact-args` in front of its chain, unless the operator turned
 * default redaction off explicitly (`plugins.defaultRedaction: false`).
 */
import type { PluginEntry, PluginsConfig } from '../plugins/config.js';

/** The redactor a route gets when nothing else redacts its records. */
export const DEFAULT_REDACTOR: Readonly<PluginEntry> = Object.freeze({ name: 'redact-args', stage: 'redactor', path: 'builtin:redact-args' });

/** True when the operator switched default redaction off (`plugins.defaultRedaction: false`). */
export function defaultRedactionOff(plugins: PluginsConfig | undefined): boolean {
  return plugins?.defaultRedaction === false;
}

/**
 * The chain a route runs: `chain` itself when a redactor already sees its
 * records (`sharedRedacts`, or one in `chain`) or redaction is off; else
 * DEFAULT_REDACTOR first (named so it does not clash with the route's plugins).
 * Any redactor counts (not only redact-args): a route whose operator chose
 * its own masking plugin runs that one alone, as plugins.chain does.
 */
export function withDefaultRedaction(chain: readonly PluginEntry[], sharedRedacts: boolean, off: boolean): PluginEntry[] {
  if (off || sharedRedacts || chain.some((e) => e.stage === 'redactor')) return [...chain];
  let name = DEFAULT_REDACTOR.name;
  for (let i = 2; chain.some((e) => e.name === name); i++) name = `${DEFAULT_REDACTOR.name}-${i}`;
  return [{ ...DEFAULT_REDACTOR, name }, ...chain];
}

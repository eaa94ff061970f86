/**
 * Redaction stays on by default on every route: a route whose records meet
 * no `builtin:redact-args` entry (neither in the shared `plugins.chain` nor in
 * its own chain) gets one in front of its chain, unless the operator turned
 * default redaction off explicitly (`plugins.defaultRedaction: false`). The
 * same rule as for `plugins.chain` without routes (host/redact/setup.ts): an
 * operator's own redactor runs after the built-in one, not instead of it.
 */
import type { PluginEntry, PluginsConfig } from '../plugins/config.js';
import { isRedactArgs, REDACT_ARGS_PATH } from '../redact/setup.js';

/** True when the operator switched default redaction off (`plugins.defaultRedaction: false`). */
export function defaultRedactionOff(plugins: PluginsConfig | undefined): boolean {
  return plugins?.defaultRedaction === false;
}

/**
 * The chain a route runs: `chain` itself when redact-args already sees its
 * records (`sharedRedacts`: one in plugins.chain; or one in `chain`) or
 * redaction is off; else redact-args first (named so it does not clash with
 * the route's plugins).
 */
export function withDefaultRedaction(chain: readonly PluginEntry[], sharedRedacts: boolean, off: boolean): PluginEntry[] {
  if (off || sharedRedacts || chain.some(isRedactArgs)) return [...chain];
  let name = 'redact-args';
  for (let i = 2; chain.some((e) => e.name === name); i++) name = `redact-args-${i}`;
  return [{ name, stage: 'redactor', path: REDACT_ARGS_PATH }, ...chain];
}

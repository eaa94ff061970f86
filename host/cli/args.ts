/** Command-line parsing helpers shared by the commands. */
import { parseDurationText } from '../config/duration.js';
import { ERRORS, ProcflowError } from '../errors.js';
import { HOOK_MODES, type HookMode } from '../sources/bpf/hooks.js';

/** Parses --hooks; a bad value names the flag and the accepted values. */
export function parseHookMode(value: string | undefined, field = '--hooks'): HookMode {
  const v = value ?? 'auto';
  if (!(HOOK_MODES as readonly string[]).includes(v)) {
    throw new ProcflowError(ERRORS.CONFIG_INVALID, { field, reason: `"${v}" is not a hook mode`, fix: `Use one of: ${HOOK_MODES.join(', ')}.` });
  }
  return v as HookMode;
}

/** Parses a duration such as "10s", "500ms", "2m", "1h", "1m30s" or a bare number of seconds, into ms. */
export function parseDuration(value: string, field: string): number {
  const ms = /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Math.round(Number(value) * 1000) : parseDurationText(value);
  if (ms === undefined) {
    throw new ProcflowError(ERRORS.CONFIG_INVALID, { field, reason: `"${value}" is not a duration`, fix: 'Write it like 500ms, 15s, 5m or 1h.' });
  }
  return ms;
}

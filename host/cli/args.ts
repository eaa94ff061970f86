/** Command-line parsing helpers shared by the commands. */
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

/** Parses a duration such as "10s", "500ms", "2m", "1h" or a bare number of seconds, into ms. */
export function parseDuration(value: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) {
    throw new ProcflowError(ERRORS.CONFIG_INVALID, { field, reason: `"${value}" is not a duration`, fix: 'Write it like 500ms, 15s, 5m or 1h.' });
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

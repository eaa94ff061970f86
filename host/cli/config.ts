/**
 * `procflow config check FILE`: validates a config file without running the
 * agent. Valid: prints the effective config (defaults overlaid with the file,
 * durations written back as text, unset values as null) and exits 0. Invalid:
 * throws PROCFLOW_E_CONFIG listing every problem (main prints it, exit 2).
 */
import { ERRORS, ProcflowError } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { DURATION_KEYS } from '../config/schema.js';

/** Runs `procflow config <sub> …`; resolves with the exit code. */
export function runConfig(args: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): number {
  const [sub, file, ...extra] = args;
  if (sub !== 'check' || file === undefined || extra.length > 0) {
    throw new ProcflowError(ERRORS.USAGE, { reason: 'Usage: procflow config check FILE' });
  }
  out(`${JSON.stringify(effectiveConfigView(loadConfig(file)), null, 2)}\n`);
  return 0;
}

/** The config as printed: every key present, durations as `15s`, unset as null; itself a valid config file. */
export function effectiveConfigView(config: LoadedConfig): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    view[key] = value === undefined ? null : (DURATION_KEYS as readonly string[]).includes(key) ? formatDuration(value as number) : value;
  }
  return view;
}

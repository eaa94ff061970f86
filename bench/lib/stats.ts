/** Small statistics and formatting helpers for benchmark output. */

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Smallest and largest value. */
export function spread(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** 1234567 → "1,234,567" (rounded). */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Signed percentage with one decimal, e.g. "-2.4%". */
export function pct(ratio: number): string {
  const v = ratio * 100;
  return `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
}

/** Parses `--name value` / `--name=value` options into a map (flags without value → "true"). */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(a.slice(2), argv[++i]);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

/** A numeric option with a default. */
export function numOpt(opts: Map<string, string>, name: string, def: number): number {
  const v = opts.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

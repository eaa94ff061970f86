import { describe, expect, it } from 'vitest';
import { parseDuration, parseHookMode } from '../../host/cli/args.js';
import { rfc3339Micro } from '../../host/cli/time.js';

describe('cli argument parsing', () => {
  it('parses durations into ms', () => {
    expect(parseDuration('500ms', 'd')).toBe(500);
    expect(parseDuration('15s', 'd')).toBe(15_000);
    expect(parseDuration('5m', 'd')).toBe(300_000);
    expect(parseDuration('2', 'd')).toBe(2000);
    expect(() => parseDuration('soon', '--duration')).toThrow(/--duration.*"soon".*500ms/);
  });
  it('accepts the three hook modes only', () => {
    expect(parseHookMode(undefined)).toBe('auto');
    expect(parseHookMode('kprobe')).toBe('kprobe');
    expect(() => parseHookMode('fentry')).toThrow(/PROCFLOW_E_CONFIG_INVALID|--hooks/);
  });
  it('formats RFC 3339 with microseconds', () => {
    expect(rfc3339Micro(Date.UTC(2026, 10, 26, 17, 25, 17, 123) + 0.456)).toBe('2026-11-26T17:25:17.123456Z');
  });
});

/** Durations in config files and flags: units required in files, Go-style sums accepted. */
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../host/cli/args.js';
import { formatDuration, parseDurationText } from '../../host/config/duration.js';

describe('durations', () => {
  it('parses units and sums', () => {
    expect(parseDurationText('500ms')).toBe(500);
    expect(parseDurationText('15s')).toBe(15_000);
    expect(parseDurationText('5m')).toBe(300_000);
    expect(parseDurationText('1h')).toBe(3_600_000);
    expect(parseDurationText('1m30s')).toBe(90_000);
    expect(parseDurationText('1.5s')).toBe(1500);
  });
  it('rejects text without units or with unknown units', () => {
    for (const bad of ['', '15', '1 minute', '5d', 's', '1m 30s', '-1s']) expect(parseDurationText(bad), bad).toBeUndefined();
  });
  it('formats back to text that parses to the same value', () => {
    for (const ms of [0, 500, 15_000, 90_000, 3_600_000, 3_723_004]) expect(parseDurationText(formatDuration(ms))).toBe(ms);
    expect(formatDuration(90_000)).toBe('1m30s');
  });
  it('keeps bare seconds on the command line', () => {
    expect(parseDuration('2', 'd')).toBe(2000);
    expect(parseDuration('1m30s', 'd')).toBe(90_000);
  });
});

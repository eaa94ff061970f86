/** RFC 3339 UTC timestamp with microseconds, from wall-clock milliseconds (fractional). */
export function rfc3339Micro(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2026-11-26T17:25:17.123Z
  const micros = Math.floor((ms - whole) * 1000);
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

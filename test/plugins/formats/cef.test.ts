/**
 * cef: ArcSight CEF events. The same bytes as the syslog sink's own CEF
 * encoder; the header has 7 fields with `|` and `\` escaped; extension values
 * escape `\`, `=` and line breaks and parse back to the record's values.
 */
import { describe, expect, it } from 'vitest';
import { cef } from '../../../host/sinks/syslog/encoder.js';
import { FORMAT_FIXTURES, joined, PACKAGE_VERSION, runFormat } from './fixtures.js';

/** Splits a CEF event into its 7 header fields (unescaped) and the extension text. */
function parseCef(line: string): { header: string[]; ext: string } {
  const header: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i];
    if (c === '\\' && (line[i + 1] === '|' || line[i + 1] === '\\')) cur += line[++i];
    else if (c === '|') { header.push(cur); cur = ''; }
    else cur += c;
  }
  return { header, ext: line.slice(i) };
}

/** Parses `k=v k=v …`: a key starts after a space and ends at an unescaped `=`; values unescape `\\`, `\=`, `\n`. */
function parseExt(ext: string): Map<string, string> {
  const out = new Map<string, string>();
  const keyAt = /(?:^| )([A-Za-z0-9_]+)=/g;
  const starts: { key: string; at: number; valueAt: number }[] = [];
  for (let m; (m = keyAt.exec(ext)); ) {
    // An `=` preceded by an odd number of backslashes is escaped: not a key.
    let bs = 0;
    for (let j = m.index + m[0].length - 2; j >= 0 && ext[j] === '\\'; j--) bs++;
    if (bs % 2 === 0) starts.push({ key: m[1], at: m.index, valueAt: m.index + m[0].length });
  }
  starts.forEach((s, n) => {
    const raw = ext.slice(s.valueAt, n + 1 < starts.length ? starts[n + 1].at : ext.length);
    out.set(s.key, raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
  });
  return out;
}

describe('cef', () => {
  it('writes the same event as the syslog sink CEF encoder, one line each, text/plain', async () => {
    const out = await runFormat('cef', FORMAT_FIXTURES);
    expect(out.contentType).toBe('text/plain');
    FORMAT_FIXTURES.forEach((r, i) => expect(out.items[i]).toBe(cef(r)));
  });

  it('has a 7-field header and extension values that parse back to the record', async () => {
    const out = await runFormat('cef', FORMAT_FIXTURES);
    FORMAT_FIXTURES.forEach((r, i) => {
      const { header, ext } = parseCef(out.items[i]);
      expect(header).toEqual(['CEF:0', 'procflow', 'procflow', PACKAGE_VERSION, 'flow', 'Network flow with process', '1']);
      const x = parseExt(ext);
      const side = r.reporter === 'src' ? 's' : 'd';
      expect(x.get(`${side}proc`)).toBe(r.process_name);
      expect(x.get(`${side}pid`)).toBe(r.process_id);
      expect(x.get(`${side === 's' ? 'd' : 's'}proc`)).toBeUndefined();
      expect(JSON.parse(x.get('cs1')!)).toEqual(joined(r));
      expect(x.get('cs1Label')).toBe('process_args');
      expect(x.get('src')).toBe(r.source_ip ?? undefined);
      expect(x.get('spt')).toBe(r.source_port === null ? undefined : String(r.source_port));
      expect(x.get('dst')).toBe(r.dest_ip ?? undefined);
      expect(x.get('dpt')).toBe(r.dest_port === null ? undefined : String(r.dest_port));
      expect(x.get('in')).toBe(String(r.bytes_in));
      expect(x.get('out')).toBe(String(r.bytes_out));
      expect(x.get('proto')).toBe(r.proto.toUpperCase());
      expect(x.get('act')).toBe(r.action);
      expect(x.get('start')).toBe(String(r.start_time * 1000));
      expect(x.get('end')).toBe(String(r.end_time * 1000));
      expect(x.get('rt')).toBe(String(r.end_time * 1000));
      expect(x.get('externalId')).toBe(r.id);
    });
    // Fixture 4's path has a `|` (left as is in the extension) and its args `=`, `\` and line breaks (escaped).
    expect(out.items[4]).toContain('sproc=/opt/ünï cödé/bin/tool|x ');
    expect(out.items[4]).toContain('--name\\=a\\=b');
    expect(out.items[4]).not.toMatch(/[\r\n]/);
  });

  it('escapes `|` and `\\` in configured header fields, line breaks become spaces', async () => {
    const out = await runFormat('cef', FORMAT_FIXTURES.slice(0, 1), { vendor: 'Acme|Corp\\', product: 'flow\nlogs' });
    expect(out.items[0].startsWith('CEF:0|Acme\\|Corp\\\\|flow logs|')).toBe(true);
    expect(parseCef(out.items[0]).header.slice(1, 3)).toEqual(['Acme|Corp\\', 'flow logs']);
  });
});

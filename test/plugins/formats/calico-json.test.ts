/**
 * calico-json, the default format: exactly the flows.log record, the same
 * bytes as the host's built-in formatter (builtinJsonItem) on every shape of
 * record; `builtin:json-lines`, its former name, resolves to the same plugin.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../../host/flows/record.js';
import { resolveBuiltin } from '../../../host/plugins/builtin.js';
import { PluginChain } from '../../../host/plugins/chain.js';
import { builtinJsonItem } from '../../../host/plugins/codec.js';
import { testLog } from '../../helpers/logger.js';
import { CACHE_DIR, entry, flow } from '../helpers.js';
import { FORMAT_FIXTURES, runFormat } from './fixtures.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

// Deterministic pseudo-random records: strings drawn from ASCII, escapes, controls, BMP and astral characters.
function varied(n: number): FlowRecord[] {
  let seed = 12345;
  const rnd = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % m);
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '=', '|', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', 'é', 'ß', '中', '\u2028', '💥', '\\x9f'];
  const str = (len: number) => Array.from({ length: len }, () => alphabet[rnd(alphabet.length)]).join('');
  return Array.from({ length: n }, (_, i) => flow(100 + i, {
    process_name: rnd(5) === 0 ? '*' : rnd(4) === 0 ? '-' : `/opt/${str(rnd(12))}`,
    process_id: rnd(3) === 0 ? '*' : String(rnd(4_000_000)),
    process_args: Array.from({ length: rnd(4) }, () => Array.from({ length: rnd(5) }, () => str(rnd(20)))),
    source_ip: rnd(3) === 0 ? null : '192.168.1.7',
    source_port: rnd(3) === 0 ? null : rnd(65536),
    dest_labels: rnd(2) === 0 ? '-' : { [str(4)]: str(6), app: 'x' },
    bytes_in: rnd(2) === 0 ? 2 ** 40 + rnd(1000) : rnd(1000),
    ...(rnd(2) === 0 ? { tcp_mean_smooth_rtt: rnd(10000), tcp_lost_packets: 0, tcp_min_mss: 536 } : {}),
  }));
}

describe('calico-json', () => {
  it('writes the same bytes as the built-in JSON format on every fixture and 300 varied records', async () => {
    const records = [...FORMAT_FIXTURES, ...varied(300)];
    const out = await runFormat('calico-json', records);
    expect(out.contentType).toBe('application/json');
    expect(out.items).toHaveLength(records.length);
    for (let i = 0; i < records.length; i++) expect(out.items[i], `record ${i}`).toBe(text(builtinJsonItem(records[i])));
    // …and those bytes are the flows.log record: every field but the pipeline id, args joined.
    const parsed = JSON.parse(out.items[1]);
    expect(parsed.id).toBeUndefined();
    expect(parsed.process_args).toEqual(['-g daemon off;']);
    expect(parsed.tcp_mean_mss).toBeUndefined();
    expect(JSON.parse(out.items[0]).tcp_mean_mss).toBe(1448);
  });

  it('writes the same bytes when fields repeat, vary, go missing or come back between consecutive records (the formatter copies a field repeated from the previous record)', async () => {
    let seed = 7;
    const rnd = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) % m;
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'é', '中', '💥', 'x'.repeat(9)];
    const str = (len: number) => {
      let t = '';
      while (t.length < len) t += rnd(4) ? 'abcdefgh'[rnd(8)] : alphabet[rnd(alphabet.length)];
      return t;
    };
    const nums = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 60, -1, -33, -129, -32769, -(2 ** 31) - 1, 0.5, -1.25, 1e21, 1e-7, 123456.789];
    const num = () => nums[rnd(nums.length)];
    const records: FlowRecord[] = [];
    for (let i = 0; i < 600; i++) {
      // Runs of records that share most fields (as one interval's flows do), with some fields changed, dropped or added.
      const r: Record<string, unknown> = { ...flow(i % 7), id: `r-${i}` };
      if (rnd(2)) r.process_name = str(rnd(3) ? rnd(20) : rnd(5000));
      if (rnd(3) === 0) r.process_args = [[str(rnd(40)), str(rnd(3) ? 3 : 4500)]];
      if (rnd(2)) r.host = str(rnd(33));
      if (rnd(3) === 0) r.bytes_in = num();
      if (rnd(3) === 0) r.source_port = num();
      if (rnd(4) === 0) r.dest_service_port = rnd(2) ? String(num()) : str(rnd(5));
      if (rnd(4) === 0) r.dest_labels = { [str(rnd(10))]: str(rnd(20)), k: 'v' };
      if (rnd(4) === 0) r.source_ip = null;
      if (rnd(4) === 0) delete r.source_name;
      if (rnd(4) === 0) delete r.host;
      if (rnd(3) === 0) r.tcp_mean_mss = num();
      records.push(r as unknown as FlowRecord);
    }
    const out = await runFormat('calico-json', records);
    expect(out.stats.failures).toMatchObject({ malformed: 0, error: 0, trap: 0 });
    for (let i = 0; i < records.length; i++) expect(out.items[i], `record ${i}`).toBe(text(builtinJsonItem(records[i])));
  });

  it("writeFlowLogJson writes what the plugin changed, never a cached copy of the input's value (fixture touch-format)", async () => {
    // Neighbours equal but for what the plugin changes: a cache keyed on input bytes alone would copy the old values.
    const records = Array.from({ length: 120 }, (_, i) => ({ ...flow(i % 2), id: `t-${i}` }) as FlowRecord);
    const chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry('fixtures/touch-format', { timeoutMs: 10_000 })] }, { log: testLog });
    try {
      const out = await chain.process(records);
      expect(chain.stats()['touch-format'].failures).toMatchObject({ malformed: 0, error: 0, trap: 0 });
      records.forEach((r, i) => {
        const want: Record<string, unknown> = { ...r };
        if (i % 3 === 0) want.process_name = `X${r.process_name}`;
        if (i % 4 === 0) want.process_id = 'P';
        if (i % 5 === 0) want.process_args = [['a b', 'c']];
        if (i % 2 === 0) want.host = `h${i % 4}`;
        if (i % 6 === 0) want.extra_n = i;
        expect(text(out.items[i]), `record ${i}`).toBe(text(builtinJsonItem(want as unknown as FlowRecord)));
      });
    } finally {
      await chain.close();
    }
  });

  it('builtin:json-lines is an alias of builtin:calico-json', async () => {
    expect(await resolveBuiltin('json-lines')).toBe(await resolveBuiltin('calico-json'));
    const chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [{ name: 'old-name', stage: 'formatter', path: 'builtin:json-lines' }] }, { log: testLog, resolveBuiltin });
    try {
      const out = await chain.process(FORMAT_FIXTURES.slice(0, 2));
      expect(out.items.map(text)).toEqual(FORMAT_FIXTURES.slice(0, 2).map((r) => text(builtinJsonItem(r))));
    } finally {
      await chain.close();
    }
  });
});

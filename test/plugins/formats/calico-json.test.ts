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
import { CACHE_DIR, flow } from '../helpers.js';
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

/**
 * One format, three producers, the same bytes: the calico-json formatter
 * plugin's items, the host's built-in formatter (builtinJsonItem), and what
 * the file sink writes — both for records it encodes itself (a route without
 * a formatter: flows.log as before routing existed) and for the calico-json
 * items a route hands it to frame.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { resolveBuiltin } from '../../host/plugins/builtin.js';
import { PluginChain } from '../../host/plugins/chain.js';
import { builtinJsonItem } from '../../host/plugins/codec.js';
import type { Routing } from '../../host/routing/setup.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, flow } from '../plugins/helpers.js';
import { FORMAT_FIXTURES } from '../plugins/formats/fixtures.js';
import { startRouting, stopRouting, tempDir } from './helpers.js';

/** The formatter under test: calico-json (its former name json-lines resolves to the same plugin). */
const FORMATTER = 'builtin:calico-json';

let routing: Routing | undefined;
let chain: PluginChain | undefined;
afterEach(async () => {
  await stopRouting(routing);
  await chain?.close();
  routing = chain = undefined;
});

/** Awkward records: escapes, controls, astral characters, nulls, label maps, large counters, TCP stats. */
function odd(): FlowRecord[] {
  return [
    flow(1, { process_name: '/opt/"q"\\x\n\t\u0001é', process_args: [['ä', '💥', 'a"b', '\u2028']], source_ip: null, source_port: null }),
    flow(2, { dest_labels: { app: 'x"y', 'k\\': 'v\n' }, bytes_in: 2 ** 40 + 7, process_args: [] }),
    flow(3, { process_name: '*', process_id: '*', tcp_mean_smooth_rtt: 1234, tcp_lost_packets: 0, tcp_min_mss: 536 }),
    flow(4, { process_args: [[''], ['--x=1', '中文']], dest_ip: 'fd00::1', source_namespace: 'ns/with/slash' }),
  ];
}

describe('calico-json plugin, built-in formatter and file sink', () => {
  it('produce byte-identical records', async () => {
    const records = [...FORMAT_FIXTURES, ...odd()];
    const builtin = records.map((r) => Buffer.from(builtinJsonItem(r)).toString('utf8'));

    chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [{ name: 'calico', stage: 'formatter', path: FORMATTER }] }, { log: testLog, resolveBuiltin });
    const out = await chain.process(records);
    expect(out.contentType).toBe('application/json');
    expect(out.items.map((i) => Buffer.from(i).toString('utf8'))).toEqual(builtin);

    // Two catch-all routes (overlap: copy): one formats with the plugin, one leaves encoding to the sink.
    const dir = tempDir();
    routing = await startRouting({
      plugins: { defaultRedaction: false }, // the bytes compared are the records' own
      sinks: [{ type: 'file', name: 'plugin', path: join(dir, 'plugin.log') }, { type: 'file', name: 'sink', path: join(dir, 'sink.log') }],
      routes: {
        key: 'host', overlap: 'copy',
        tenants: [
          { name: 'formatted', match: { globs: ['*'] }, chain: [{ name: 'calico', stage: 'formatter', path: FORMATTER }], sinks: ['plugin'] },
          { name: 'native', match: { globs: ['*'] }, sinks: ['sink'] },
        ],
      },
    }, dir); // redaction off: the bytes compared are the records' own
    expect(routing.summary.map((s) => s.plugins)).toEqual([['formatter:calico'], []]);
    await routing.router.route(records);
    const expected = builtin.map((l) => `${l}\n`).join('');
    expect(readFileSync(join(dir, 'plugin.log'), 'utf8')).toBe(expected);
    expect(readFileSync(join(dir, 'sink.log'), 'utf8')).toBe(expected);
    expect(routing.router.stats().routes).toMatchObject({ formatted: { shipped: records.length }, native: { shipped: records.length } });
  });
});

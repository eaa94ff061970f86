/**
 * The shipped index template maps every field of the flow log schema with its
 * type (ip, keyword, long, date); `procflow elastic setup` installs it and the
 * Kibana objects; records the sink sends then index cleanly under it, and a
 * value of the wrong type is refused per item (dead letter).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elasticSetup, KIBANA_OBJECTS_PATH, TEMPLATE_PATH } from '../../host/cli/elastic.js';
import { validateConfig } from '../../host/config/load.js';
import { renderFlowLog, type FlowRecord } from '../../host/flows/record.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecord } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';
import { startEsServer, type EsTestServer } from '../servers/elasticsearch.js';
import { startKibana, type KibanaStandIn } from '../servers/kibana.js';

/** The schema's types (docs: flow log datatype): what each field must be mapped as. */
const SCHEMA_TYPES: Record<string, string> = {
  start_time: 'date', end_time: 'date', host: 'keyword', action: 'keyword', reporter: 'keyword', proto: 'keyword',
  source_ip: 'ip', dest_ip: 'ip', source_port: 'long', dest_port: 'long',
  source_name: 'keyword', dest_name: 'keyword', source_name_aggr: 'keyword', dest_name_aggr: 'keyword', source_namespace: 'keyword', dest_namespace: 'keyword',
  source_type: 'keyword', dest_type: 'keyword', source_labels: 'object', dest_labels: 'object',
  dest_service_name: 'keyword', dest_service_namespace: 'keyword', dest_service_port: 'keyword', policies: 'object',
  bytes_in: 'long', bytes_out: 'long', packets_in: 'long', packets_out: 'long', num_flows: 'long', num_flows_started: 'long', num_flows_completed: 'long',
  process_name: 'keyword', process_id: 'keyword', process_args: 'keyword', num_process_names: 'long', num_process_ids: 'long', num_process_args: 'long',
  tcp_mean_send_congestion_window: 'long', tcp_min_send_congestion_window: 'long', tcp_mean_smooth_rtt: 'long', tcp_max_smooth_rtt: 'long',
  tcp_mean_min_rtt: 'long', tcp_max_min_rtt: 'long', tcp_mean_mss: 'long', tcp_min_mss: 'long', tcp_total_retransmissions: 'long', tcp_lost_packets: 'long', tcp_unrecovered_to: 'long',
};

const template = JSON.parse(readFileSync(TEMPLATE_PATH, 'utf8')) as { index_patterns: string[]; template: { mappings: { properties: Record<string, { type: string; format?: string }> } } };

let es: EsTestServer;
let kb: KibanaStandIn;
beforeAll(async () => {
  es = await startEsServer();
  kb = await startKibana();
});
afterAll(async () => {
  await es.close();
  await kb.close();
});

describe('index template and Kibana objects', () => {
  it('maps every field of a rendered record, each with its schema type', () => {
    const full = { ...flowRecord(1), tcp_mean_send_congestion_window: 1, tcp_min_send_congestion_window: 1, tcp_mean_smooth_rtt: 1, tcp_max_smooth_rtt: 1, tcp_mean_min_rtt: 1, tcp_max_min_rtt: 1, tcp_mean_mss: 1, tcp_min_mss: 1, tcp_total_retransmissions: 1, tcp_lost_packets: 1, tcp_unrecovered_to: 1 } as FlowRecord;
    const props = template.template.mappings.properties;
    for (const field of Object.keys(renderFlowLog(full))) {
      expect(props[field]?.type, field).toBe(SCHEMA_TYPES[field]);
    }
    expect(Object.keys(props).sort()).toEqual(Object.keys(SCHEMA_TYPES).sort());
    expect(props.end_time!.format).toBe('epoch_second');
    expect(template.index_patterns).toEqual(['procflow-flows-*']);
  });

  it('ships an index pattern on end_time, a "Flow logs" saved search showing process_name and process_args, and a dashboard embedding it', () => {
    const objs = readFileSync(KIBANA_OBJECTS_PATH, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string; attributes: Record<string, unknown>; references: { id: string; type: string }[] });
    const [pattern, search, dash] = objs;
    expect(pattern).toMatchObject({ type: 'index-pattern', attributes: { title: 'procflow-flows-*', timeFieldName: 'end_time' } });
    expect(search).toMatchObject({ type: 'search', attributes: { title: 'Flow logs' } });
    expect(search!.attributes.columns).toEqual(expect.arrayContaining(['process_name', 'process_args']));
    expect(search!.references).toEqual([expect.objectContaining({ id: pattern!.id, type: 'index-pattern' })]);
    expect(dash).toMatchObject({ type: 'dashboard', attributes: { title: 'Flow logs' } });
    expect(dash!.references).toEqual([expect.objectContaining({ id: search!.id, type: 'search' })]);
    expect(JSON.parse(dash!.attributes.panelsJSON as string)[0].panelRefName).toBe('panel_1');
  });
});

describe('procflow elastic setup', () => {
  it('installs the template and the Kibana objects; the sink then indexes under the template, wrong types refused per item', async () => {
    const done = await elasticSetup({ url: es.url, kibanaUrl: kb.url });
    expect(done[0]).toMatch(/^Elasticsearch 8\.\d+\.\d+ at /);
    expect(es.templates.get('procflow-flows')).toEqual(template);
    expect(kb.objects.map((o) => o.type)).toEqual(['index-pattern', 'search', 'dashboard']);

    const dir = mkdtempSync(join(tmpdir(), 'procflow-setup-'));
    const sink = createSink(validateConfig({ sinks: [{ type: 'elasticsearch', url: es.url, name: 't', retryInitial: '10ms' }] }).sinks[0]!, 0, { dataDir: dir, log: testLog });
    const good = [flowRecord(1, 'tpl'), { ...flowRecord(2, 'tpl'), source_labels: { app: 'web' }, policies: { all_policies: [], enforced_policies: [], pending_policies: [] } } as FlowRecord, { ...flowRecord(3, 'tpl'), dest_ip: '2001:db8::1', source_ip: null }];
    const bad = { ...flowRecord(4, 'tpl'), dest_ip: 'pub' } as FlowRecord; // an aggregated name in an ip field
    await sink.write([...good, bad]);
    await sink.close();
    expect(sink.metrics()).toMatchObject({ sent: 3, deadLettered: 1 });
    expect(readFileSync(join(dir, 'dead-letter', 't.ndjson'), 'utf8')).toContain('is not an IP string literal');
  });

  it('says which step failed and how to fix it', async () => {
    const down = await startEsServer();
    await down.close(); // nothing listens there any more
    await expect(elasticSetup({ url: down.url })).rejects.toThrow(/^procflow elastic setup: reaching Elasticsearch failed against .* \(ECONNREFUSED\)\. Check the URL/);
    const secured = await startEsServer({ auth: { apiKey: 'k' } });
    try {
      await expect(elasticSetup({ url: secured.url })).rejects.toThrow(/HTTP 401.*Check --api-key/);
      await expect(elasticSetup({ url: secured.url, apiKey: 'k' })).resolves.toHaveLength(3); // version, template, "Kibana objects not installed" hint
    } finally {
      await secured.close();
    }
  });
});

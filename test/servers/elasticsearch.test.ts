/**
 * The Elasticsearch stand-in answers the example bulk requests of the
 * Elasticsearch reference (docs-bulk, "Bulk API" examples) the way the
 * documented example responses show: same actions, statuses, results, error
 * types, item order and `errors` flag (took, _seq_no and uuids vary).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEsServer, type EsTestServer } from './elasticsearch.js';

let es: EsTestServer;
beforeAll(async () => {
  es = await startEsServer();
});
afterAll(() => es.close());

async function bulk(body: string, contentType = 'application/x-ndjson'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${es.url}/_bulk`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The fields of an item the documented responses fix. */
function shape(items: Record<string, Record<string, unknown>>[]) {
  return items.map((it) => {
    const [op, r] = Object.entries(it)[0]!;
    return { op, _index: r._index, _id: r._id, status: r.status, result: r.result, _version: r._version, error: (r.error as { type?: string } | undefined)?.type };
  });
}

describe('Elasticsearch stand-in against the documented _bulk examples', () => {
  it('example 1: index, delete (missing), create, update', async () => {
    const body = [
      '{ "index" : { "_index" : "test", "_id" : "1" } }',
      '{ "field1" : "value1" }',
      '{ "delete" : { "_index" : "test", "_id" : "2" } }',
      '{ "create" : { "_index" : "test", "_id" : "3" } }',
      '{ "field1" : "value3" }',
      '{ "update" : {"_id" : "1", "_index" : "test"} }',
      '{ "doc" : {"field2" : "value2"} }',
      '',
    ].join('\n');
    const { status, json } = await bulk(body);
    expect(status).toBe(200);
    // Documented response: errors false; index 201 created v1, delete 404 not_found, create 201 created v1, update 200 updated v2.
    expect(json.errors).toBe(false);
    expect(typeof json.took).toBe('number');
    expect(shape(json.items as never)).toEqual([
      { op: 'index', _index: 'test', _id: '1', status: 201, result: 'created', _version: 1, error: undefined },
      { op: 'delete', _index: 'test', _id: '2', status: 404, result: 'not_found', _version: 1, error: undefined },
      { op: 'create', _index: 'test', _id: '3', status: 201, result: 'created', _version: 1, error: undefined },
      { op: 'update', _index: 'test', _id: '1', status: 200, result: 'updated', _version: 2, error: undefined },
    ]);
    const first = (json.items as Record<string, Record<string, unknown>>[])[0]!.index!;
    expect(first._shards).toEqual({ total: 2, successful: 1, failed: 0 });
    expect(first).toHaveProperty('_seq_no');
    expect(first).toHaveProperty('_primary_term');
  });

  it('example 2 (errors): two updates of missing documents fail with document_missing_exception, the create succeeds', async () => {
    const body = [
      '{ "update": {"_id": "5", "_index": "index1"} }',
      '{ "doc": {"my_field": "foo"} }',
      '{ "update": {"_id": "6", "_index": "index1"} }',
      '{ "doc": {"my_field": "foo"} }',
      '{ "create": {"_id": "7", "_index": "index1"} }',
      '{ "my_field": "foo" }',
      '',
    ].join('\n');
    const { status, json } = await bulk(body);
    expect(status).toBe(200);
    expect(json.errors).toBe(true);
    expect(shape(json.items as never)).toEqual([
      { op: 'update', _index: 'index1', _id: '5', status: 404, result: undefined, _version: undefined, error: 'document_missing_exception' },
      { op: 'update', _index: 'index1', _id: '6', status: 404, result: undefined, _version: undefined, error: 'document_missing_exception' },
      { op: 'create', _index: 'index1', _id: '7', status: 201, result: 'created', _version: 1, error: undefined },
    ]);
    expect((json.items as Record<string, Record<string, { reason: string }>>[])[0]!.update!.error!.reason).toBe('[5]: document missing');
  });

  it('rejects a body without the final newline, and a wrong content type, as Elasticsearch does', async () => {
    const noNl = await bulk('{ "index" : { "_index" : "test", "_id" : "9" } }\n{ "a" : 1 }');
    expect(noNl.status).toBe(400);
    expect(JSON.stringify(noNl.json)).toContain('The bulk request must be terminated by a newline');
    const text = await bulk('{ "index" : { "_index" : "test" } }\n{}\n', 'text/plain');
    expect(text.status).toBe(406);
  });

  it('answers a value that does not fit the mapping with a per-item document_parsing_exception, other items indexed', async () => {
    await fetch(`${es.url}/_index_template/t`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ index_patterns: ['typed-*'], template: { mappings: { properties: { dest_port: { type: 'long' }, dest_ip: { type: 'ip' } } } } }) });
    const body = [
      '{"index":{"_index":"typed-1","_id":"a"}}', '{"dest_port":443,"dest_ip":"10.0.0.1"}',
      '{"index":{"_index":"typed-1","_id":"b"}}', '{"dest_port":"https","dest_ip":"10.0.0.1"}',
      '{"index":{"_index":"typed-1","_id":"c"}}', '{"dest_port":80,"dest_ip":"not-an-ip"}',
      '{"create":{"_index":"typed-1","_id":"a"}}', '{"dest_port":1}',
      '',
    ].join('\n');
    const { json } = await bulk(body);
    expect(json.errors).toBe(true);
    expect(shape(json.items as never).map((i) => [i._id, i.status, i.error])).toEqual([
      ['a', 201, undefined], ['b', 400, 'document_parsing_exception'], ['c', 400, 'document_parsing_exception'], ['a', 409, 'version_conflict_engine_exception'],
    ]);
  });
});

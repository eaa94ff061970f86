/**
 * otlp-json: one OTLP/JSON LogRecord per item. Checks the protobuf JSON shape
 * (int64 as decimal strings, AnyValue with exactly one member, unique keys)
 * and the semantic-convention attributes against the input record.
 */
import { describe, expect, it } from 'vitest';
import { enrichment, FORMAT_FIXTURES, joined, runFormat } from './fixtures.js';

const LOG_RECORD_FIELDS = new Set(['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'body', 'attributes', 'droppedAttributesCount', 'flags', 'traceId', 'spanId', 'eventName']);

type AnyValue = Record<string, unknown>;

/** Checks an OTLP AnyValue and returns it as a plain JS value (int64 as bigint). */
function plain(v: AnyValue): unknown {
  const keys = Object.keys(v);
  expect(keys, JSON.stringify(v)).toHaveLength(1);
  const [k] = keys;
  const x = v[k];
  switch (k) {
    case 'stringValue': expect(typeof x).toBe('string'); return x;
    case 'boolValue': expect(typeof x).toBe('boolean'); return x;
    case 'intValue': expect(x).toMatch(/^-?\d+$/); return BigInt(x as string);
    case 'doubleValue': expect(typeof x).toBe('number'); return x;
    case 'arrayValue': return ((x as { values: AnyValue[] }).values).map(plain);
    case 'kvlistValue': return attrs((x as { values: { key: string; value: AnyValue }[] }).values);
  }
  throw new Error(`not an AnyValue member: ${k}`);
}

/** Key/value list → object; keys must be unique. */
function attrs(list: { key: string; value: AnyValue }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list) {
    expect(out, `duplicate key ${key}`).not.toHaveProperty([key]);
    out[key] = plain(value);
  }
  return out;
}

describe('otlp-json', () => {
  it('writes one valid LogRecord per flow with semantic-convention attributes', async () => {
    const out = await runFormat('otlp-json', FORMAT_FIXTURES);
    expect(out.contentType).toBe('application/json');
    FORMAT_FIXTURES.forEach((r, i) => {
      const lr = JSON.parse(out.items[i]);
      for (const k of Object.keys(lr)) expect(LOG_RECORD_FIELDS.has(k), k).toBe(true);
      expect(lr.timeUnixNano).toBe(String(BigInt(r.end_time) * 1_000_000_000n));
      expect(lr.observedTimeUnixNano).toBe(lr.timeUnixNano);
      expect(lr).toMatchObject({ severityNumber: 9, severityText: 'INFO', eventName: 'procflow.flow' });
      expect(typeof plain(lr.body)).toBe('string');
      expect(plain(lr.body)).toContain(`${r.action} ${r.proto} `);

      const a = attrs(lr.attributes);
      const isPath = r.process_name.startsWith('/');
      const known = isPath || (r.process_name !== '-' && r.process_name !== '*');
      expect(a['process.executable.path']).toBe(isPath ? r.process_name : undefined);
      expect(a['process.executable.name']).toBe(isPath ? r.process_name.slice(r.process_name.lastIndexOf('/') + 1) : known ? r.process_name : undefined);
      expect(a['process.pid']).toBe(/^\d+$/.test(r.process_id) ? BigInt(r.process_id) : undefined);
      if (known && r.process_args.length === 1) {
        expect(a['process.command_args']).toEqual([r.process_name, ...r.process_args[0]]);
        expect(a['process.args_count']).toBe(BigInt(r.process_args[0].length + 1));
      } else expect(a['process.command_args']).toBeUndefined();
      expect(a['source.address']).toBe(r.source_ip ?? undefined);
      expect(a['source.port']).toBe(r.source_port === null ? undefined : BigInt(r.source_port));
      expect(a['destination.address']).toBe(r.dest_ip ?? undefined);
      expect(a['destination.port']).toBe(r.dest_port === null ? undefined : BigInt(r.dest_port));
      expect(a['network.transport']).toBe(r.proto);
      expect(a['host.name']).toBe(r.host);

      // The rest under procflow.*, values as in the record (maps as kvlists, counters as exact int64).
      expect(a['procflow.start_time']).toBe(BigInt(r.start_time));
      expect(a['procflow.reporter']).toBe(r.reporter);
      expect(a['procflow.bytes_in']).toBe(BigInt(r.bytes_in));
      expect(a['procflow.bytes_out']).toBe(BigInt(r.bytes_out));
      expect(a['procflow.source_labels']).toEqual(r.source_labels);
      expect(a['procflow.policies']).toEqual(r.policies);
      expect(a['procflow.process_name']).toBe(r.process_name);
      expect(a['procflow.process_id']).toBe(r.process_id);
      expect(a['procflow.process_args']).toEqual(joined(r));
      expect(a['procflow.tcp_mean_mss']).toBe(r.tcp_mean_mss === undefined ? undefined : BigInt(r.tcp_mean_mss));
      // builtin:enrich-process's fields: process.parent_pid, container.id, all raw under procflow.*.
      const x = enrichment(r);
      expect(a['process.parent_pid']).toBe(x.ppid && /^\d+$/.test(x.ppid) ? BigInt(x.ppid) : undefined);
      expect(a['container.id']).toBe(x.container && x.container !== '-' ? x.container : undefined);
      expect(a['procflow.process_cgroup']).toBe(x.cgroup);
      expect(a['procflow.process_parent_name']).toBe(x.parent);
      for (const k of Object.keys(a)) expect(k.startsWith('procflow.') || /^(process|source|destination|network|host|container)\./.test(k), k).toBe(true);
    });
  });
});

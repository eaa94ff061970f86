/**
 * ecs: Elastic Common Schema documents. Every expectation is derived from the
 * input record (the mapping in docs/formats.md), not copied from the output.
 */
import { describe, expect, it } from 'vitest';
import { flow } from '../helpers.js';
import { baseName, enrichment, FORMAT_FIXTURES, joined, runFormat } from './fixtures.js';

const iso = (secs: number) => new Date(secs * 1000).toISOString();

describe('ecs', () => {
  it('maps every fixture record onto ECS fields', async () => {
    const out = await runFormat('ecs', FORMAT_FIXTURES);
    expect(out.contentType).toBe('application/json');
    FORMAT_FIXTURES.forEach((r, i) => {
      const d = JSON.parse(out.items[i]);
      const e = enrichment(r);
      expect(Object.keys(d).sort()).toEqual(['@timestamp', 'destination', 'ecs', 'event', 'host', 'network', 'procflow', 'source', ...(d.process ? ['process'] : []), ...(e.container && e.container !== '-' ? ['container'] : [])].sort());
      expect(d['@timestamp']).toBe(iso(r.end_time));
      expect(d.ecs.version).toMatch(/^8\.\d+\.\d+$/);
      expect(d.event).toMatchObject({
        kind: 'event', category: ['network'], type: ['connection', r.action === 'allow' ? 'allowed' : 'denied'], action: r.action,
        outcome: r.action === 'allow' ? 'success' : 'failure', start: iso(r.start_time), end: iso(r.end_time), duration: (r.end_time - r.start_time) * 1e9, id: r.id,
      });
      expect(d.host.name).toBe(r.host);

      // Process: a path gives executable + name, comm gives name only, placeholders give neither; pid only when numeric.
      const isPath = r.process_name.startsWith('/');
      const isComm = !isPath && r.process_name !== '-' && r.process_name !== '*';
      expect(d.process?.executable).toBe(isPath ? r.process_name : undefined);
      expect(d.process?.name).toBe(isPath ? baseName(r.process_name) : isComm ? r.process_name : undefined);
      expect(d.process?.pid).toBe(/^\d+$/.test(r.process_id) ? Number(r.process_id) : undefined);
      if (r.process_args.length === 1 && (isPath || isComm)) {
        const argv = [r.process_name, ...r.process_args[0]];
        expect(d.process.args).toEqual(argv);
        expect(d.process.args_count).toBe(argv.length);
        expect(d.process.command_line).toBe(argv.join(' '));
      } else {
        expect(d.process?.args).toBeUndefined();
        expect(d.process?.command_line).toBeUndefined();
      }

      // Bytes: source.bytes are those the source sent — the reporting end's *_out when it is the source.
      const src = r.reporter === 'src';
      expect(d.source).toEqual({
        ...(r.source_ip !== null ? { ip: r.source_ip, address: r.source_ip } : {}), ...(r.source_port !== null ? { port: r.source_port } : {}),
        bytes: src ? r.bytes_out : r.bytes_in, packets: src ? r.packets_out : r.packets_in,
      });
      expect(d.destination).toEqual({
        ...(r.dest_ip !== null ? { ip: r.dest_ip, address: r.dest_ip } : {}), ...(r.dest_port !== null ? { port: r.dest_port } : {}),
        bytes: src ? r.bytes_in : r.bytes_out, packets: src ? r.packets_in : r.packets_out,
      });
      expect(d.network).toMatchObject({ transport: r.proto, direction: src ? 'egress' : 'ingress', bytes: r.bytes_in + r.bytes_out, packets: r.packets_in + r.packets_out });
      expect(d.network.iana_number).toBe(r.proto === 'udp' ? '17' : '6');
      const ip = r.source_ip ?? r.dest_ip;
      expect(d.network.type).toBe(ip === null ? undefined : ip.includes(':') ? 'ipv6' : 'ipv4');

      // The rest keeps its flow log names under procflow.*; placeholder labels/policies are left out (object mapping).
      expect(d.procflow.process_name).toBe(r.process_name);
      expect(d.procflow.process_id).toBe(r.process_id);
      expect(d.procflow.process_args).toEqual(joined(r));
      expect(d.procflow.reporter).toBe(r.reporter);
      expect(d.procflow.num_process_ids).toBe(r.num_process_ids);
      expect(d.procflow.dest_service_name).toBe(r.dest_service_name);
      for (const k of ['source_labels', 'dest_labels', 'policies'] as const) expect(d.procflow[k]).toEqual(typeof r[k] === 'string' ? undefined : r[k]);
      expect(d.procflow.tcp_mean_smooth_rtt).toBe(r.tcp_mean_smooth_rtt);

      // builtin:enrich-process's fields: the parent as process.parent, the container as container.id, all raw under procflow.*.
      const parentIsPath = e.parent?.startsWith('/') ?? false;
      const parentName = parentIsPath ? baseName(e.parent!) : e.parent && e.parent !== '-' ? e.parent : undefined;
      const ppid = e.ppid && /^\d+$/.test(e.ppid) ? Number(e.ppid) : undefined;
      expect(d.process?.parent).toEqual(parentName || ppid !== undefined ? { ...(parentIsPath ? { executable: e.parent } : {}), ...(parentName ? { name: parentName } : {}), ...(ppid !== undefined ? { pid: ppid } : {}) } : undefined);
      expect(d.container?.id).toBe(e.container && e.container !== '-' ? e.container : undefined);
      for (const k of ['process_parent_name', 'process_parent_id', 'process_cgroup', 'container_id']) expect(d.procflow[k]).toBe((r as unknown as Record<string, unknown>)[k]);
    });
  });

  it('writes @timestamp / event.start as RFC 3339 UTC on leap days, century and far-future dates', async () => {
    const times = [0, 951782400, 951868799, 1709164800, 4102444799, 253402300799];
    const out = await runFormat('ecs', times.map((t, i) => flow(i, { start_time: t, end_time: t })));
    times.forEach((t, i) => {
      const d = JSON.parse(out.items[i]);
      expect(d['@timestamp']).toBe(iso(t));
      expect(d.event.start).toBe(iso(t));
    });
  });
});

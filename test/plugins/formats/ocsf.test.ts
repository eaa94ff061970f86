/**
 * ocsf: OCSF 1.1.0 Network Activity (class 4001) events, expectations derived
 * from the input record and the OCSF definitions (docs/formats.md#ocsf).
 */
import { describe, expect, it } from 'vitest';
import { baseName, enrichment, FORMAT_FIXTURES, joined, PACKAGE_VERSION, runFormat } from './fixtures.js';

describe('ocsf', () => {
  it('maps every fixture record onto a Network Activity: Traffic event with its required attributes', async () => {
    const out = await runFormat('ocsf', FORMAT_FIXTURES);
    expect(out.contentType).toBe('application/json');
    FORMAT_FIXTURES.forEach((r, i) => {
      const e = JSON.parse(out.items[i]);
      // Required by the class and the base event.
      for (const k of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id', 'metadata', 'src_endpoint', 'dst_endpoint']) expect(e, k).toHaveProperty(k);
      expect(e).toMatchObject({ class_uid: 4001, category_uid: 4, activity_id: 6, activity_name: 'Traffic', severity_id: 1, severity: 'Informational' });
      expect(e.type_uid).toBe(e.class_uid * 100 + e.activity_id);
      expect(e.time).toBe(r.end_time * 1000);
      expect(e.start_time).toBe(r.start_time * 1000);
      expect(e.end_time).toBe(r.end_time * 1000);
      expect(e.duration).toBe((r.end_time - r.start_time) * 1000);
      expect(e.count).toBe(r.num_flows);
      const allow = r.action === 'allow';
      expect(e).toMatchObject({ status_id: allow ? 1 : 2, action_id: allow ? 1 : 2, action: allow ? 'Allowed' : 'Denied', disposition_id: allow ? 1 : 2, disposition: allow ? 'Allowed' : 'Blocked' });
      expect(e.metadata).toMatchObject({ version: '1.1.0', uid: r.id, profiles: ['host', 'security_control'], product: { name: 'procflow', vendor_name: 'procflow', version: PACKAGE_VERSION } });
      expect(e.device.hostname).toBe(r.host);

      expect(e.src_endpoint.ip).toBe(r.source_ip ?? undefined);
      expect(e.src_endpoint.port).toBe(r.source_port ?? undefined);
      expect(e.dst_endpoint.ip).toBe(r.dest_ip ?? undefined);
      expect(e.dst_endpoint.port).toBe(r.dest_port ?? undefined);
      expect(e.src_endpoint.name).toBe(r.source_name !== '-' ? r.source_name : r.source_name_aggr);
      expect(e.dst_endpoint.name).toBe(r.dest_name !== '-' ? r.dest_name : r.dest_name_aggr);

      const src = r.reporter === 'src';
      expect(e.connection_info).toMatchObject({ protocol_name: r.proto, protocol_num: r.proto === 'udp' ? 17 : 6, direction_id: src ? 2 : 1, direction: src ? 'Outbound' : 'Inbound' });
      // traffic.*_out: from src_endpoint to dst_endpoint; the flow log's *_out are the reporting end's.
      expect(e.traffic).toEqual({
        bytes_out: src ? r.bytes_out : r.bytes_in, bytes_in: src ? r.bytes_in : r.bytes_out,
        packets_out: src ? r.packets_out : r.packets_in, packets_in: src ? r.packets_in : r.packets_out,
        bytes: r.bytes_in + r.bytes_out, packets: r.packets_in + r.packets_out,
      });

      const isPath = r.process_name.startsWith('/');
      const known = isPath || (r.process_name !== '-' && r.process_name !== '*');
      const pid = /^\d+$/.test(r.process_id) ? Number(r.process_id) : undefined;
      if (!known && pid === undefined) expect(e.actor).toBeUndefined();
      else {
        expect(e.actor.process.name).toBe(isPath ? baseName(r.process_name) : known ? r.process_name : undefined);
        expect(e.actor.process.pid).toBe(pid);
        expect(e.actor.process.file).toEqual(isPath ? { name: baseName(r.process_name), path: r.process_name, type_id: 1, type: 'Regular File' } : undefined);
        expect(e.actor.process.cmd_line).toBe(r.process_args.length === 1 ? [r.process_name, ...r.process_args[0]].join(' ') : undefined);
        // builtin:enrich-process's fields: parent_process and container.uid.
        const x = enrichment(r);
        const parentIsPath = x.parent?.startsWith('/') ?? false;
        const parentName = parentIsPath ? baseName(x.parent!) : x.parent && x.parent !== '-' ? x.parent : undefined;
        const ppid = x.ppid && /^\d+$/.test(x.ppid) ? Number(x.ppid) : undefined;
        expect(e.actor.process.parent_process).toEqual(parentName || ppid !== undefined ? {
          ...(parentName ? { name: parentName } : {}), ...(ppid !== undefined ? { pid: ppid } : {}),
          ...(parentIsPath ? { file: { name: parentName, path: x.parent, type_id: 1, type: 'Regular File' } } : {}),
        } : undefined);
        expect(e.actor.process.container?.uid).toBe(x.container && x.container !== '-' ? x.container : undefined);
      }
      expect(e.unmapped.process_cgroup).toBe(enrichment(r).cgroup);

      // Everything else under unmapped, with flow log names and values.
      expect(e.unmapped).toMatchObject({ reporter: r.reporter, source_labels: r.source_labels, dest_labels: r.dest_labels, policies: r.policies, process_name: r.process_name, process_id: r.process_id, process_args: joined(r) });
      expect(e.unmapped.tcp_total_retransmissions).toBe(r.tcp_total_retransmissions);
    });
  });
});

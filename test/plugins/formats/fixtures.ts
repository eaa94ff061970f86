/**
 * Flow records for the format tests: every shape a formatter must handle —
 * placeholders (`-`, `*`), aggregated-away addresses (null), labels and
 * policies as maps, tcp_* present and absent, IPv6, UDP, both reporters,
 * deny, comm instead of a path, several argument lists, and arguments with
 * unicode, `\xNN` escapes, quotes, `=`, `|`, backslashes and line breaks.
 */
import { readFileSync } from 'node:fs';
import type { FlowRecord } from '../../../host/flows/record.js';
import { PluginChain, type StageCounters } from '../../../host/plugins/chain.js';
import { testLog } from '../../helpers/logger.js';
import { CACHE_DIR, entry, flow } from '../helpers.js';

const TCP = {
  tcp_mean_send_congestion_window: 10, tcp_min_send_congestion_window: 7, tcp_mean_smooth_rtt: 152, tcp_max_smooth_rtt: 390,
  tcp_mean_min_rtt: 41, tcp_max_min_rtt: 60, tcp_mean_mss: 1448, tcp_min_mss: 1448, tcp_total_retransmissions: 2, tcp_lost_packets: 1, tcp_unrecovered_to: 0,
};

/** What builtin:enrich-process adds for a process in a docker container. */
export const ENRICHED = {
  process_parent_name: '/usr/bin/bash', process_parent_id: '4242',
  process_cgroup: `/system.slice/docker-${'ab'.repeat(32)}.scope`, container_id: 'ab'.repeat(32),
};

/** The fixture records, in golden-file order. */
export const FORMAT_FIXTURES: FlowRecord[] = [
  // 0: a plain outbound TCP flow with tcp stats.
  flow(0, { process_args: [['-h', 'db.internal', '-U', 'app']], num_process_args: 1, ...TCP }),
  // 1: the accepting end (reporter dst), IPv6, labels and policies as maps, one pid.
  flow(1, {
    reporter: 'dst', source_ip: 'fd00::1', dest_ip: 'fd00::2', dest_port: 443, proto: 'tcp',
    process_name: '/usr/sbin/nginx', process_id: '812', process_args: [['-g', 'daemon off;']], num_process_args: 1,
    source_labels: { app: 'web', 'k8s.io/name': 'front "end"' }, dest_labels: { tier: 'edge' },
    policies: { all_policies: ['0|default|default.allow-web|allow|0'], enforced_policies: ['0|default|default.allow-web|allow|0'], pending_policies: [] },
    source_type: 'hep', dest_type: 'hep', source_name_aggr: 'node-1', dest_name_aggr: 'node-1',
  }),
  // 2: aggregated: several executables (`*`), addresses and source port merged away, no args.
  flow(2, {
    source_ip: null, source_port: null, process_name: '*', process_id: '*', process_args: [],
    num_process_names: 3, num_process_ids: 5, num_process_args: 0, source_name_aggr: 'pvt', dest_name_aggr: 'pub', dest_ip: null,
  }),
  // 3: process info unknown (`-`), UDP, deny.
  flow(3, { proto: 'udp', action: 'deny', dest_port: 53, process_name: '-', process_id: '-', process_args: [], num_process_args: 0, bytes_in: 0, packets_in: 0 }),
  // 4: several pids of one executable (`*`), several argument lists with awkward characters.
  flow(4, {
    process_name: '/opt/ünï cödé/bin/tool|x', process_id: '*', num_process_ids: 2,
    process_args: [['--name=a=b', 'pipe|and\\back', 'line\nbreak\r\nand\rcr'], ['💥', '"quoted"', '\\xff\\xfe raw', '\u0001ctl\ttab']], num_process_args: 2,
  }),
  // 5: comm only (no path), a kernel-ish name, big counters (above 2^32), zero-length args list.
  flow(5, { process_name: 'kworker/0:1', process_id: '15', process_args: [[]], num_process_args: 1, bytes_in: 6_000_000_000, bytes_out: 4_294_967_296, start_time: 951782400, end_time: 951782415 }),
  // 6: the seed's default record shape with a secret-looking argument (formatters do not redact) and tcp stats absent.
  flow(6, { reporter: 'dst', action: 'allow', dest_service_name: 'postgres', dest_service_namespace: 'db', dest_service_port: '5432', source_namespace: 'team-a', dest_name: 'pg-0', dest_namespace: 'db' }),
  // 7: with the fields builtin:enrich-process adds: parent path and pid, cgroup, container id.
  Object.assign(flow(7, { process_args: [['-s', 'https://example.com/']], process_name: '/usr/bin/curl', num_process_args: 1 }), ENRICHED),
  // 8: enrich-process fields unknown (`-`), parent known by comm only.
  Object.assign(flow(8), { process_parent_name: 'runc:[2:INIT]', process_parent_id: '-', process_cgroup: '-', container_id: '-' }),
];

/** What a formatter produced for a batch: items as UTF-8 text, and their content type. */
export interface Formatted {
  items: string[];
  contentType: string;
  /** The chain's counters for the formatter (failures must stay 0). */
  stats: StageCounters;
}

/**
 * Runs `records` through a real PluginChain whose only entry is the built-in formatter `name`.
 * The call deadline is raised from 250 ms to 10 s: these tests check output, and a 1000-flow
 * batch on a loaded shared machine can pass 250 ms (the fallback would then hide the plugin).
 */
export async function runFormat(name: string, records: FlowRecord[], config?: Record<string, string>): Promise<Formatted> {
  const chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry(`builtin/${name}`, { timeoutMs: 10_000, ...(config ? { config } : {}) })] }, { log: testLog });
  try {
    const out = await chain.process(records);
    return { items: out.items.map((b) => Buffer.from(b).toString('utf8')), contentType: out.contentType, stats: chain.stats()[name] };
  } finally {
    await chain.close();
  }
}

/** procflow's version, as package.json says (formats that carry it must agree). */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The flows.log form of the argument lists: one space-joined string per list. */
export const joined = (r: FlowRecord): string[] => r.process_args.map((a) => a.join(' '));

/** `/usr/bin/psql` → `psql`. */
export const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** The enrich-process fields of a record, when it has them. */
export function enrichment(r: FlowRecord): { parent?: string; ppid?: string; cgroup?: string; container?: string } {
  const x = r as unknown as Record<string, string | undefined>;
  return { parent: x.process_parent_name, ppid: x.process_parent_id, cgroup: x.process_cgroup, container: x.container_id };
}

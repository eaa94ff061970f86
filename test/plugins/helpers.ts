/** Shared test helpers: fixture plugins built from source (cached by content hash) and flow batches. */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.js';
import type { FlowRecord } from '../../host/flows/record.js';
import { buildPlugin, type BuiltPlugin } from '../../host/plugins/build.js';
import type { PluginEntry } from '../../host/plugins/config.js';

const built = new Map<string, Promise<BuiltPlugin>>();

/** Builds (or takes from the cache) a plugin under plugins/, e.g. `fixtures/trap` or `builtin/redact-args`. */
export function plugin(rel: string): Promise<BuiltPlugin> {
  let p = built.get(rel);
  if (!p) built.set(rel, (p = buildPlugin(join(PROJECT_ROOT, 'plugins', rel))));
  return p;
}

/** A chain entry for a built plugin, pinned. */
export async function entry(rel: string, extra: Partial<PluginEntry> = {}): Promise<PluginEntry> {
  const b = await plugin(rel);
  return { name: b.manifest.name, stage: b.manifest.world, path: b.wasm, sha256: b.sha256, ...extra };
}

/** A flow record with schema placeholders; `over` sets fields. */
export function flow(i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: `flow-${i}`, start_time: 1700000000, end_time: 1700000300, host: 'node-1', action: 'allow', reporter: 'src', proto: 'tcp',
    source_ip: '10.0.0.1', source_port: 40000 + i, source_name: '-', source_name_aggr: 'pvt', source_namespace: '-', source_type: 'net', source_labels: '-',
    dest_ip: '10.0.0.2', dest_port: 5432, dest_name: '-', dest_name_aggr: 'pvt', dest_namespace: '-', dest_type: 'net', dest_labels: '-',
    dest_service_name: '-', dest_service_namespace: '-', dest_service_port: '-', policies: '-',
    bytes_in: 1234 + i, bytes_out: 5678, packets_in: 10, packets_out: 12, num_flows: 1, num_flows_started: 1, num_flows_completed: 0,
    process_name: '/usr/bin/psql', process_id: String(1000 + i),
    process_args: [['-h', 'db.internal', '--password=hunter2', '-U', 'app'], ['postgres://app:s3cret@db/x']],
    num_process_names: 1, num_process_ids: 1, num_process_args: 2,
    ...over,
  };
}

/** `n` flows. */
export function flows(n: number, over: (i: number) => Partial<FlowRecord> = () => ({})): FlowRecord[] {
  return Array.from({ length: n }, (_, i) => flow(i, over(i)));
}

/** A private transpile cache per test run. */
export const CACHE_DIR = join(PROJECT_ROOT, '.cache', 'plugins', 'transpiled-test');

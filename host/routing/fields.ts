/**
 * What the router knows about record fields: which exist, which hold IP
 * addresses, numbers or a fixed set of words — so a route whose match can
 * never hit its key is refused at config time.
 */

/** Fields holding an IP address (or null when aggregated away). */
export const IP_FIELDS: ReadonlySet<string> = new Set(['source_ip', 'dest_ip']);

/** Fields holding numbers (matched by their decimal text). */
export const NUMBER_FIELDS: ReadonlySet<string> = new Set([
  'start_time', 'end_time', 'source_port', 'dest_port', 'bytes_in', 'bytes_out', 'packets_in', 'packets_out',
  'num_flows', 'num_flows_started', 'num_flows_completed', 'num_process_names', 'num_process_ids', 'num_process_args',
]);

/** Fields with a fixed set of values. */
export const ENUM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  action: ['allow', 'deny'],
  reporter: ['src', 'dst'],
  source_type: ['wep', 'hep', 'ns', 'net'],
  dest_type: ['wep', 'hep', 'ns', 'net'],
};

/** Every field a flow record has before plugins (host/flows/record.ts), usable as a tenant key. */
export const RECORD_FIELDS: readonly string[] = [
  'id', 'host', 'proto', 'source_name', 'source_name_aggr', 'source_namespace', 'source_labels',
  'dest_name', 'dest_name_aggr', 'dest_namespace', 'dest_labels', 'dest_service_name', 'dest_service_namespace', 'dest_service_port',
  'process_name', 'process_id', ...IP_FIELDS, ...NUMBER_FIELDS, ...Object.keys(ENUM_FIELDS),
];

/** The text a record's field is matched as: strings as they are, numbers in decimal; anything else (absent, null, objects) matches nothing. */
export function keyText(record: object, field: string): string | undefined {
  const v = (record as Record<string, unknown>)[field];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/**
 * RFC 5424 messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`
 * with TIMESTAMP the record's end_time, MSGID `flow`, the record id in
 * structured data `[procflow@32473 id="…"]` (32473: the example enterprise
 * number of RFC 5612), and MSG, UTF-8 with its BOM, either the flows.log
 * JSON document (plus id) or a CEF event. Over TCP and TLS each message is
 * framed by octet counting (`LEN SP MSG`, RFC 6587 / RFC 5425).
 */
import type { FlowRecord } from '../../flows/record.js';
import { flowLogJson } from '../common/flow-log-json.js';
import { itemText } from '../common/items.js';
import { FACILITIES, SEVERITIES, type SyslogSinkConfig } from './config.js';

const BOM = '\uFEFF';

/** An SD-PARAM value: `"`, `\` and `]` escaped (RFC 5424 6.3.3). */
function sdValue(s: string): string {
  return s.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII, no spaces, at most `max` characters; `-` when empty. */
function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** A CEF extension value: `\`, `=` escaped, line breaks as \n (CEF spec). */
function cefValue(v: unknown): string {
  return String(v).replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n|\r/g, '\\n');
}

/** A CEF event for a record: the process goes to sproc/spid (reporter src) or dproc/dpid (reporter dst). */
export function cef(r: FlowRecord): string {
  const side = r.reporter === 'src' ? 's' : 'd';
  const ext: [string, unknown][] = [
    ['rt', r.end_time * 1000], ['start', r.start_time * 1000], ['end', r.end_time * 1000],
    ['dvchost', r.host], ['act', r.action], ['proto', r.proto.toUpperCase()],
    ['src', r.source_ip ?? ''], ['spt', r.source_port ?? ''], ['dst', r.dest_ip ?? ''], ['dpt', r.dest_port ?? ''],
    ['in', r.bytes_in], ['out', r.bytes_out], ['cnt', r.num_flows],
    [`${side}proc`, r.process_name], [`${side}pid`, r.process_id],
    ['cs1Label', 'process_args'], ['cs1', JSON.stringify(r.process_args.map((a) => a.join(' ')))],
    ['cs2Label', 'reporter'], ['cs2', r.reporter],
    ['cs3Label', 'source_name_aggr'], ['cs3', r.source_name_aggr], ['cs4Label', 'dest_name_aggr'], ['cs4', r.dest_name_aggr],
    ['externalId', r.id],
  ];
  const body = ext.filter(([, v]) => v !== '').map(([k, v]) => `${k}=${cefValue(v)}`).join(' ');
  return `CEF:0|procflow|procflow|0.1.0|flow|Network flow with process|1|${body}`;
}

/** Encodes records as RFC 5424 messages (framed for TCP/TLS). */
export class SyslogEncoder {
  private readonly pri: number;
  private readonly fixed: string;

  constructor(private readonly c: Pick<SyslogSinkConfig, 'facility' | 'severity' | 'appName' | 'hostname' | 'format' | 'transport'>) {
    this.pri = FACILITIES[c.facility] * 8 + SEVERITIES[c.severity];
    this.fixed = `${headerField(c.hostname, 255)} ${headerField(c.appName, 48)} ${process.pid} flow`;
  }

  /** The message without framing; MSG is `body` when given (a formatter's item), else the configured format. */
  message(r: FlowRecord, body?: string): string {
    const ts = new Date(r.end_time * 1000).toISOString();
    const msg = body ?? (this.c.format === 'json' ? flowLogJson(r, `,"id":${JSON.stringify(r.id)}`) : cef(r));
    return `<${this.pri}>1 ${ts} ${this.fixed} [procflow@32473 id="${sdValue(r.id)}"] ${BOM}${msg}`;
  }

  encode(r: FlowRecord): Buffer {
    return this.framed(Buffer.from(this.message(r)));
  }

  /** A formatter's item (e.g. a CEF event) as the MSG of the record's message. */
  encodeItem(r: FlowRecord, item: Uint8Array): Buffer {
    return this.framed(Buffer.from(this.message(r, itemText(item))));
  }

  private framed(msg: Buffer): Buffer {
    return this.c.transport === 'udp' ? msg : Buffer.concat([Buffer.from(`${msg.length} `), msg]);
  }
}

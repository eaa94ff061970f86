/** The stdout sink's service: flows.log lines on standard output. */
import type { FlowRecord } from '../../flows/record.js';
import { line } from '../common/items.js';
import { encodeFlowLogLine } from '../file/encoder.js';
import { DELIVERED, type DeliveryReport, type SinkItem, type SinkService } from '../sink.js';

/** Writes one JSON record per line on standard output (or another stream, in tests). */
export class StdoutService implements SinkService {
  readonly name = 'stdout';

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  encode(record: FlowRecord): Buffer {
    return encodeFlowLogLine(record);
  }

  /** A formatter's item, one per line. */
  frame(item: Uint8Array): Buffer {
    return line(item);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    if (items.length === 0) return DELIVERED;
    const buf = Buffer.concat(items.map((i) => i.data));
    await new Promise<void>((resolve, reject) => this.out.write(buf, (err) => (err ? reject(err) : resolve())));
    return DELIVERED;
  }

  async close(): Promise<void> {}
}

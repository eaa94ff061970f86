import { renderFlowLog, type FlowRecord } from '../flows/record.js';
import type { Sink } from './sink.js';

/** Writes one JSON record per line on standard output. */
export class StdoutSink implements Sink {
  readonly name = 'stdout';

  async write(records: readonly FlowRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((r) => JSON.stringify(renderFlowLog(r))).join('\n');
    await new Promise<void>((resolve, reject) => process.stdout.write(`${text}\n`, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {}
}

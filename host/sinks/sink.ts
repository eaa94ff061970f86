import type { FlowRecord } from '../flows/record.js';

/** Where flow records go. Sinks own their framing and encoding. */
export interface Sink {
  /** A short name for logs and stats, e.g. "file:/var/log/flows.log". */
  readonly name: string;
  /** Writes a batch; resolves once it is handed to the destination. */
  write(records: readonly FlowRecord[]): Promise<void>;
  /** Flushes and releases the destination. */
  close(): Promise<void>;
}

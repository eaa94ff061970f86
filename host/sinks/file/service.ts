/**
 * The file sink's service: `flows.log`, one JSON record per line in the
 * schema's field names, rotated by size (PATH.1 … PATH.N, each step an atomic
 * rename), created private to the agent's user (0700 directory, 0600 files):
 * records hold process arguments.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ERRORS, ProcflowError } from '../../errors.js';
import type { FlowRecord } from '../../flows/record.js';
import { DELIVERED, type DeliveryReport, type SinkItem, type SinkService } from '../sink.js';
import type { FileSinkConfig } from './config.js';
import { encodeFlowLogLine } from './encoder.js';
import { line } from '../common/items.js';

/** Writes items (flows.log lines) to a rotated file. */
export class FileService implements SinkService {
  readonly name: string;
  private fd: number;
  private size: number;
  private readonly maxBytes: number;

  constructor(private readonly config: FileSinkConfig) {
    this.name = `file:${config.path}`;
    this.maxBytes = config.maxFileSizeMB * 1024 * 1024;
    try {
      mkdirSync(dirname(config.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(config.path, 'a', 0o600);
    } catch (err) {
      throw new ProcflowError(ERRORS.SINK_OPEN, { path: config.path, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, { cause: err });
    }
    this.size = fstatSync(this.fd).size;
  }

  encode(record: FlowRecord): Buffer {
    return encodeFlowLogLine(record);
  }

  /** A formatter's item, one per line. */
  frame(item: Uint8Array): Buffer {
    return line(item);
  }

  async send(items: readonly SinkItem[]): Promise<DeliveryReport> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (pendingBytes > 0) writeSync(this.fd, pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
    };
    for (const { data } of items) {
      if (this.size > 0 && this.size + data.length > this.maxBytes) {
        flush();
        this.rotate();
      }
      pending.push(data);
      pendingBytes += data.length;
      this.size += data.length;
    }
    flush();
    return DELIVERED;
  }

  private rotate(): void {
    closeSync(this.fd);
    const { path, maxFiles } = this.config;
    rmSync(`${path}.${maxFiles}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) {
      try {
        renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      } catch {
        /* that generation does not exist yet */
      }
    }
    renameSync(path, `${path}.1`);
    this.fd = openSync(path, 'a', 0o600);
    this.size = 0;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

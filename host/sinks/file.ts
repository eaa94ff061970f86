/**
 * The file sink: `flows.log`, one JSON record per line in the schema's field
 * names, rotated by size (PATH.1 … PATH.N, renamed atomically), created
 * private to the agent's user (0700 directory, 0600 files): records hold
 * process arguments.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FileSinkConfig } from '../config/settings.js';
import { ERRORS, ProcflowError } from '../errors.js';
import { renderFlowLog, type FlowRecord } from '../flows/record.js';
import type { Sink } from './sink.js';

/** Writes flow records to a rotated JSON-lines file. */
export class FileSink implements Sink {
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

  async write(records: readonly FlowRecord[]): Promise<void> {
    for (const r of records) {
      const line = Buffer.from(`${JSON.stringify(renderFlowLog(r))}\n`);
      if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += line.length;
    }
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
    if (maxFiles >= 1) renameSync(path, `${path}.1`);
    else rmSync(path, { force: true });
    this.fd = openSync(path, 'a', 0o600);
    this.size = 0;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

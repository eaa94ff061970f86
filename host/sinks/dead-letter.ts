/**
 * The dead-letter file of a sink: records the destination refused for good
 * (e.g. an Elasticsearch mapping error), one JSON line each with the record
 * id, the reason and the item exactly as it was sent (base64 when it is not
 * text). Private (0600, directory 0700): records hold process arguments.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ERRORS, ProcflowError } from '../errors.js';
import type { RejectedItem } from './sink.js';

/** Appends refused items to a JSON-lines file. */
export class DeadLetterFile {
  private fd = -1;

  constructor(readonly path: string) {}

  /** Writes the refused items (opens the file on first use). */
  write(rejected: readonly RejectedItem[]): void {
    if (rejected.length === 0) return;
    if (this.fd < 0) {
      try {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        this.fd = openSync(this.path, 'a', 0o600);
      } catch (err) {
        throw new ProcflowError(ERRORS.SINK_OPEN, { path: this.path, reason: (err as NodeJS.ErrnoException).code ?? String(err) }, { cause: err });
      }
    }
    const lines = rejected.map(({ item, reason }) => {
      const text = item.data.toString('utf8');
      const isText = Buffer.from(text, 'utf8').equals(item.data) && !text.includes('\0');
      return JSON.stringify(isText ? { id: item.id, reason, item: text } : { id: item.id, reason, itemBase64: item.data.toString('base64') });
    });
    writeSync(this.fd, `${lines.join('\n')}\n`);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The file sink: byte-identical flows.log lines, rotation by size and count, private files. */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFlowLog } from '../../host/flows/record.js';
import { createSink } from '../../host/sinks/index.js';
import { flowRecords } from '../helpers/flow-records.js';
import { testLog } from '../helpers/logger.js';

describe('file sink', () => {
  it('writes records byte-identical to the flows.log rendering (JSON.stringify(renderFlowLog(r)) + newline)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'procflow-file-')), 'logs');
    const path = join(dir, 'flows.log');
    const sink = createSink({ type: 'file', path, maxFileSizeMB: 100, maxFiles: 5 }, 0, { dataDir: dir, log: testLog });
    const recs = flowRecords(50, 'bytes');
    await sink.write(recs);
    await sink.close();
    expect(readFileSync(path)).toEqual(Buffer.from(recs.map((r) => `${JSON.stringify(renderFlowLog(r))}\n`).join('')));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('rotates by size into PATH.1 … PATH.N, keeping maxFiles, never splitting a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procflow-file-'));
    const path = join(dir, 'flows.log');
    const sink = createSink({ type: 'file', path, maxFileSizeMB: 1, maxFiles: 2 }, 0, { dataDir: dir, log: testLog });
    const recs = flowRecords(4000, 'rot'); // ~3.6 MB
    await sink.write(recs);
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['flows.log', 'flows.log.1', 'flows.log.2']);
    const kept = [`${path}.2`, `${path}.1`, path].map((p) => readFileSync(p, 'utf8'));
    for (const text of kept) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024 * 1024);
      expect(text.endsWith('\n')).toBe(true);
    }
    const lines = kept.join('').trim().split('\n');
    const all = recs.map((r) => JSON.stringify(renderFlowLog(r)));
    expect(lines).toEqual(all.slice(all.length - lines.length)); // the newest records, in order
    for (const p of [path, `${path}.1`, `${path}.2`]) expect(statSync(p).mode & 0o777).toBe(0o600);
  });
});

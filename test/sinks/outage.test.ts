/**
 * Nothing lost: the sink process is killed -9 during an outage, started again
 * (more records), the destination comes back, the process is killed -9 again
 * in the middle of delivery and started a third time: the set of ids received
 * equals the set of ids sent (resends overwrite by _id: at-least-once, no
 * loss, nothing foreign).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/flow-records.js';
import { stablePort } from '../helpers/ports.js';
import { startEsServer, type EsTestServer } from '../servers/elasticsearch.js';

const AGENT = new URL('../fixtures/spool-agent.mjs', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts the sink process; `lines` collects what it prints. */
function startAgent(dataDir: string, sink: object, prefix: string, count: number) {
  const child = spawn(process.execPath, [AGENT, dataDir, JSON.stringify(sink), prefix, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
  return { child, lines, exited };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('outage and restart (kill -9)', () => {
  let es: EsTestServer | undefined;
  afterAll(() => es?.close());

  it('delivers every record sent, across two kill -9 and an outage, comparing id sets', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'procflow-outage-'));
    const port = await stablePort(); // nothing listens there during the outage; outside the ephemeral range, nothing else takes it
    const sink = { type: 'elasticsearch', url: `http://127.0.0.1:${port}`, name: 'es', batchMaxRecords: 500, retryInitial: '20ms', retryMax: '200ms', timeout: '2s' };

    // 1. Outage: the destination is down; records are accepted into the spool; kill -9.
    const a = startAgent(dataDir, sink, 'a', 4000);
    await waitFor(() => a.lines.includes('done'), 'run 1 to accept its 4000 records');
    a.child.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');

    // 2. Restart with more records, still during the outage; then the destination comes back.
    const b = startAgent(dataDir, sink, 'b', 3000);
    await waitFor(() => b.lines.includes('done'), 'run 2 to accept its 3000 records');
    es = await startEsServer({ port });
    await waitFor(() => es!.docs.size >= 1000, 'delivery to start once the destination is back');

    // 3. Kill -9 in the middle of delivery; a third run finishes it.
    b.child.kill('SIGKILL');
    await b.exited;
    const c = startAgent(dataDir, sink, 'c', 0);
    const sent = new Set([...ids('a', 4000), ...ids('b', 3000)]);
    await waitFor(() => es!.docs.size >= sent.size, 'every record sent to arrive', 60_000);
    await waitFor(() => c.lines.some((l) => l.startsWith('metrics') && JSON.parse(l.slice(8)).queued === 0), 'the spool to be empty');

    const received = es.ids();
    expect([...sent].filter((id) => !received.has(id))).toEqual([]); // nothing lost
    expect([...received].filter((id) => !sent.has(id))).toEqual([]); // nothing foreign
    expect(es.itemsReceived).toBeGreaterThanOrEqual(sent.size); // resends allowed (at-least-once), overwritten by _id
    c.child.kill('SIGKILL');
  });
});

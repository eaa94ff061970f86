/**
 * A redactor written with the TypeScript SDK (plugins/fixtures/ts-redactor),
 * built with componentize-js and run through the chain: the SDK's
 * change detection inside StarlingMonkey, and a sustained run on the
 * redaction corpora (fresh secrets per flow) at the memory a componentize-js
 * plugin needs (docs/plugins.md: memoryMiB 256).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../host/flows/record.js';
import { PluginChain } from '../../host/plugins/chain.js';
import { testLog } from '../helpers/logger.js';
import { exeOf, expand, readCorpus } from '../redact/corpus.js';
import { CACHE_DIR, entry, flow } from './helpers.js';

// The fixture's own rules, run in Node as the reference (a computed specifier:
// plugin sources are type-checked against the SDK's tsconfig, not this one).
const FIXTURE = '../../plugins/fixtures/ts-redactor/src/index.js';
const { redact } = (await import(FIXTURE)) as { redact: (flows: FlowRecord[]) => FlowRecord[] };

let chain: PluginChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

async function open(): Promise<PluginChain> {
  chain = await PluginChain.create({ cacheDir: CACHE_DIR, chain: [await entry('fixtures/ts-redactor', { timeoutMs: 10_000, memoryMiB: 256 })] }, { log: testLog });
  return chain;
}

function corpusBatch(b: number, n: number, secrets: ReturnType<typeof readCorpus>, ordinary: ReturnType<typeof readCorpus>): FlowRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const k = b * n + i;
    const words = expand(k % 2 === 0 ? secrets[(k >> 1) % secrets.length] : ordinary[(k >> 1) % ordinary.length]).argv;
    return flow(k, { id: `c-${b}-${i}`, process_name: exeOf(words), process_args: [words.slice(1)], num_process_args: 1 });
  });
}

describe('TypeScript redactor (componentize-js)', () => {
  it('masks what its rules mask and sends back only what changed', async () => {
    const c = await open();
    const input = [
      flow(0, { process_args: [['-h', 'db', '--password=hunter2'], ['postgres://app:s3cret@db/x']] }),
      flow(1, { process_name: '/usr/bin/mysql', process_args: [['-u', 'root', '-pS3cret', 'shop']] }),
      flow(2, { process_name: '/opt/agent', process_args: [['--token', 'ghp_x', '--token-file=/run/t', '--verbose']] }),
      flow(3, { process_name: '/usr/bin/ls', process_args: [['-la', '/tmp']] }),
      flow(4, { process_name: '-', process_id: '-', process_args: [] }),
    ];
    const out = await c.process(input);
    expect(out.flows.map((f) => f.process_args)).toEqual([
      [['-h', 'db', '--password=[REDACTED]'], ['postgres://app:[REDACTED]@db/x']],
      [['-u', 'root', '-p[REDACTED]', 'shop']],
      [['--token', '[REDACTED]', '--token-file=/run/t', '--verbose']],
      [['-la', '/tmp']],
      [],
    ]);
    // Flows the plugin left alone are the very objects that went in (the host merged nothing into them).
    expect(out.flows[3]).toBe(input[3]);
    expect(out.flows[4]).toBe(input[4]);
    expect(c.stats()['ts-redactor'].failures).toMatchObject({ trap: 0, memory: 0, error: 0, malformed: 0 });
  });

  it('runs 40 corpus batches of 1000 flows without a failure, each equal to its rules run in Node', async () => {
    const c = await open();
    const secrets = readCorpus('secrets');
    const ordinary = readCorpus('ordinary');
    let changed = 0;
    for (let b = 0; b < 40; b++) {
      const input = corpusBatch(b, 1000, secrets, ordinary);
      const expected = redact(structuredClone(input));
      const out = await c.process(input);
      expect(out.flows.map((f) => f.process_args)).toEqual(expected.map((f) => f.process_args));
      changed += out.flows.filter((f, i) => f !== input[i]).length;
    }
    expect(changed).toBeGreaterThan(40 * 100); // the secrets corpus is half the flows
    const s = c.stats()['ts-redactor'];
    expect(s.failures).toMatchObject({ trap: 0, memory: 0, error: 0, malformed: 0, timeout: 0, crash: 0 });
    expect(s.flowsOut).toBe(40_000);
    expect(c.poolStats().instantiations).toBe(1);
  }, 120_000);
});

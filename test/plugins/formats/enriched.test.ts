/**
 * builtin:enrich-process followed by a format in one real chain: the parent
 * process and the container the enricher adds land in each format's own
 * fields (ECS process.parent / container.id, OCSF actor.process.parent_process
 * / container.uid, OTLP process.parent_pid / container.id).
 */
import { describe, expect, it } from 'vitest';
import { PluginChain, type ProcessInfo } from '../../../host/plugins/chain.js';
import { testLog } from '../../helpers/logger.js';
import { CACHE_DIR, entry, flow } from '../helpers.js';

const ID = 'cd'.repeat(32);
const PROCS: ProcessInfo[] = [
  { pid: 900, ppid: 1, name: '/usr/bin/containerd-shim-runc-v2', args: [] },
  { pid: 1000, ppid: 900, name: '/usr/bin/psql', args: ['-h', 'db'], cgroup: `/system.slice/docker-${ID}.scope`, uid: 0 },
];

async function run(format: string): Promise<Record<string, unknown>> {
  const byPid = new Map(PROCS.map((p) => [p.pid, p]));
  const chain = await PluginChain.create(
    { cacheDir: CACHE_DIR, chain: [await entry('builtin/enrich-process'), await entry(`builtin/${format}`)] },
    { log: testLog, lookup: { get: (pid) => byPid.get(pid) } },
  );
  try {
    const out = await chain.process([flow(0, { process_id: '1000' })]);
    expect(out.items).toHaveLength(1);
    return JSON.parse(Buffer.from(out.items[0]).toString('utf8'));
  } finally {
    await chain.close();
  }
}

describe('enrich-process then a format', () => {
  it('ecs: process.parent and container.id', async () => {
    const d = (await run('ecs')) as { process: { parent: unknown }; container: unknown };
    expect(d.process.parent).toEqual({ executable: '/usr/bin/containerd-shim-runc-v2', name: 'containerd-shim-runc-v2', pid: 900 });
    expect(d.container).toEqual({ id: ID });
  });

  it('ocsf: actor.process.parent_process and container.uid', async () => {
    const e = (await run('ocsf')) as { actor: { process: { parent_process: { pid: number; file: { path: string } }; container: unknown } } };
    expect(e.actor.process.parent_process.pid).toBe(900);
    expect(e.actor.process.parent_process.file.path).toBe('/usr/bin/containerd-shim-runc-v2');
    expect(e.actor.process.container).toEqual({ uid: ID });
  });

  it('otlp-json: process.parent_pid and container.id', async () => {
    const lr = (await run('otlp-json')) as { attributes: { key: string; value: Record<string, string> }[] };
    const a = Object.fromEntries(lr.attributes.map((x) => [x.key, x.value]));
    expect(a['process.parent_pid']).toEqual({ intValue: '900' });
    expect(a['container.id']).toEqual({ stringValue: ID });
    expect(a['procflow.process_cgroup']).toEqual({ stringValue: `/system.slice/docker-${ID}.scope` });
  });
});

/**
 * builtin:enrich-process through the real PluginChain, with a ProcessLookup
 * standing in for the agent's process cache: parent path and pid, cgroup
 * path, and the container id parsed from the cgroup path of every runtime's
 * layout (fixtures below).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PluginChain, type ProcessInfo } from '../../host/plugins/chain.js';
import { testLog } from '../helpers/logger.js';
import { CACHE_DIR, entry, flow } from './helpers.js';

const hex = () => randomBytes(32).toString('hex');
const [A, B, C, D, E, F, G, H, I] = Array.from({ length: 9 }, hex);

/** cgroup v2 path → the container id the plugin must report (`-`: none). */
const CGROUPS: [string, string][] = [
  [`/system.slice/docker-${A}.scope`, A], // docker, systemd cgroup driver
  [`/docker/${B}`, B], // docker, cgroupfs driver
  [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0d8b6c1e_5f1a_4b9e_9c3e_7a2f1e0b3c4d.slice/cri-containerd-${C}.scope`, C],
  [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f2e.slice/crio-${D}.scope`, D],
  [`/machine.slice/libpod-${E}.scope/container`, E], // podman with its inner cgroup
  [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${F}.scope`, F], // rootless podman
  [`/kubepods/burstable/pod0a1b2c3d-0000-4000-8000-000000000001/${G}`, G], // kubelet, cgroupfs driver
  [`/docker/${H}/docker/${I}`, I], // nested: the innermost container
  [`/system.slice/crio-conmon-${D}.scope`, '-'], // cri-o's monitor, not the container
  [`/machine.slice/libpod-conmon-${E}.scope`, '-'],
  ['/user.slice/user-1000.slice/session-3.scope', '-'],
  ['/system.slice/sshd.service', '-'],
  ['/', '-'],
  [`/system.slice/docker-${A.slice(1)}.scope`, '-'], // 63 hex digits
  [`/system.slice/docker-${A.toUpperCase()}.scope`, '-'], // ids are lowercase hex
  [`/docker/${A}x`, '-'],
];

let chain: PluginChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

async function open(procs: ProcessInfo[], lookups?: boolean): Promise<PluginChain> {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  chain = await PluginChain.create(
    { cacheDir: CACHE_DIR, chain: [await entry('builtin/enrich-process', lookups === undefined ? {} : { lookups })] },
    { log: testLog, lookup: { get: (pid) => byPid.get(pid) } },
  );
  return chain;
}

const fields = (f: object) => {
  const r = f as Record<string, unknown>;
  return { parent: r.process_parent_name, ppid: r.process_parent_id, cgroup: r.process_cgroup, container: r.container_id };
};

describe('builtin:enrich-process', () => {
  it('reports the container id of each runtime layout, and `-` for cgroups that are no container', async () => {
    const procs: ProcessInfo[] = [{ pid: 1, ppid: 0, name: '/sbin/init', args: [] }];
    CGROUPS.forEach(([cgroup], i) => procs.push({ pid: 100 + i, ppid: 1, name: '/usr/bin/curl', args: ['-s'], cgroup, uid: 1000 }));
    const c = await open(procs);
    const out = await c.process(CGROUPS.map((_, i) => flow(i, { process_id: String(100 + i) })));
    expect(out.flows.map((f) => fields(f).container)).toEqual(CGROUPS.map(([, id]) => id));
    expect(out.flows.map((f) => fields(f).cgroup)).toEqual(CGROUPS.map(([cg]) => cg));
    expect(fields(out.flows[0])).toEqual({ parent: '/sbin/init', ppid: '1', cgroup: CGROUPS[0][0], container: A });
    expect(c.stats()['enrich-process']).toMatchObject({ flowsIn: CGROUPS.length, flowsOut: CGROUPS.length, flowsPassedThrough: 0 });
  });

  it('writes `-` for what is unknown: no single pid, a pid the host does not know, no parent, an unknown cgroup', async () => {
    const c = await open([
      { pid: 7, ppid: 1, name: '/bin/bash', args: ['-l'], cgroup: `/system.slice/docker-${A}.scope` },
      { pid: 42, ppid: 7, name: '/usr/bin/psql', args: [] }, // cgroup unknown (no cgroup2 mount, or not resolved)
      { pid: 43, ppid: 999, name: '/usr/bin/psql', args: [], cgroup: '' }, // parent not in the cache
      { pid: 44, ppid: 0, name: '/usr/bin/psql', args: [], cgroup: '/' }, // no parent
    ]);
    const ids = ['42', '43', '44', '*', '-', '31337'];
    const out = await c.process(ids.map((process_id, i) => flow(i, { process_id })));
    expect(out.flows.map(fields)).toEqual([
      { parent: '/bin/bash', ppid: '7', cgroup: '-', container: '-' },
      { parent: '-', ppid: '999', cgroup: '-', container: '-' },
      { parent: '-', ppid: '-', cgroup: '/', container: '-' },
      ...Array(3).fill({ parent: '-', ppid: '-', cgroup: '-', container: '-' }),
    ]);
    expect(out.flows.map((f) => f.process_name)).toEqual(ids.map(() => '/usr/bin/psql')); // other fields untouched
  });

  it('(SDK) decodes every field of option<process> and of each list<process> element, cgroup and uid included', async () => {
    const byPid = new Map<number, ProcessInfo>([
      [30, { pid: 30, ppid: 20, name: '/usr/bin/curl', args: ['-s', 'http://x'], cgroup: `/docker/${B}`, uid: 1000 }],
      [20, { pid: 20, ppid: 10, name: '/bin/bash', args: [], cgroup: '/user.slice/session-2.scope', uid: 1001 }],
      [10, { pid: 10, ppid: 0, name: '/usr/sbin/sshd', args: ['-D'], uid: 0 }],
    ]);
    chain = await PluginChain.create(
      { cacheDir: CACHE_DIR, chain: [await entry('fixtures/as-lookups')] },
      { log: testLog, lookup: { get: (pid) => byPid.get(pid) } },
    );
    const out = await chain.process([flow(0, { process_id: '30' }), flow(1, { process_id: '77' })]);
    const r = out.flows.map((f) => f as unknown as Record<string, string>);
    expect(r[0].lookup_chain).toBe(`30,20,/usr/bin/curl,-s http://x,/docker/${B},1000;20,10,/bin/bash,,/user.slice/session-2.scope,1001;10,0,/usr/sbin/sshd,-D,,0`);
    expect(r[0].lookup_one).toBe(`/usr/bin/curl,/docker/${B},1000`);
    expect([r[1].lookup_chain, r[1].lookup_one]).toEqual(['', 'none']);
  });

  it('gets no lookups when its entry says lookups: false, and says so with `-`', async () => {
    const c = await open([{ pid: 42, ppid: 1, name: '/usr/bin/psql', args: [], cgroup: `/docker/${B}` }], false);
    const out = await c.process([flow(0, { process_id: '42' })]);
    expect(fields(out.flows[0])).toEqual({ parent: '-', ppid: '-', cgroup: '-', container: '-' });
  });
});

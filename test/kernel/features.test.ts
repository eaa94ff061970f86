/** Parsers of /proc and /sys text, on fixtures. */
import { describe, expect, it } from 'vitest';
import {
  HOST_PID_NS_INODE, kernelAtLeast, missingCaps, parseCapEff, parseKernelVersion, parseMounts, parsePidNsLink,
} from '../../host/kernel/features.js';

describe('kernel feature parsers', () => {
  it('reads capabilities from CapEff', () => {
    const root = parseCapEff('Name:\tx\nCapEff:\t000001ffffffffff\n');
    expect(missingCaps(root)).toEqual([]);
    const bpfOnly = parseCapEff(`CapEff:\t${(1n << 39n).toString(16).padStart(16, '0')}\n`);
    expect([...bpfOnly]).toEqual(['CAP_BPF']);
    expect(missingCaps(bpfOnly)).toEqual(['CAP_PERFMON', 'CAP_NET_ADMIN']);
    expect(missingCaps(parseCapEff('CapEff:\t0000000000000000\n'))).toEqual(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN']);
  });
  it('parses kernel versions and compares them', () => {
    expect(parseKernelVersion('6.18.44-fc-v782')).toEqual([6, 18, 44]);
    expect(parseKernelVersion('5.4.0-150-generic')).toEqual([5, 4, 0]);
    expect(kernelAtLeast([5, 17, 0], '5.17')).toBe(true);
    expect(kernelAtLeast([5, 16, 9], '5.17')).toBe(false);
    expect(kernelAtLeast([6, 1, 0], '5.17')).toBe(true);
  });
  it('finds mounts by type', () => {
    const m = parseMounts('cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\nnodev /sys/kernel/tracing tracefs rw 0 0\n');
    expect(m.get('cgroup2')).toEqual(['/sys/fs/cgroup/unified']);
    expect(m.get('tracefs')).toEqual(['/sys/kernel/tracing']);
  });
  it('recognises the host PID namespace', () => {
    expect(parsePidNsLink(`pid:[${HOST_PID_NS_INODE}]`)).toBe(4026531836);
    expect(parsePidNsLink('pid:[4026532512]')).toBe(4026532512);
    expect(parsePidNsLink('garbage')).toBeUndefined();
  });
});

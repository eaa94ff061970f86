/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common.bpf.h — kernel-side declarations shared by every procflow BPF file.
 * Maps and settings are defined once in maps.bpf.c and linked with
 * `bpftool gen object`; every other file sees them through these externs.
 */
#ifndef PROCFLOW_COMMON_BPF_H
#define PROCFLOW_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "procflow.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif
#ifndef IPPROTO_UDP
#define IPPROTO_UDP 17
#endif

/* ---- settings: `const volatile`, written by the loader before load ---- */

/* Total argv bytes kept per exec (<= PF_ARGS_MAX); elements are kept whole. */
extern const volatile __u32 pf_args_cap;
/* Events of this tgid (the agent itself) are not reported; 0 = report all. */
extern const volatile __u32 pf_ignore_tgid;
/* UDP: re-report a peer's cumulative counters at most this often. */
extern const volatile __u64 pf_udp_report_ns;

/* ---- maps ---- */

/* The ring buffer every record goes through; size set by the loader. */
extern struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} pf_events SEC(".maps");

/* Per-CPU seen/dropped counters, indexed by enum pf_hook. */
extern struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PF_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct pf_counter);
} pf_counters SEC(".maps");

/* Per-CPU scratch space to build a variable-length exec record. */
#define PF_SCRATCH_SIZE (sizeof(struct pf_exec) + PF_PATH_MAX + PF_ARGS_MAX + 512)
struct pf_scratch {
	__u8 buf[PF_SCRATCH_SIZE];
};
extern struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pf_scratch);
} pf_scratch_map SEC(".maps");

/* Who owns a socket: recorded where the owner runs (connect / accept). */
struct pf_owner {
	__u32 pid;
	__u32 tid;
	__u64 start_ns;
	__u32 uid;
	__u32 _pad0;
	char comm[PF_COMM_LEN];
};

/* Socket cookie -> owner. Written at connect/accept, removed at close. */
extern struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct pf_owner);
} pf_sk_owner SEC(".maps");

/* ---- helpers ---- */

static __always_inline void pf_count(__u32 hook, int dropped)
{
	struct pf_counter *c = bpf_map_lookup_elem(&pf_counters, &hook);

	if (!c)
		return;
	if (dropped)
		c->dropped++;
	else
		c->seen++;
}

/* start_boottime of the thread group leader, in ns (same clock as /proc stat field 22). */
static __always_inline __u64 pf_task_start_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* Fill an owner record from the current task. */
static __always_inline void pf_owner_current(struct pf_owner *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	o->pid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->start_ns = pf_task_start_ns(task);
	o->_pad0 = 0;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline int pf_ignored_current(void)
{
	return pf_ignore_tgid && (bpf_get_current_pid_tgid() >> 32) == pf_ignore_tgid;
}

#endif /* PROCFLOW_COMMON_BPF_H */

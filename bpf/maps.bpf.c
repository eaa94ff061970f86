// SPDX-License-Identifier: Apache-2.0
/* maps.bpf.c — the single definition of every map and setting (see common.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "procflow.h"

#define PF_SCRATCH_SIZE (sizeof(struct pf_exec) + PF_PATH_MAX + PF_ARGS_MAX + 512)

const volatile __u32 pf_args_cap = PF_ARGS_CAP_DEFAULT;
const volatile __u32 pf_ignore_tgid = 0;
const volatile __u64 pf_udp_report_ns = 1000000000ULL;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} pf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PF_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct pf_counter);
} pf_counters SEC(".maps");

struct pf_scratch {
	__u8 buf[PF_SCRATCH_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pf_scratch);
} pf_scratch_map SEC(".maps");

struct pf_owner {
	__u32 pid;
	__u32 tid;
	__u64 start_ns;
	__u32 uid;
	__u32 _pad0;
	char comm[PF_COMM_LEN];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct pf_owner);
} pf_sk_owner SEC(".maps");

/* Keep the record types in the object's BTF so the layout test can read them. */
struct pf_exec pf_btf_exec __attribute__((unused));
struct pf_exit pf_btf_exit __attribute__((unused));
struct pf_sock pf_btf_sock __attribute__((unused));
struct pf_counter pf_btf_counter __attribute__((unused));

char LICENSE[] SEC("license") = "Dual BSD/GPL";

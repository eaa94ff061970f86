// SPDX-License-Identifier: Apache-2.0
/*
 * ringbench.bpf.c — TEST-ONLY synthetic producer for bench/ring-decode.ts.
 *
 * Attached to tp/syscalls/sys_enter_getppid and filtered to one tgid (the
 * bench producer), each getppid() call writes rb_per_call records with
 * bpf_loop into this object's OWN ring buffer (rb_events), in one of two
 * shapes that follow the record contract of bpf/procflow.h:
 *
 *   rb_shape 0  small: struct pf_sock (136 B), type PF_EV_TCP_STATS, built
 *               with bpf_ringbuf_reserve + submit like the socket hooks;
 *   rb_shape 1  exec-sized: struct pf_exec + path + NUL-separated argv
 *               (the producer's own argv, ~1 KiB), built once per call in a
 *               per-CPU scratch and copied with bpf_ringbuf_output like the
 *               exec hook.
 *
 * Kernel-side counters (per CPU, map rb_stats): records written, records
 * dropped (reserve/output failed: ring full), syscalls seen.
 * Never part of the agent's object: built by bench/bpf/Makefile only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "procflow.h"

#define RB_PATH_MAX 256   /* power of two: path_len is masked with it */
#define RB_ARGS_MAX 2048

/* Settings, written into .rodata by the bench before load. */
const volatile __u32 rb_tgid = 0;      /* only this process triggers records */
const volatile __u32 rb_shape = 0;     /* 0 small, 1 exec-sized */
const volatile __u32 rb_per_call = 64; /* records per getppid() */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb_events SEC(".maps");

enum rb_stat { RB_PRODUCED = 0, RB_DROPPED = 1, RB_CALLS = 2, RB_STATS_MAX = 3 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RB_STATS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rb_stats SEC(".maps");

struct rb_scratch {
	__u8 buf[sizeof(struct pf_exec) + RB_PATH_MAX + RB_ARGS_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rb_scratch);
} rb_scratch_map SEC(".maps");

/* State shared by the bpf_loop callbacks of one syscall. */
struct rb_loop {
	__u64 seq;
	__u64 start_ns;
	__u64 produced;
	__u64 dropped;
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 size; /* exec shape: bytes per record */
	char comm[PF_COMM_LEN];
};

static long rb_emit_small(__u32 i, void *data)
{
	struct rb_loop *l = data;
	struct pf_sock *e = bpf_ringbuf_reserve(&rb_events, sizeof(*e), 0);

	if (!e) {
		l->dropped++;
		return 0;
	}
	e->hdr.type = PF_EV_TCP_STATS;
	e->hdr.hook = PF_HOOK_ITER_TCP;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->cookie = l->seq + i;
	e->pid = l->pid;
	e->tid = l->tid;
	e->start_ns = l->start_ns;
	e->uid = l->uid;
	e->family = 2 /* AF_INET */;
	e->proto = 6;
	e->dir = PF_DIR_ACTIVE;
	__builtin_memset(e->laddr, 0, sizeof(e->laddr));
	__builtin_memset(e->raddr, 0, sizeof(e->raddr));
	e->laddr[0] = 127;
	e->laddr[3] = 1;
	e->raddr[0] = 127;
	e->raddr[3] = 1;
	e->lport = 40000 + (i & 0xfff);
	e->rport = 8080;
	e->fd = 0;
	e->bytes_out = (l->seq + i) * 64;
	e->bytes_in = (l->seq + i) * 64;
	e->segs_out = l->seq + i;
	e->segs_in = l->seq + i;
	__builtin_memcpy(e->comm, l->comm, PF_COMM_LEN);
	bpf_ringbuf_submit(e, 0);
	l->produced++;
	return 0;
}

static long rb_emit_exec(__u32 i, void *data)
{
	struct rb_loop *l = data;
	__u32 zero = 0;
	struct rb_scratch *s = bpf_map_lookup_elem(&rb_scratch_map, &zero);
	__u32 size = l->size;

	if (!s || size > sizeof(s->buf) || size < sizeof(struct pf_exec))
		return 1;
	((struct pf_exec *)s->buf)->hdr.ts_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&rb_events, s->buf, size, 0))
		l->dropped++;
	else
		l->produced++;
	return 0;
}

/* Builds the exec-shaped template in the per-CPU scratch; returns its size or 0. */
static __always_inline __u32 rb_build_exec(struct rb_loop *l)
{
	__u32 zero = 0;
	struct rb_scratch *s = bpf_map_lookup_elem(&rb_scratch_map, &zero);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pf_exec *e;
	__u64 arg_start, arg_end, args_len;
	long n;
	__u32 path_len;

	if (!s)
		return 0;
	e = (struct pf_exec *)s->buf;
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	/* path: argv[0] (the producer is started by absolute path), without its NUL */
	n = bpf_probe_read_user_str(s->buf + sizeof(*e), RB_PATH_MAX, (void *)arg_start);
	path_len = n > 1 ? (__u32)(n - 1) & (RB_PATH_MAX - 1) : 0;
	args_len = arg_end - arg_start;
	if (args_len > RB_ARGS_MAX)
		args_len = RB_ARGS_MAX;
	if (bpf_probe_read_user(s->buf + sizeof(*e) + path_len, args_len, (void *)arg_start))
		args_len = 0;
	e->hdr.type = PF_EV_EXEC;
	e->hdr.hook = PF_HOOK_EXEC;
	e->hdr.size = PF_EXEC_SIZE(path_len, args_len);
	e->pid = l->pid;
	e->tid = l->tid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = l->uid;
	e->start_ns = l->start_ns;
	e->parent_start_ns = BPF_CORE_READ(task, real_parent, start_boottime);
	e->path_len = path_len;
	e->args_len = args_len;
	e->argc = 0; /* not counted here: the decoder splits on NULs */
	e->flags = 0;
	__builtin_memcpy(e->comm, l->comm, PF_COMM_LEN);
	return e->hdr.size;
}

static __always_inline void rb_add(__u32 key, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&rb_stats, &key);

	if (c)
		*c += v;
}

SEC("tp/syscalls/sys_enter_getppid")
int ringbench(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct rb_loop l = {};

	if ((pid_tgid >> 32) != rb_tgid)
		return 0;
	l.pid = pid_tgid >> 32;
	l.tid = (__u32)pid_tgid;
	l.uid = (__u32)bpf_get_current_uid_gid();
	l.start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	l.seq = bpf_ktime_get_ns();
	bpf_get_current_comm(l.comm, sizeof(l.comm));
	if (rb_shape == 1) {
		l.size = rb_build_exec(&l);
		if (l.size)
			bpf_loop(rb_per_call, rb_emit_exec, &l, 0);
	} else {
		bpf_loop(rb_per_call, rb_emit_small, &l, 0);
	}
	rb_add(RB_PRODUCED, l.produced);
	rb_add(RB_DROPPED, l.dropped);
	rb_add(RB_CALLS, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

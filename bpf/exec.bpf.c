// SPDX-License-Identifier: Apache-2.0
/*
 * exec.bpf.c — one PF_EV_EXEC record per successful exec, one PF_EV_EXIT
 * record per process exit. Each logical hook comes in several families
 * (<hook>__<family>[__<suffix>]); the loader autoloads exactly one.
 */
#include "common.bpf.h"
#include "exec.bpf.h"

/* Runs in the task that just exec'd: current->mm is the new image. */
static __always_inline int pf_exec_emit(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pf_scratch *s;
	__u32 zero = 0;
	__u64 size;

	if (pf_ignored_current())
		return 0;
	pf_count(PF_HOOK_EXEC, 0);
	s = bpf_map_lookup_elem(&pf_scratch_map, &zero);
	if (!s)
		goto drop;
	size = pf_exec_record(s, task, PF_ARGV_CURRENT, pf_args_cap, PF_EXEC_REC_MAX,
			      PF_EV_EXEC, PF_HOOK_EXEC);
	barrier_var(size);
	if (size > sizeof(*s))
		goto drop;
	if (bpf_ringbuf_output(&pf_events, s, size, 0))
		goto drop;
	return 0;
drop:
	pf_count(PF_HOOK_EXEC, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec__tp_btf)
{
	return pf_exec_emit();
}

/* The ctx's __data_loc filename is not used: copying from ctx at an offset is rejected. */
SEC("tp/sched/sched_process_exec")
int exec__tp(void *ctx)
{
	return pf_exec_emit();
}

/* After a successful execve the kretprobe fires in the new image. */
SEC("kretsyscall/execve")
int BPF_KRETPROBE(exec__kprobe__execve, long ret)
{
	return ret ? 0 : pf_exec_emit();
}

SEC("kretsyscall/execveat")
int BPF_KRETPROBE(exec__kprobe__execveat, long ret)
{
	return ret ? 0 : pf_exec_emit();
}

/*
 * @live: signal->live at which @task is the last thread of its group (0 once
 * do_exit has decremented it, 1 before).
 */
static __always_inline int pf_exit_emit(struct task_struct *task, __u32 exit_code, int live)
{
	struct pf_exit *e;

	if (BPF_CORE_READ(task, signal, live.counter) != live)
		return 0;
	if (pf_ignored_current())
		return 0;
	pf_count(PF_HOOK_EXIT, 0);
	e = bpf_ringbuf_reserve(&pf_events, sizeof(*e), 0);
	if (!e) {
		pf_count(PF_HOOK_EXIT, 1);
		return 0;
	}
	e->hdr.type = PF_EV_EXIT;
	e->hdr.hook = PF_HOOK_EXIT;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->start_ns = pf_task_start_ns(task);
	e->exit_code = exit_code;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* 6.16+ passes a second argument (group_dead); only the first is read. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit__tp_btf, struct task_struct *task)
{
	return pf_exit_emit(task, BPF_CORE_READ(task, exit_code), 0);
}

SEC("tp/sched/sched_process_exit")
int exit__tp(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return pf_exit_emit(task, BPF_CORE_READ(task, exit_code), 0);
}

SEC("kprobe/do_exit")
int BPF_KPROBE(exit__kprobe, long code)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return pf_exit_emit(task, code, 1);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * task_iter.bpf.c — snapshot of the processes already running: one PF_EV_TASK
 * record (pf_exec layout) per thread-group leader, written to the iterator's
 * seq_file. Needs no /proc, nor the host PID namespace.
 */
#include "common.bpf.h"
#include "exec.bpf.h"

/*
 * bpf_seq_write() cannot take a record larger than the iterator's buffer
 * (8 pages): argv is cut to fit.
 */
#define PF_ITER_REC_MAX (PF_EXEC_REC_MAX < 32768 ? PF_EXEC_REC_MAX : 32768)

/*
 * Own scratch: this program sleeps in bpf_copy_from_user_task, and an exec
 * hook running meanwhile on the same CPU would overwrite pf_scratch_map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pf_scratch);
} pf_iter_scratch SEC(".maps");

SEC("iter.s/task")
int iter_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct pf_scratch *s;
	__u32 zero = 0;
	__u64 size;

	if (!task || task->pid != task->tgid)
		return 0;
	if (pf_ignore_tgid && task->tgid == pf_ignore_tgid)
		return 0;
	s = bpf_map_lookup_elem(&pf_iter_scratch, &zero);
	if (!s) {
		pf_count(PF_HOOK_ITER_TASK, 1);
		return 0;
	}
	size = pf_exec_record(s, task, PF_ARGV_TASK, pf_args_cap, PF_ITER_REC_MAX,
			      PF_EV_TASK, PF_HOOK_ITER_TASK);
	barrier_var(size);
	if (size > PF_ITER_REC_MAX)
		return 0;
	/* on overflow the kernel flushes and runs us again for this task: count once */
	if (!bpf_seq_write(seq, s, size))
		pf_count(PF_HOOK_ITER_TASK, 0);
	return 0;
}

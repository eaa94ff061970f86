/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec.bpf.h — builds the struct pf_exec record (fixed part + path + argv) of
 * a task in a scratch buffer. Shared by the exec hooks and the task iterator.
 */
#ifndef PROCFLOW_EXEC_BPF_H
#define PROCFLOW_EXEC_BPF_H

#include "common.bpf.h"
#include "path.bpf.h"
#include "argv.bpf.h"

/* Largest record the scratch can hold, with 8 spare bytes for the padding store. */
#define PF_EXEC_REC_MAX ((PF_SCRATCH_SIZE - 8) & ~7UL)

_Static_assert(PF_PATH_CHAIN_OFF >= PF_PATH_OFF + PF_PATH_MAX, "path chain overlaps the path");
_Static_assert(PF_ARGV_ROOM > 0, "scratch too small for argv");

/*
 * Fill @s with @task's record and return its size (a multiple of 8, at most
 * @rec_max when @rec_max is a multiple of 8). @cap bounds the argv bytes.
 */
static __always_inline __u64 pf_exec_record(struct pf_scratch *s, struct task_struct *task,
					    enum pf_argv_src src, __u32 cap, __u32 rec_max,
					    __u16 type, __u16 hook)
{
	struct pf_exec *e = (void *)s->buf;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	__u32 flags = 0, argc = 0, room;
	/* 64-bit: a u32 bound check is done on a zero-extended copy that 6.1 does not link back */
	__u64 path_len = 0, args_len = 0, end;

	e->hdr.type = type;
	e->hdr.hook = hook;
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->start_ns = pf_task_start_ns(task);
	e->parent_start_ns = pf_task_start_ns(parent);
	/* at exec the task is current (helper since 4.18); an iterated task is not: read its default-hierarchy cgroup */
	if (src == PF_ARGV_CURRENT)
		e->cgroup_id = bpf_get_current_cgroup_id();
	else
		e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/* the kernel keeps comm NUL-padded: copy all of it, no stale bytes */
	BPF_CORE_READ_INTO(&e->comm, task, comm);

	if (mm) {
		path_len = pf_path_resolve(s, BPF_CORE_READ(mm, exe_file), task, &flags);
		room = rec_max - PF_PATH_OFF - path_len;
		if (cap > room)
			cap = room;
		args_len = pf_argv_read(s, PF_PATH_OFF + path_len, mm, task, src, cap, &argc, &flags);
	} else {
		flags |= PF_EXEC_NO_MM;
	}
	/* clang can prove these clamps redundant, older verifiers (6.1) cannot */
	barrier_var(path_len);
	if (path_len > PF_PATH_MAX)
		path_len = PF_PATH_MAX;
	barrier_var(args_len);
	if (args_len > PF_ARGV_ROOM)
		args_len = PF_ARGV_ROOM;
	e->path_len = path_len;
	e->args_len = args_len;
	e->argc = argc;
	e->flags = flags;

	/* zero the alignment padding: the scratch holds older records */
	end = PF_PATH_OFF + path_len + args_len;
	if (end <= PF_SCRATCH_SIZE - 8)
		*(__u64 *)(s->buf + end) = 0;
	e->hdr.size = PF_EXEC_SIZE(path_len, args_len);
	return PF_EXEC_SIZE(path_len, args_len);
}

#endif /* PROCFLOW_EXEC_BPF_H */

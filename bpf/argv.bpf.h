/* SPDX-License-Identifier: Apache-2.0 */
/*
 * argv.bpf.h — copy a process's argument area (mm->arg_start..arg_end) into a
 * scratch record, keeping whole elements only.
 *
 * The area is read in one go, then scanned a word at a time for NULs: this
 * works the same with bpf_probe_read_user (current task) and with
 * bpf_copy_from_user_task (any task, sleepable programs), which has no _str
 * variant.
 */
#ifndef PROCFLOW_ARGV_BPF_H
#define PROCFLOW_ARGV_BPF_H

#include "common.bpf.h"
#include "path.bpf.h"

enum pf_argv_src {
	PF_ARGV_CURRENT, /* the current task's mm: any program */
	PF_ARGV_TASK,    /* another task's mm: sleepable programs only */
};

/* Highest offset the argv tail may start at: right after a full path. */
#define PF_ARGV_OFF_MAX (PF_PATH_OFF + PF_PATH_MAX)
/*
 * Argv bytes the verifier can prove fit the scratch whatever the path length
 * (8 spare bytes for the word scan and the padding).
 */
#define PF_ARGV_ROOM (PF_SCRATCH_SIZE - 8 - PF_ARGV_OFF_MAX)

struct pf_argv_scan {
	struct pf_scratch *s;
	__u32 off;
	__u32 n;
	__u32 argc;
	__u32 end; /* one past the last NUL seen */
};

#define PF_LO7 0x7f7f7f7f7f7f7f7fULL

static long pf_argv_scan_word(__u32 i, void *ctx)
{
	struct pf_argv_scan *sc = ctx;
	__u32 at = i * 8, idx = sc->off + at, k = 0;
	__u64 v, z;

	if (at >= sc->n || idx > PF_SCRATCH_SIZE - 8)
		return 1;
	/* x86: unaligned loads are fine, the verifier does not ask for alignment */
	v = *(__u64 *)(sc->s->buf + idx);
	/* 0x80 in exactly the bytes that are zero */
	z = ~(((v & PF_LO7) + PF_LO7) | v | PF_LO7);
	if (sc->n - at < 8)
		z &= (1ULL << ((sc->n - at) * 8)) - 1;
	if (!z)
		return 0;
	sc->argc += ((z >> 7) * 0x0101010101010101ULL) >> 56;
	if (z >> 32) {
		k += 4;
		z >>= 32;
	}
	if (z >> 16) {
		k += 2;
		z >>= 16;
	}
	if (z >> 8)
		k += 1;
	sc->end = at + k + 1;
	return 0;
}

/*
 * Copy @mm's argv to @s->buf + @off, at most @cap bytes, and return its length.
 * An element that does not fit in @cap is dropped with all that follow it and
 * PF_EXEC_ARGS_TRUNCATED is set; *argc gets the number of elements kept.
 */
static __always_inline __u32 pf_argv_read(struct pf_scratch *s, __u64 off, struct mm_struct *mm,
					  struct task_struct *task, enum pf_argv_src src, __u32 cap,
					  __u32 *argc, __u32 *flags)
{
	struct pf_argv_scan sc = {};
	unsigned long start, end;
	__u64 n;
	long err;

	*argc = 0;
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start)
		return 0;
	if (cap > PF_ARGS_MAX)
		cap = PF_ARGS_MAX;
	if (cap > PF_ARGV_ROOM)
		cap = PF_ARGV_ROOM;
	n = end - start > cap ? cap : end - start;
	if (n < end - start)
		*flags |= PF_EXEC_ARGS_TRUNCATED;
	/* constant bounds again: 6.1 learns nothing from comparing two variables */
	barrier_var(n);
	if (n > PF_ARGV_ROOM)
		n = PF_ARGV_ROOM;
	barrier_var(off);
	if (!n || off > PF_ARGV_OFF_MAX)
		return 0;
	if (src == PF_ARGV_TASK)
		err = bpf_copy_from_user_task(s->buf + off, n, (void *)start, task, 0);
	else
		err = bpf_probe_read_user(s->buf + off, n, (void *)start);
	if (err) {
		*flags |= PF_EXEC_ARGS_TRUNCATED;
		return 0;
	}
	sc.s = s;
	sc.off = off;
	sc.n = n;
	bpf_loop((n + 7) / 8, pf_argv_scan_word, &sc, 0);
	/* bytes after the last NUL: a cut element (or a rewritten title) */
	if (sc.end < n)
		*flags |= PF_EXEC_ARGS_TRUNCATED;
	*argc = sc.argc;
	return sc.end > n ? n : sc.end;
}

#endif /* PROCFLOW_ARGV_BPF_H */

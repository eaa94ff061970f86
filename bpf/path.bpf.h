/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path.bpf.h — absolute name of a struct path, without bpf_d_path (which needs
 * fentry/LSM). Walks dentries up to the task's root, crossing mounts, then
 * writes the names top-down at PF_PATH_OFF of a scratch record.
 */
#ifndef PROCFLOW_PATH_BPF_H
#define PROCFLOW_PATH_BPF_H

#include "common.bpf.h"

/* The path tail starts right after the fixed part of the exec record. */
#define PF_PATH_OFF sizeof(struct pf_exec)
#define PF_NAME_MAX 255

struct pf_path_comp {
	const unsigned char *name;
	__u32 len;
	__u32 _pad0;
};

/*
 * Components are parked at the far end of the scratch buffer: the path never
 * reaches there, and argv may overwrite them once the path is written.
 */
#define PF_PATH_CHAIN_OFF \
	(PF_SCRATCH_SIZE - PF_PATH_DEPTH_MAX * sizeof(struct pf_path_comp))
/* Mount crossings use iterations too. */
#define PF_PATH_LOOPS (PF_PATH_DEPTH_MAX + 64)

struct pf_path_walk {
	struct pf_scratch *s;
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct mount *root_mnt;
	__u32 depth;
	__u32 total; /* bytes of "/name" for every component */
	__u32 skip;  /* bytes to leave out at the top when too long */
	__u32 pos;
	__u32 done;
};

static __always_inline struct mount *pf_real_mount(struct vfsmount *vmnt)
{
	/* container_of() with a relocatable offset */
	return vmnt ? (void *)vmnt - bpf_core_field_offset(struct mount, mnt) : NULL;
}

static long pf_path_up(__u32 i, void *ctx)
{
	struct pf_path_walk *w = ctx;
	struct dentry *d = w->dentry, *parent, *mnt_root;
	struct mount *mnt = w->mnt, *mnt_parent;
	struct pf_path_comp *c;
	__u32 depth = w->depth, len;

	if (!d || !mnt)
		return 1;
	if (d == w->root_dentry && mnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
	if (d == mnt_root) {
		mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (mnt_parent == mnt) {
			w->done = 1; /* top of the mount tree */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		return 0;
	}
	if (depth >= PF_PATH_DEPTH_MAX)
		return 1;
	parent = BPF_CORE_READ(d, d_parent);
	/* a root that is no mount's root: memfd and other pseudo files; keep its name */
	if (d == parent)
		w->done = 1;
	c = (void *)w->s->buf + PF_PATH_CHAIN_OFF + depth * sizeof(*c);
	c->name = BPF_CORE_READ(d, d_name.name);
	len = BPF_CORE_READ(d, d_name.len);
	c->len = len;
	w->total += len + 1;
	w->depth = depth + 1;
	w->dentry = parent;
	return w->done;
}

static long pf_path_down(__u32 i, void *ctx)
{
	struct pf_path_walk *w = ctx;
	struct pf_path_comp *c;
	__u32 idx, len, pos = w->pos;

	if (i >= w->depth)
		return 1;
	idx = w->depth - 1 - i;
	if (idx >= PF_PATH_DEPTH_MAX)
		return 1;
	c = (void *)w->s->buf + PF_PATH_CHAIN_OFF + idx * sizeof(*c);
	len = c->len;
	if (w->skip) {
		w->skip = w->skip > len + 1 ? w->skip - len - 1 : 0;
		return 0;
	}
	if (len > PF_NAME_MAX || pos > PF_PATH_MAX || pos + 1 + len > PF_PATH_MAX)
		return 1;
	w->s->buf[PF_PATH_OFF + pos] = '/';
	bpf_probe_read_kernel(&w->s->buf[PF_PATH_OFF + pos + 1], len, c->name);
	w->pos = pos + 1 + len;
	return 0;
}

/*
 * Write the name of @file at PF_PATH_OFF of @s and return its length (0 when
 * there is no file). The name is as @task sees it, relative to its root (a
 * chrooted or containerised process gets its own view); a NULL @task walks to
 * the top of the mount tree. Too deep or too long paths keep their lower part
 * (the file name survives) and set PF_EXEC_PATH_TRUNCATED.
 */
static __always_inline __u32 pf_path_resolve(struct pf_scratch *s, struct file *file,
					     struct task_struct *task, __u32 *flags)
{
	struct pf_path_walk w = {};
	__u32 pos;

	if (!file)
		return 0;
	w.s = s;
	w.dentry = BPF_CORE_READ(file, f_path.dentry);
	w.mnt = pf_real_mount(BPF_CORE_READ(file, f_path.mnt));
	/* a task without fs (exiting) resolves up to the namespace root */
	w.root_dentry = BPF_CORE_READ(task, fs, root.dentry);
	w.root_mnt = pf_real_mount(BPF_CORE_READ(task, fs, root.mnt));
	bpf_loop(PF_PATH_LOOPS, pf_path_up, &w, 0);
	if (!w.done)
		*flags |= PF_EXEC_PATH_TRUNCATED;
	if (!w.depth) {
		s->buf[PF_PATH_OFF] = '/';
		return 1;
	}
	if (w.total > PF_PATH_MAX) {
		w.skip = w.total - PF_PATH_MAX;
		*flags |= PF_EXEC_PATH_TRUNCATED;
	}
	bpf_loop(w.depth, pf_path_down, &w, 0);
	pos = w.pos;
	return pos > PF_PATH_MAX ? PF_PATH_MAX : pos;
}

#endif /* PROCFLOW_PATH_BPF_H */

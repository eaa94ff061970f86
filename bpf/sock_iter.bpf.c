// SPDX-License-Identifier: Apache-2.0
/*
 * sock_iter.bpf.c — snapshots written with bpf_seq_write, read by user space:
 *  iter_tcp:       counters of every live TCP connection (PF_EV_TCP_STATS), so
 *                  long-lived connections show bytes before they close;
 *  iter_task_file: every inet TCP/UDP socket fd of every process
 *                  (PF_EV_SOCK_OWNER), to attribute sockets older than the agent.
 */
#include "common.bpf.h"
#include "sock.bpf.h"

SEC("iter/tcp")
int iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct pf_owner *o;
	struct pf_sock e;
	__u64 cookie, key;
	int state;

	if (!skc)
		return 0;
	/* NULL for time-wait and request sockets. */
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	state = BPF_CORE_READ(skc, skc_state);
	if (state == PF_TCP_LISTEN || state == PF_TCP_TIME_WAIT || state == PF_TCP_NEW_SYN_RECV)
		return 0;
	cookie = bpf_get_socket_cookie(tp);
	o = pf_owner_lookup((struct sock *)tp, cookie, &key);
	if (pf_owner_is_agent(o))
		return 0;

	__builtin_memset(&e, 0, sizeof(e));
	pf_sock_hdr(&e, PF_EV_TCP_STATS, PF_HOOK_ITER_TCP);
	e.cookie = cookie;
	e.proto = IPPROTO_TCP;
	/* Passive only if our accept hook saw it; older connections read as active. */
	e.dir = pf_tcp_dir(key);
	pf_sock_owner(&e, o);
	pf_sock_tuple(&e, (struct sock *)tp);
	pf_tcp_counters(&e, tp);
	/* On overflow the kernel replays this socket in the next read(). */
	if (!bpf_seq_write(seq, &e, sizeof(e)))
		pf_count(PF_HOOK_ITER_TCP, 0);
	return 0;
}

SEC("iter/task_file")
int iter_task_file(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct socket *sock;
	struct tcp_sock *tp;
	struct sock *sk;
	struct pf_sock e;
	__u32 tgid;
	__u8 proto;

	if (!task || !file)
		return 0;
	/* Threads share the leader's table: report it once, under the process. */
	tgid = BPF_CORE_READ(task, tgid);
	if (tgid != BPF_CORE_READ(task, pid) || (pf_ignore_tgid && tgid == pf_ignore_tgid))
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	if (pf_sk_is_inet(sk, IPPROTO_TCP))
		proto = IPPROTO_TCP;
	else if (pf_sk_is_inet(sk, IPPROTO_UDP))
		proto = IPPROTO_UDP;
	else
		return 0;

	__builtin_memset(&e, 0, sizeof(e));
	pf_sock_hdr(&e, PF_EV_SOCK_OWNER, PF_HOOK_ITER_TASK);
	e.cookie = bpf_get_socket_cookie(sk);
	e.pid = tgid;
	e.tid = tgid;
	e.start_ns = pf_task_start_ns(task);
	e.uid = BPF_CORE_READ(task, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&e.comm, task, comm);
	e.proto = proto;
	e.fd = ctx->fd;
	pf_sock_tuple(&e, sk);
	if (proto == IPPROTO_TCP) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp)
			pf_tcp_counters(&e, tp);
	}
	if (!bpf_seq_write(seq, &e, sizeof(e)))
		pf_count(PF_HOOK_ITER_TASK, 0);
	return 0;
}

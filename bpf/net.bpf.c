// SPDX-License-Identifier: Apache-2.0
/*
 * net.bpf.c — TCP connect/accept/close and UDP send/recv, each logical hook in
 * three families of self-contained programs named <hook>__<family>[__suffix]:
 * tp_btf, tp (classic tracepoint / raw_tp) and kprobe. The loader enables
 * autoload for one family per hook.
 *
 * TCP: no per-packet hook. The owner (connecting / accepting task) is stored
 * in pf_sk_owner by socket cookie where it runs; state changes that run in
 * softirq or in another task look it up instead of trusting current.
 *
 * UDP: per-datagram length hooks fold into the LRU map pf_udp_flows (one
 * entry per socket, direction and peer); an entry goes on the ring when new
 * and then at most every pf_udp_report_ns.
 *
 * The tp and kprobe families cannot call bpf_get_socket_cookie; their
 * __sk/__sockops cgroup programs make the kernel assign cookies (at socket
 * creation, at passive open) so that skc_cookie can be read afterwards.
 */
#include "common.bpf.h"
#include "sock.bpf.h"

extern int LINUX_KERNEL_VERSION __kconfig;

/*
 * The per-datagram report throttle runs on bpf_jiffies64() (a load) rather
 * than bpf_ktime_get_boot_ns() (~110 ns on the dev VM): ns per jiffy is
 * measured at run time (no Kconfig needed: a missing config file would fail
 * the whole object) and the boot-clock offset refreshed at each real read.
 */
__u64 pf_clk_t0 = 0, pf_clk_j0 = 0, pf_clk_ns_per_j = 0, pf_clk_off = 0;

/* See sock.bpf.h. */
struct pf_tcp_passive_map pf_tcp_passive SEC(".maps");

/* UDP flows; value hdr.ts_ns = last time the entry went on the ring. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pf_udp_key);
	__type(value, struct pf_sock);
} pf_udp_flows SEC(".maps");

/* Peer seen by cgroup sendmsg/recvmsg, for the length hook of the same thread. */
struct pf_udp_peer {
	__u64 cookie; /* 0 once consumed */
	__u8 addr[16];
	__u16 port;   /* host order */
	__u16 _pad0[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pf_udp_peer);
} pf_udp_peer_tid SEC(".maps");

/* kprobe family: udp_*sendmsg/recvmsg arguments from entry to return. */
struct pf_udp_call {
	__u64 sk;
	__u64 msg;
	__u32 v6;    /* set by the udpv6_* probe */
	__u32 flags; /* recvmsg flags */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pf_udp_call);
} pf_udp_call_tid SEC(".maps");

/* ===================================================================== */
/* TCP                                                                   */
/* ===================================================================== */

/* CLOSE -> SYN_SENT / tcp_connect(): runs in the connecting task. */
static __always_inline void pf_tcp_syn_sent(const struct sock *sk, __u64 cookie)
{
	/* The agent's own sockets are stored too, so that close skips them. */
	if (pf_owner_store(sk, cookie))
		pf_count(PF_HOOK_TCP_CONNECT, 1);
}

static __always_inline void pf_tcp_state(const struct sock *sk, __u64 cookie, int oldstate,
					 int newstate)
{
	if (oldstate == PF_TCP_CLOSE && newstate == PF_TCP_SYN_SENT)
		pf_tcp_syn_sent(sk, cookie);
	else if (oldstate == PF_TCP_SYN_SENT && newstate == PF_TCP_ESTABLISHED)
		pf_tcp_connected(sk, cookie);
}

/* ---- tcp_connect ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_connect__tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	if (tp)
		pf_tcp_state(sk, bpf_get_socket_cookie(tp), oldstate, newstate);
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int tcp_connect__tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (ctx->protocol == IPPROTO_TCP)
		pf_tcp_state(sk, pf_sk_cookie_raw(sk), ctx->oldstate, ctx->newstate);
	return 0;
}

/* tcp_connect() runs in the connecting task after SYN_SENT, port assigned. */
SEC("kprobe/tcp_connect")
int BPF_KPROBE(tcp_connect__kprobe, struct sock *sk)
{
	if (pf_sk_is_inet(sk, IPPROTO_TCP))
		pf_tcp_syn_sent(sk, pf_sk_cookie_raw(sk));
	return 0;
}

/*
 * ESTABLISHED through tcp_set_state rather than tcp_finish_connect: exported,
 * never inlined, and the symbol tcp_close__kprobe needs anyway. At entry
 * sk_state still holds the old state.
 */
SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_connect__kprobe__state, struct sock *sk, int state)
{
	if (state == PF_TCP_ESTABLISHED &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) == PF_TCP_SYN_SENT &&
	    pf_sk_is_inet(sk, IPPROTO_TCP))
		pf_tcp_connected(sk, pf_sk_cookie_raw(sk));
	return 0;
}

/* Cookie for every new TCP socket, so the tp/kprobe programs can read it. */
static __always_inline int pf_cookie_on_create(struct bpf_sock *ctx, __u32 proto)
{
	if (ctx->protocol == proto)
		bpf_get_socket_cookie(ctx);
	return 1; /* allow */
}

SEC("cgroup/sock_create")
int tcp_connect__tp__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_TCP);
}

SEC("cgroup/sock_create")
int tcp_connect__kprobe__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_TCP);
}

/* ---- tcp_accept ---- */

/* Accepted children are clones with a zeroed cookie: assign one at passive open. */
static __always_inline int pf_cookie_on_passive(struct bpf_sock_ops *ops)
{
	if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_get_socket_cookie(ops);
	return 1;
}

SEC("sockops")
int tcp_accept__tp__sockops(struct bpf_sock_ops *ops)
{
	return pf_cookie_on_passive(ops);
}

SEC("sockops")
int tcp_accept__kprobe__sockops(struct bpf_sock_ops *ops)
{
	return pf_cookie_on_passive(ops);
}

/* current->files->fdt->fd[fd]->private_data->sk, checked to be a socket file. */
static __always_inline struct sock *pf_fd_sock(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so || BPF_CORE_READ(so, file) != f)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

static __always_inline int pf_accept_exit(long ret)
{
	struct sock *sk;

	if (ret < 0)
		return 0;
	sk = pf_fd_sock(ret);
	if (sk && pf_sk_is_inet(sk, IPPROTO_TCP))
		pf_tcp_accepted(sk, pf_sk_cookie_raw(sk));
	return 0;
}

SEC("tp/syscalls/sys_exit_accept4")
int tcp_accept__tp(struct trace_event_raw_sys_exit *ctx)
{
	return pf_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept")
int tcp_accept__tp__accept(struct trace_event_raw_sys_exit *ctx)
{
	return pf_accept_exit(ctx->ret);
}

/* inet_csk_accept returns the child; current is the acceptor (6.1 and 6.12 alike). */
SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(tcp_accept__kprobe, struct sock *sk)
{
	if (sk && pf_sk_is_inet(sk, IPPROTO_TCP))
		pf_tcp_accepted(sk, pf_sk_cookie_raw(sk));
	return 0;
}

/* ---- tcp_close ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_close__tp_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	struct tcp_sock *tp;

	if (newstate != PF_TCP_CLOSE || oldstate == PF_TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (tp)
		pf_tcp_close(sk, bpf_get_socket_cookie(tp), oldstate);
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int tcp_close__tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (ctx->protocol != IPPROTO_TCP || ctx->newstate != PF_TCP_CLOSE ||
	    ctx->oldstate == PF_TCP_LISTEN)
		return 0;
	pf_tcp_close(sk, pf_sk_cookie_raw(sk), ctx->oldstate);
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_close__kprobe, struct sock *sk, int state)
{
	int old;

	if (state != PF_TCP_CLOSE)
		return 0;
	old = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (old != PF_TCP_LISTEN && pf_sk_is_inet(sk, IPPROTO_TCP))
		pf_tcp_close(sk, pf_sk_cookie_raw(sk), old);
	return 0;
}

/* ===================================================================== */
/* UDP                                                                   */
/* ===================================================================== */

static __always_inline void pf_udp_report(const struct pf_sock *v, __u16 hook)
{
	if (bpf_ringbuf_output(&pf_events, (void *)v, sizeof(*v), 0))
		pf_count(hook, 1);
	else
		pf_count(hook, 0);
}

static __always_inline void pf_udp_add(struct pf_sock *v, __u8 dir, __u32 len)
{
	if (dir == PF_DIR_ACTIVE) {
		__sync_fetch_and_add(&v->bytes_out, len);
		__sync_fetch_and_add(&v->segs_out, 1);
	} else {
		__sync_fetch_and_add(&v->bytes_in, len);
		__sync_fetch_and_add(&v->segs_in, 1);
	}
}

/* Boot time in ns estimated from jiffies, or 0 while uncalibrated. */
static __always_inline __u64 pf_udp_now_est(void)
{
	if (!pf_clk_ns_per_j)
		return 0;
	return bpf_jiffies64() * pf_clk_ns_per_j + pf_clk_off;
}

/*
 * Real boot time; recalibrates. The rate is taken over the whole span since
 * the first read (>= 64 jiffies), so its error shrinks with uptime; after a
 * suspend it overestimates, which only costs extra real reads.
 */
static __always_inline __u64 pf_udp_now_sync(void)
{
	__u64 now = bpf_ktime_get_boot_ns(), j = bpf_jiffies64();

	if (!pf_clk_t0) {
		pf_clk_t0 = now;
		pf_clk_j0 = j;
	} else if (j - pf_clk_j0 >= 64) {
		pf_clk_ns_per_j = (now - pf_clk_t0) / (j - pf_clk_j0);
		pf_clk_off = now - j * pf_clk_ns_per_j;
	}
	return now;
}

/* First datagram of a (socket, direction, peer): new entry, reported at once. */
static __always_inline void pf_udp_new(const struct sock *sk, const struct pf_udp_key *k,
				       __u32 len, __u16 hook)
{
	struct pf_owner o;
	struct pf_sock v;
	struct pf_sock *w;

	__builtin_memset(&v, 0, sizeof(v));
	pf_sock_hdr(&v, k->dir == PF_DIR_ACTIVE ? PF_EV_UDP_SEND : PF_EV_UDP_RECV, hook);
	v.hdr.ts_ns = pf_udp_now_sync();
	v.cookie = k->cookie;
	v.proto = IPPROTO_UDP;
	v.dir = k->dir;
	pf_owner_current(&o);
	pf_sock_owner(&v, &o);
	pf_sock_tuple(&v, sk);
	__builtin_memcpy(v.raddr, k->raddr, sizeof(v.raddr));
	v.rport = k->rport;
	pf_udp_add(&v, k->dir, len);
	if (!bpf_map_update_elem(&pf_udp_flows, k, &v, BPF_NOEXIST)) {
		pf_udp_report(&v, hook);
		return;
	}
	/* Another CPU created it first: add to that one. */
	w = bpf_map_lookup_elem(&pf_udp_flows, k);
	if (w)
		pf_udp_add(w, k->dir, len);
	else
		pf_count(hook, 1);
}

/* The per-datagram path: one lookup, atomic adds, an occasional report. */
static __always_inline void pf_udp_account(const struct sock *sk, const struct pf_udp_key *k,
					   __u32 len, __u32 tid)
{
	__u16 hook = k->dir == PF_DIR_ACTIVE ? PF_HOOK_UDP_SEND : PF_HOOK_UDP_RECV;
	struct pf_sock *v;
	struct pf_owner o;
	__u64 now;

	v = bpf_map_lookup_elem(&pf_udp_flows, k);
	if (!v) {
		pf_udp_new(sk, k, len, hook);
		return;
	}
	pf_udp_add(v, k->dir, len);
	if (v->tid != tid) {
		/* Shared socket: owner is whoever sent/received last. */
		pf_owner_current(&o);
		pf_sock_owner(v, &o);
	}
	now = pf_udp_now_est();
	if (now && now - v->hdr.ts_ns < pf_udp_report_ns)
		return;
	now = pf_udp_now_sync();
	if (now - v->hdr.ts_ns < pf_udp_report_ns)
		return;
	v->hdr.ts_ns = now;
	pf_udp_report(v, hook);
}

/*
 * Peer of a connected socket (zeros if unconnected), as the socket sees it.
 * btf (a constant): sk is a BTF pointer, read it directly — cheaper than
 * bpf_probe_read_kernel on the per-datagram path.
 */
static __always_inline void pf_udp_sk_peer(const struct sock *sk, struct pf_udp_key *k, int btf)
{
	if (btf) {
		k->rport = bpf_ntohs(sk->__sk_common.skc_dport);
		if (k->family == AF_INET6)
			__builtin_memcpy(k->raddr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
		else
			*(__u32 *)k->raddr = sk->__sk_common.skc_daddr;
		return;
	}
	k->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (k->family == AF_INET6)
		BPF_CORE_READ_INTO(&k->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	else
		BPF_CORE_READ_INTO((__u32 *)k->raddr, sk, __sk_common.skc_daddr);
}

/*
 * sock_send_length / sock_recv_length: the stashed peer of this thread wins
 * if it is for this socket (sendto / recvfrom), else the connected peer.
 * The stash is consumed even when the call failed, so it never goes stale.
 */
static __always_inline void pf_udp_length(const struct sock *sk, __u64 cookie, __u16 family,
					  int len, int flags, __u8 dir, int btf)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct pf_udp_key k = {};
	struct pf_udp_peer *p;
	int have = 0;

	p = bpf_map_lookup_elem(&pf_udp_peer_tid, &tid);
	if (p && p->cookie == cookie) {
		__builtin_memcpy(k.raddr, p->addr, sizeof(k.raddr));
		k.rport = p->port;
		p->cookie = 0;
		have = 1;
	}
	if (len <= 0 || (flags & (PF_MSG_PEEK | PF_MSG_ERRQUEUE)))
		return;
	if (pf_ignore_tgid && (pid_tgid >> 32) == pf_ignore_tgid)
		return;
	k.cookie = cookie;
	k.family = family;
	k.dir = dir;
	if (!have)
		pf_udp_sk_peer(sk, &k, btf);
	pf_udp_account(sk, &k, len, tid);
}

/* cgroup sendmsg/recvmsg: stash the peer; the socket family decides mapping. */
static __always_inline int pf_udp_stash(struct bpf_sock_addr *ctx, int v6)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pf_udp_peer *p, n = {};
	__u32 *a = (__u32 *)n.addr;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	if (v6) {
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	} else if (ctx->family == AF_INET6) {
		/* v4 destination of a dual-stack socket: keep it v4-mapped. */
		a[2] = bpf_htonl(0xffff);
		a[3] = ctx->user_ip4;
	} else {
		a[0] = ctx->user_ip4;
	}
	n.port = bpf_ntohs((__u16)ctx->user_port);
	n.cookie = bpf_get_socket_cookie(ctx);
	/* Overwrite in place when the thread has an entry: cheaper than an update. */
	p = bpf_map_lookup_elem(&pf_udp_peer_tid, &tid);
	if (p)
		*p = n;
	else
		bpf_map_update_elem(&pf_udp_peer_tid, &tid, &n, BPF_ANY);
	return 1; /* allow */
}

/* ---- udp_send / udp_recv: tp_btf family ---- */

static __always_inline int pf_udp_btf(struct sock *sk, int ret, int flags, __u8 dir)
{
	__u16 family = sk->__sk_common.skc_family;

	/* Every socket's sends pass here: filter cheaply first. */
	if (sk->sk_protocol != IPPROTO_UDP || sk->sk_type != PF_SOCK_DGRAM ||
	    (family != AF_INET && family != AF_INET6))
		return 0;
	pf_udp_length(sk, bpf_get_socket_cookie(sk), family, ret, flags, dir, 1);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(udp_send__tp_btf, struct sock *sk, int ret, int flags)
{
	return pf_udp_btf(sk, ret, 0, PF_DIR_ACTIVE);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(udp_recv__tp_btf, struct sock *sk, int ret, int flags)
{
	return pf_udp_btf(sk, ret, flags, PF_DIR_PASSIVE);
}

SEC("cgroup/sendmsg4")
int udp_send__tp_btf__cg4(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 0);
}

SEC("cgroup/sendmsg6")
int udp_send__tp_btf__cg6(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 1);
}

SEC("cgroup/recvmsg4")
int udp_recv__tp_btf__cg4(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 0);
}

SEC("cgroup/recvmsg6")
int udp_recv__tp_btf__cg6(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 1);
}

/* ---- udp_send / udp_recv: tp family (raw_tp: args are plain pointers) ---- */

static __always_inline int pf_udp_raw(const struct sock *sk, int ret, int flags, __u8 dir)
{
	if (pf_sk_is_inet(sk, IPPROTO_UDP))
		pf_udp_length(sk, pf_sk_cookie_raw(sk), BPF_CORE_READ(sk, __sk_common.skc_family),
			      ret, flags, dir, 0);
	return 0;
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(udp_send__tp, struct sock *sk, int ret, int flags)
{
	return pf_udp_raw(sk, ret, 0, PF_DIR_ACTIVE);
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(udp_recv__tp, struct sock *sk, int ret, int flags)
{
	return pf_udp_raw(sk, ret, flags, PF_DIR_PASSIVE);
}

SEC("cgroup/sendmsg4")
int udp_send__tp__cg4(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 0);
}

SEC("cgroup/sendmsg6")
int udp_send__tp__cg6(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 1);
}

SEC("cgroup/recvmsg4")
int udp_recv__tp__cg4(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 0);
}

SEC("cgroup/recvmsg6")
int udp_recv__tp__cg6(struct bpf_sock_addr *ctx)
{
	return pf_udp_stash(ctx, 1);
}

/* Connected sockets never pass cgroup sendmsg: assign their cookie at creation. */
SEC("cgroup/sock_create")
int udp_send__tp__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_UDP);
}

SEC("cgroup/sock_create")
int udp_recv__tp__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_UDP);
}

/* ---- udp_send / udp_recv: kprobe family ---- */

static __always_inline int pf_udp_enter(const struct sock *sk, const struct msghdr *msg, __u32 v6,
					__u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pf_udp_call c = {};

	/* udpv6_sendmsg hands v4(-mapped) peers to udp_sendmsg: count once, as v6. */
	if (!v6 && BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET6)
		return 0;
	if (pf_ignored_current() || !pf_sk_is_inet(sk, IPPROTO_UDP))
		return 0;
	c.sk = (__u64)(long)sk;
	c.msg = (__u64)(long)msg;
	c.v6 = v6;
	c.flags = flags;
	bpf_map_update_elem(&pf_udp_call_tid, &tid, &c, BPF_ANY);
	return 0;
}

/* msg_name (a kernel copy) -> peer in the socket's family. */
static __always_inline int pf_udp_msg_peer(const struct msghdr *msg, struct pf_udp_key *k)
{
	void *name = BPF_CORE_READ(msg, msg_name);
	struct sockaddr_in6 *s6 = name;
	struct sockaddr_in *s4 = name;
	__u16 fam;

	if (!name || bpf_core_read(&fam, sizeof(fam), &s4->sin_family))
		return 0;
	if (fam == AF_INET6) {
		BPF_CORE_READ_INTO(&k->raddr, s6, sin6_addr.in6_u.u6_addr8);
		k->rport = bpf_ntohs(BPF_CORE_READ(s6, sin6_port));
		return 1;
	}
	k->rport = bpf_ntohs(BPF_CORE_READ(s4, sin_port));
	if (k->family == AF_INET6) {
		k->raddr[10] = 0xff;
		k->raddr[11] = 0xff;
		BPF_CORE_READ_INTO((__u32 *)&k->raddr[12], s4, sin_addr.s_addr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)k->raddr, s4, sin_addr.s_addr);
	}
	return 1;
}

static __always_inline int pf_udp_exit(int ret, __u32 v6, __u8 dir)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pf_udp_key k = {};
	struct pf_udp_call *cp, c;
	const struct sock *sk;

	cp = bpf_map_lookup_elem(&pf_udp_call_tid, &tid);
	if (!cp || cp->v6 != v6)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&pf_udp_call_tid, &tid);
	if (ret <= 0 || (c.flags & (PF_MSG_PEEK | PF_MSG_ERRQUEUE)))
		return 0;
	sk = (const struct sock *)(long)c.sk;
	k.cookie = pf_sk_cookie_raw(sk);
	k.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	k.dir = dir;
	if (!pf_udp_msg_peer((const struct msghdr *)(long)c.msg, &k))
		pf_udp_sk_peer(sk, &k, 0);
	pf_udp_account(sk, &k, ret, tid);
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(udp_send__kprobe, struct sock *sk, struct msghdr *msg)
{
	return pf_udp_enter(sk, msg, 0, 0);
}

SEC("kretprobe/udp_sendmsg")
int BPF_KRETPROBE(udp_send__kprobe__ret, int ret)
{
	return pf_udp_exit(ret, 0, PF_DIR_ACTIVE);
}

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(udp_send__kprobe__v6, struct sock *sk, struct msghdr *msg)
{
	return pf_udp_enter(sk, msg, 1, 0);
}

SEC("kretprobe/udpv6_sendmsg")
int BPF_KRETPROBE(udp_send__kprobe__v6ret, int ret)
{
	return pf_udp_exit(ret, 1, PF_DIR_ACTIVE);
}

/* 5.19 dropped udp_recvmsg's noblock argument: flags moved from arg 5 to arg 4. */
static __always_inline __u32 pf_recv_flags(struct pt_regs *ctx)
{
	__u32 f4 = PT_REGS_PARM4(ctx), f5 = PT_REGS_PARM5(ctx);

	/* Both loaded at fixed offsets: a selected ctx offset is rejected. */
	barrier_var(f4);
	barrier_var(f5);
	return LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 19, 0) ? f4 : f5;
}

SEC("kprobe/udp_recvmsg")
int BPF_KPROBE(udp_recv__kprobe, struct sock *sk, struct msghdr *msg)
{
	return pf_udp_enter(sk, msg, 0, pf_recv_flags(ctx));
}

SEC("kretprobe/udp_recvmsg")
int BPF_KRETPROBE(udp_recv__kprobe__ret, int ret)
{
	return pf_udp_exit(ret, 0, PF_DIR_PASSIVE);
}

SEC("kprobe/udpv6_recvmsg")
int BPF_KPROBE(udp_recv__kprobe__v6, struct sock *sk, struct msghdr *msg)
{
	return pf_udp_enter(sk, msg, 1, pf_recv_flags(ctx));
}

SEC("kretprobe/udpv6_recvmsg")
int BPF_KRETPROBE(udp_recv__kprobe__v6ret, int ret)
{
	return pf_udp_exit(ret, 1, PF_DIR_PASSIVE);
}

SEC("cgroup/sock_create")
int udp_send__kprobe__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_UDP);
}

SEC("cgroup/sock_create")
int udp_recv__kprobe__sk(struct bpf_sock *ctx)
{
	return pf_cookie_on_create(ctx, IPPROTO_UDP);
}

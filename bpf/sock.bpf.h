/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sock.bpf.h — socket helpers shared by net.bpf.c and sock_iter.bpf.c:
 * fill a struct pf_sock (tuple, cookie, owner, TCP counters) from a struct
 * sock, and look socket owners up.
 *
 * Every read goes through BPF_CORE_READ (bpf_probe_read_kernel) so the same
 * code serves tp_btf/iter programs (BTF pointers) and tp/raw_tp/kprobe
 * programs (plain kernel addresses).
 */
#ifndef PROCFLOW_SOCK_BPF_H
#define PROCFLOW_SOCK_BPF_H

#include "common.bpf.h"

/* include/net/tcp_states.h */
#define PF_TCP_ESTABLISHED 1
#define PF_TCP_SYN_SENT 2
#define PF_TCP_SYN_RECV 3
#define PF_TCP_FIN_WAIT1 4
#define PF_TCP_FIN_WAIT2 5
#define PF_TCP_TIME_WAIT 6
#define PF_TCP_CLOSE 7
#define PF_TCP_CLOSE_WAIT 8
#define PF_TCP_LAST_ACK 9
#define PF_TCP_LISTEN 10
#define PF_TCP_CLOSING 11
#define PF_TCP_NEW_SYN_RECV 12

#define PF_SOCK_STREAM 1
#define PF_SOCK_DGRAM 2

#define PF_MSG_PEEK 0x2
#define PF_MSG_ERRQUEUE 0x2000

/* Bit of enum sock_flags set by tcp_fin(): a FIN was taken in order. */
#define PF_SOCK_DONE 1

/*
 * Cookie as non-tracing programs see it: 0 until something asked for it
 * (bpf_get_socket_cookie, SO_COOKIE, sock_diag). The tp/kprobe families load
 * small cgroup programs that ask for it at socket creation / passive open.
 */
static __always_inline __u64 pf_sk_cookie_raw(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* Owner key: the cookie, or the socket address while no cookie exists. */
static __always_inline __u64 pf_owner_key(const struct sock *sk, __u64 cookie)
{
	return cookie ? cookie : (__u64)(long)sk;
}

/* Owner recorded at connect/accept: by cookie first, then by address. */
static __always_inline struct pf_owner *pf_owner_lookup(const struct sock *sk, __u64 cookie,
							__u64 *key)
{
	struct pf_owner *o = NULL;

	*key = cookie;
	if (cookie)
		o = bpf_map_lookup_elem(&pf_sk_owner, key);
	if (!o) {
		*key = (__u64)(long)sk;
		o = bpf_map_lookup_elem(&pf_sk_owner, key);
	}
	return o;
}

/*
 * Sockets handed out by accept(), keyed like pf_sk_owner, so that close and
 * the TCP iterator can tell PF_DIR_PASSIVE (pf_owner has no room for it).
 * Defined in net.bpf.c.
 */
struct pf_tcp_passive_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
};
extern struct pf_tcp_passive_map pf_tcp_passive SEC(".maps");

static __always_inline __u8 pf_tcp_dir(__u64 key)
{
	return bpf_map_lookup_elem(&pf_tcp_passive, &key) ? PF_DIR_PASSIVE : PF_DIR_ACTIVE;
}

static __always_inline int pf_owner_is_agent(const struct pf_owner *o)
{
	return o && pf_ignore_tgid && o->pid == pf_ignore_tgid;
}

/* Record the current task as owner; returns 0 or a map error. */
static __always_inline int pf_owner_store(const struct sock *sk, __u64 cookie)
{
	__u64 key = pf_owner_key(sk, cookie);
	struct pf_owner o;

	pf_owner_current(&o);
	return bpf_map_update_elem(&pf_sk_owner, &key, &o, BPF_ANY);
}

static __always_inline void pf_sock_hdr(struct pf_sock *e, __u16 type, __u16 hook)
{
	e->hdr.type = type;
	e->hdr.hook = hook;
	e->hdr.size = sizeof(*e);
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
}

static __always_inline void pf_sock_owner(struct pf_sock *e, const struct pf_owner *o)
{
	if (!o)
		return;
	e->pid = o->pid;
	e->tid = o->tid;
	e->start_ns = o->start_ns;
	e->uid = o->uid;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
}

/*
 * Local end, remote end and family as the socket sees them. The local port
 * comes from inet_sport: skc_num is already 0 at TCP_CLOSE. A v4-mapped peer
 * of an AF_INET6 socket stays in skc_v6_* (user space unmaps).
 */
static __always_inline void pf_sock_tuple(struct pf_sock *e, const struct sock *sk)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e->family = family;
	e->lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
}

/*
 * Exact payload counters. bytes_sent counts the payload of every transmitted
 * segment (retransmissions included, SYN/FIN carry none): minus bytes_retrans
 * it is each payload byte once. bytes_received is rcv_nxt progress, which
 * includes the peer's FIN: subtract it once SOCK_DONE says tcp_fin() ran.
 * (bytes_acked would count the SYN and our FIN.) Data segment counts include
 * retransmitted segments.
 */
static __always_inline void pf_tcp_counters(struct pf_sock *e, const struct tcp_sock *tp)
{
	const struct sock *sk = (const struct sock *)tp;
	__u64 flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	__u64 rcvd = BPF_CORE_READ(tp, bytes_received);

	e->bytes_out = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	e->bytes_in = rcvd - (rcvd && (flags & (1UL << PF_SOCK_DONE)) ? 1 : 0);
	e->segs_out = BPF_CORE_READ(tp, data_segs_out);
	e->segs_in = BPF_CORE_READ(tp, data_segs_in);
}

/* Build and submit one TCP record; o may be NULL (owner unknown: pid 0). */
static __always_inline int pf_tcp_emit(const struct sock *sk, __u64 cookie, __u16 type,
				       __u16 hook, __u8 dir, const struct pf_owner *o)
{
	struct pf_sock *e;

	e = bpf_ringbuf_reserve(&pf_events, sizeof(*e), 0);
	if (!e) {
		pf_count(hook, 1);
		return -1;
	}
	__builtin_memset(e, 0, sizeof(*e));
	pf_sock_hdr(e, type, hook);
	e->cookie = cookie;
	e->proto = IPPROTO_TCP;
	e->dir = dir;
	pf_sock_owner(e, o);
	pf_sock_tuple(e, sk);
	pf_tcp_counters(e, (const struct tcp_sock *)sk);
	bpf_ringbuf_submit(e, 0);
	pf_count(hook, 0);
	return 0;
}

/* A full socket that carried a connection: the transitions out of it end it. */
static __always_inline int pf_tcp_was_established(int oldstate)
{
	switch (oldstate) {
	case PF_TCP_ESTABLISHED:
	case PF_TCP_FIN_WAIT1:
	case PF_TCP_FIN_WAIT2:
	case PF_TCP_CLOSE_WAIT:
	case PF_TCP_LAST_ACK:
	case PF_TCP_CLOSING:
		return 1;
	}
	return 0;
}

/*
 * TCP_CLOSE: emit the final counters of an established connection with its
 * recorded owner (pid 0 if none) and forget the owner either way.
 */
static __always_inline void pf_tcp_close(const struct sock *sk, __u64 cookie, int oldstate)
{
	struct pf_owner *o;
	__u64 key;

	__u8 dir;

	o = pf_owner_lookup(sk, cookie, &key);
	dir = pf_tcp_dir(key);
	if (pf_tcp_was_established(oldstate) && !pf_owner_is_agent(o))
		pf_tcp_emit(sk, cookie, PF_EV_TCP_CLOSE, PF_HOOK_TCP_CLOSE, dir, o);
	if (o)
		bpf_map_delete_elem(&pf_sk_owner, &key);
	if (dir == PF_DIR_PASSIVE)
		bpf_map_delete_elem(&pf_tcp_passive, &key);
}

/* SYN_SENT -> ESTABLISHED: emit the connect with the owner stored at SYN_SENT. */
static __always_inline void pf_tcp_connected(const struct sock *sk, __u64 cookie)
{
	struct pf_owner *o;
	__u64 key;

	o = pf_owner_lookup(sk, cookie, &key);
	if (!pf_owner_is_agent(o))
		pf_tcp_emit(sk, cookie, PF_EV_TCP_CONNECT, PF_HOOK_TCP_CONNECT, PF_DIR_ACTIVE, o);
}

/* In the accepting task: record it as owner and emit the accept. */
static __always_inline void pf_tcp_accepted(const struct sock *sk, __u64 cookie)
{
	struct pf_owner o;
	__u64 key = pf_owner_key(sk, cookie);

	__u8 one = 1;

	pf_owner_current(&o);
	/* Reset before accept: its close already ran, do not leave entries. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != PF_TCP_CLOSE) {
		if (bpf_map_update_elem(&pf_sk_owner, &key, &o, BPF_ANY))
			pf_count(PF_HOOK_TCP_ACCEPT, 1);
		bpf_map_update_elem(&pf_tcp_passive, &key, &one, BPF_ANY);
	}
	if (!pf_ignored_current())
		pf_tcp_emit(sk, cookie, PF_EV_TCP_ACCEPT, PF_HOOK_TCP_ACCEPT, PF_DIR_PASSIVE, &o);
}

/* AF_INET/AF_INET6 TCP stream or UDP datagram socket (not raw, not UDP-Lite). */
static __always_inline int pf_sk_is_inet(const struct sock *sk, __u16 proto)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 type = proto == IPPROTO_TCP ? PF_SOCK_STREAM : PF_SOCK_DGRAM;

	return (family == AF_INET || family == AF_INET6) &&
	       BPF_CORE_READ(sk, sk_protocol) == proto && BPF_CORE_READ(sk, sk_type) == type;
}

#endif /* PROCFLOW_SOCK_BPF_H */

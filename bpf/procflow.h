/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procflow.h — the one contract for every record that crosses the ring buffer.
 *
 * Included by the BPF programs (bpf/ *.bpf.c) and mirrored by the TypeScript
 * decoder (host/sources/bpf/layout.ts); test/sources/bpf/layout.test.ts checks
 * every size and offset below against the compiled object's BTF.
 *
 * Rules: fixed-width fields only, explicit padding, every struct a multiple of
 * 8 bytes. Variable-length data (exec path and argv) follows the fixed part and
 * is sized per record by PF_EXEC_SIZE().
 */
#ifndef PROCFLOW_H
#define PROCFLOW_H

#define PF_COMM_LEN 16
/* Longest executable path kept; longer paths are cut and flagged. */
#define PF_PATH_MAX 4096
/* Upper bound of the configurable argv cap (the `args_cap` setting). */
#define PF_ARGS_MAX 16384 /* scratch must stay under the 32 KiB per-CPU value limit */
#define PF_ARGS_CAP_DEFAULT 4096
/* Directory depth walked when resolving the executable path. */
#define PF_PATH_DEPTH_MAX 128

/* Record types (pf_hdr.type). */
enum pf_event_type {
	PF_EV_EXEC = 1,        /* struct pf_exec + path + argv */
	PF_EV_EXIT = 2,        /* struct pf_exit */
	PF_EV_TCP_CONNECT = 3, /* struct pf_sock: connection established by a local connect() */
	PF_EV_TCP_ACCEPT = 4,  /* struct pf_sock: connection handed to a local accept() */
	PF_EV_TCP_CLOSE = 5,   /* struct pf_sock: connection reached TCP_CLOSE, final counters */
	PF_EV_UDP_SEND = 6,    /* struct pf_sock: datagrams sent to one peer, cumulative counters */
	PF_EV_UDP_RECV = 7,    /* struct pf_sock: datagrams received from one peer, cumulative counters */
	PF_EV_TCP_STATS = 8,   /* struct pf_sock: periodic counters of a live connection (iterator) */
	PF_EV_TASK = 9,        /* struct pf_exec layout: a process already running (task iterator) */
	PF_EV_SOCK_OWNER = 10, /* struct pf_sock: an open socket fd of a running process (task_file iterator) */
};

/* Logical hooks: the unit of hook choice and of the seen/dropped counters. */
enum pf_hook {
	PF_HOOK_EXEC = 0,
	PF_HOOK_EXIT = 1,
	PF_HOOK_TCP_CONNECT = 2,
	PF_HOOK_TCP_ACCEPT = 3,
	PF_HOOK_TCP_CLOSE = 4,
	PF_HOOK_UDP_SEND = 5,
	PF_HOOK_UDP_RECV = 6,
	PF_HOOK_ITER_TASK = 7,
	PF_HOOK_ITER_TCP = 8,
	PF_HOOK_MAX = 9,
};

/* pf_exec.flags */
#define PF_EXEC_ARGS_TRUNCATED (1 << 0) /* the argv cap cut the argument list */
#define PF_EXEC_PATH_TRUNCATED (1 << 1) /* path deeper/longer than PF_PATH_* */
#define PF_EXEC_NO_MM (1 << 2)          /* kernel thread or mm gone: no argv */

/* pf_sock.dir */
#define PF_DIR_ACTIVE 0  /* TCP: local end connected; UDP: send */
#define PF_DIR_PASSIVE 1 /* TCP: local end accepted; UDP: receive */

/* Common header of every record. 16 bytes. */
struct pf_hdr {
	__u16 type;   /* enum pf_event_type */
	__u16 hook;   /* enum pf_hook that produced it */
	__u32 size;   /* whole record in bytes, tail included */
	__u64 ts_ns;  /* bpf_ktime_get_boot_ns() */
};

/*
 * exec (and PF_EV_TASK snapshot). Followed by path_len bytes of path (no NUL)
 * and args_len bytes of argv: each element NUL-terminated, argv[0] included.
 */
struct pf_exec {
	struct pf_hdr hdr;
	__u32 pid;          /* tgid */
	__u32 tid;
	__u32 ppid;         /* tgid of real_parent */
	__u32 uid;
	__u64 start_ns;     /* group leader start_boottime; /10^7 = /proc/PID/stat field 22 */
	__u64 parent_start_ns;
	__u32 path_len;
	__u32 args_len;
	__u32 argc;         /* elements present in the tail */
	__u32 flags;        /* PF_EXEC_* */
	char comm[PF_COMM_LEN];
	/* cgroup v2 id (the cgroup directory's inode number under the cgroup2 mount); 1 = root */
	__u64 cgroup_id;
};

#define PF_EXEC_SIZE(path_len, args_len) \
	((sizeof(struct pf_exec) + (path_len) + (args_len) + 7) & ~7UL)

struct pf_exit {
	struct pf_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u64 start_ns;
	__u32 exit_code;    /* task->exit_code (status << 8 | signal) */
	__u32 ppid;         /* parent tgid at exit (a child forked without exec has its image) */
	char comm[PF_COMM_LEN];
};

/*
 * Socket records. Addresses are the local (l*) and remote (r*) ends as the
 * owning process sees them; IPv4 uses the first 4 bytes of the 16. Ports are
 * host byte order. Counters are cumulative since the socket was first seen
 * (for sockets that predate the agent: since the agent's start).
 */
struct pf_sock {
	struct pf_hdr hdr;
	__u64 cookie;       /* bpf_get_socket_cookie() */
	__u32 pid;          /* owner tgid (0 when unknown) */
	__u32 tid;
	__u64 start_ns;     /* owner's start time, to tell pid reuse apart */
	__u32 uid;
	__u16 family;       /* AF_INET or AF_INET6 */
	__u8 proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 dir;           /* PF_DIR_* */
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u32 fd;           /* PF_EV_SOCK_OWNER: the fd; else 0 */
	__u64 bytes_out;    /* payload bytes */
	__u64 bytes_in;
	__u64 segs_out;     /* TCP: data segments; UDP: datagrams */
	__u64 segs_in;
	char comm[PF_COMM_LEN];
};

/*
 * Key of map pf_udp_flows (LRU hash): one entry per socket, direction and peer.
 * Its value is a struct pf_sock holding cumulative counters; hdr.ts_ns of the
 * value is the time the entry was last reported on the ring.
 */
struct pf_udp_key {
	__u64 cookie;
	__u8 raddr[16];
	__u16 rport;
	__u16 family;
	__u8 dir;
	__u8 _pad0[3];
};

/* Per-CPU counters, one slot per enum pf_hook (map pf_counters). */
struct pf_counter {
	__u64 seen;
	__u64 dropped;      /* ring buffer full, or record could not be built */
};

#endif /* PROCFLOW_H */

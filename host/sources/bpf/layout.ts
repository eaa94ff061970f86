/**
 * The TypeScript mirror of bpf/procflow.h: sizes and field offsets of every
 * record crossing the ring buffer. test/sources/bpf/layout.test.ts checks them
 * against the BTF of the compiled object, so a moved field fails the build.
 */

/** [offset, size] of one field, in bytes. */
export type FieldSpec = readonly [offset: number, size: number];

/** One C struct: its size and the fields the decoder reads. */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export const PF_COMM_LEN = 16;
export const PF_PATH_MAX = 4096;
export const PF_ARGS_MAX = 16384;
export const PF_ARGS_CAP_DEFAULT = 4096;

/** Mirrors of the structs in bpf/procflow.h. */
export const LAYOUT = {
  pf_hdr: { size: 16, fields: { type: [0, 2], hook: [2, 2], size: [4, 4], ts_ns: [8, 8] } },
  pf_exec: {
    size: 88,
    fields: {
      hdr: [0, 16], pid: [16, 4], tid: [20, 4], ppid: [24, 4], uid: [28, 4], start_ns: [32, 8],
      parent_start_ns: [40, 8], path_len: [48, 4], args_len: [52, 4], argc: [56, 4], flags: [60, 4], comm: [64, 16],
      cgroup_id: [80, 8],
    },
  },
  pf_exit: {
    size: 56,
    fields: { hdr: [0, 16], pid: [16, 4], tid: [20, 4], start_ns: [24, 8], exit_code: [32, 4], ppid: [36, 4], comm: [40, 16] },
  },
  pf_sock: {
    size: 136,
    fields: {
      hdr: [0, 16], cookie: [16, 8], pid: [24, 4], tid: [28, 4], start_ns: [32, 8], uid: [40, 4], family: [44, 2],
      proto: [46, 1], dir: [47, 1], laddr: [48, 16], raddr: [64, 16], lport: [80, 2], rport: [82, 2], fd: [84, 4],
      bytes_out: [88, 8], bytes_in: [96, 8], segs_out: [104, 8], segs_in: [112, 8], comm: [120, 16],
    },
  },
  pf_udp_key: {
    size: 32,
    fields: { cookie: [0, 8], raddr: [8, 16], rport: [24, 2], family: [26, 2], dir: [28, 1], _pad0: [29, 3] },
  },
  pf_counter: { size: 16, fields: { seen: [0, 8], dropped: [8, 8] } },
} as const satisfies Record<string, StructLayout>;

/** enum pf_event_type */
export const EventType = {
  EXEC: 1, EXIT: 2, TCP_CONNECT: 3, TCP_ACCEPT: 4, TCP_CLOSE: 5, UDP_SEND: 6, UDP_RECV: 7, TCP_STATS: 8, TASK: 9,
  SOCK_OWNER: 10,
} as const;

/** enum pf_hook, in index order. */
export const HOOK_NAMES = [
  'exec', 'exit', 'tcp_connect', 'tcp_accept', 'tcp_close', 'udp_send', 'udp_recv', 'iter_task', 'iter_tcp',
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** pf_exec.flags */
export const EXEC_ARGS_TRUNCATED = 1;
export const EXEC_PATH_TRUNCATED = 2;
export const EXEC_NO_MM = 4;

/** pf_sock.dir: the local end accepted (TCP) or received (UDP); 0 is the active side. */
export const DIR_PASSIVE = 1;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

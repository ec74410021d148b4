/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Active-open tracking shared by the TCP connect probes (tcp, tcpconnlat): the connecting
 * task is remembered per socket when the connect starts (it runs in that task), so that the
 * end, which runs in softirq, can charge the record to that task and the socket's cgroup.
 * Also the inet_sock_set_state and connect() programs, which both probes attach alike.
 *
 * Include after lmp.bpf.h and lmp_sock.bpf.h. An includer may define LMP_CONNECT_STARTS_MAX
 * first to size the map of connects in flight.
 */
#ifndef LMP_TCPSTATE_BPF_H
#define LMP_TCPSTATE_BPF_H

#define AF_INET 2
#define AF_INET6 10

#ifndef LMP_CONNECT_STARTS_MAX
#define LMP_CONNECT_STARTS_MAX 16384
#endif

struct lmp_connect_start {
	__u64 ts;
	__u64 cgroup_id; /* the caller's: used when the socket has no cgroup of its own */
	__u32 pid, tid, uid, _pad;
	char comm[LMP_COMM_LEN];
};

/* connects in flight by socket; LRU, so starts whose end is never seen (the function-hook
 * paths miss some ends) cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LMP_CONNECT_STARTS_MAX);
	__type(key, __u64);
	__type(value, struct lmp_connect_start);
} lmp_connect_starts SEC(".maps");

static __always_inline int lmp_connect_start(const struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;
	struct lmp_connect_start s = {};

	if (lmp_is_self())
		return 0;
	s.ts = bpf_ktime_get_ns();
	s.cgroup_id = bpf_get_current_cgroup_id();
	s.pid = id >> 32;
	s.tid = (__u32)id;
	s.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&lmp_connect_starts, &key, &s, BPF_ANY);
	return 0;
}

/* the record header as the task that called connect() would have filled it */
static __always_inline void lmp_connect_fill_hdr(struct lmp_event_hdr *hdr,
						 const struct lmp_connect_start *s, __u64 cgroup_id)
{
	hdr->cgroup_id = cgroup_id;
	hdr->pid = s->pid;
	hdr->tid = s->tid;
	hdr->uid = s->uid;
	__builtin_memcpy(hdr->comm, s->comm, sizeof(hdr->comm));
}

/* the socket's local and remote addresses, network byte order, IPv4 in the first 4 bytes
 * and the rest zero; returns the address family */
static __always_inline __u16 lmp_sk_read_addrs(const struct sock *sk, __u8 (*saddr)[16],
					       __u8 (*daddr)[16])
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	__builtin_memset(saddr, 0, sizeof(*saddr));
	__builtin_memset(daddr, 0, sizeof(*daddr));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)daddr, sk, __sk_common.skc_daddr);
	}
	return family;
}

/* TCP only; a connect starts at SYN_SENT, any other change goes to handle(sk, old, new) */
#define LMP_CONNECT_STATE(handle, sk, oldstate, newstate, protocol) \
	((protocol) != IPPROTO_TCP  ? 0 :                           \
	 (newstate) == TCP_SYN_SENT ? lmp_connect_start(sk) :       \
				      handle(sk, oldstate, newstate))

/*
 * The three attach kinds of the state tracepoint, each a thin wrapper around
 * LMP_CONNECT_STATE(handle, ...). sk_protocol was a bitfield before 5.6 (commit
 * bf9765145b85 "sock: Make sk_protocol a 16-bit value"): the probed read handles both
 * layouts.
 */
#define LMP_INET_SOCK_SET_STATE_PROGS(handle)                                               \
	SEC("tp_btf/inet_sock_set_state")                                                   \
	int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, const int oldstate, \
		     const int newstate)                                                    \
	{                                                                                   \
		return LMP_CONNECT_STATE(handle, sk, oldstate, newstate,                    \
					 BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol));   \
	}                                                                                   \
                                                                                            \
	SEC("raw_tp/inet_sock_set_state")                                                   \
	int BPF_PROG(raw_tp_inet_sock_set_state, const struct sock *sk, const int oldstate, \
		     const int newstate)                                                    \
	{                                                                                   \
		return LMP_CONNECT_STATE(handle, sk, oldstate, newstate,                    \
					 BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol));   \
	}                                                                                   \
                                                                                            \
	SEC("tp/sock/inet_sock_set_state")                                                  \
	int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)         \
	{                                                                                   \
		return LMP_CONNECT_STATE(handle, ctx->skaddr, ctx->oldstate, ctx->newstate, \
					 ctx->protocol);                                    \
	}

/* the function-hook starts, for kernels without the state tracepoint: the connect call */
#define LMP_CONNECT_START_PROGS()                              \
	SEC("fentry/tcp_v4_connect")                           \
	int BPF_PROG(fentry_tcp_v4_connect, struct sock *sk)   \
	{                                                      \
		return lmp_connect_start(sk);                  \
	}                                                      \
                                                               \
	SEC("fentry/tcp_v6_connect")                           \
	int BPF_PROG(fentry_tcp_v6_connect, struct sock *sk)   \
	{                                                      \
		return lmp_connect_start(sk);                  \
	}                                                      \
                                                               \
	SEC("kprobe/tcp_v4_connect")                           \
	int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk) \
	{                                                      \
		return lmp_connect_start(sk);                  \
	}                                                      \
                                                               \
	SEC("kprobe/tcp_v6_connect")                           \
	int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk) \
	{                                                      \
		return lmp_connect_start(sk);                  \
	}

#endif /* LMP_TCPSTATE_BPF_H */

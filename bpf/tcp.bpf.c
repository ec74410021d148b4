// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp: every TCP active open, IPv4 and IPv6: endpoints, result (success or the errno, such
 * as ECONNREFUSED or ETIMEDOUT) and latency, streamed one record per connect.
 *
 * Hooks, best first (agent/probes/tcp.c):
 *   tp_btf/inet_sock_set_state (5.5+) > raw_tp/inet_sock_set_state (4.17+) >
 *   tracepoint sock/inet_sock_set_state (4.16+, needs tracefs) >
 *   fentry tcp_v4_connect + tcp_v6_connect + tcp_finish_connect + tcp_done (5.5+) >
 *   kprobe on the same four functions
 * The state tracepoint sees both ends of the handshake through one stable hook: the move to
 * SYN_SENT (in the connecting task, inside tcp_v4/v6_connect) starts the clock, the move
 * from SYN_SENT (or from SYN_RECV after a simultaneous open) to ESTABLISHED ends it with
 * success, and to CLOSE with a failure. The failure's errno is sk->sk_err at that moment:
 * every path that ends a connect with an error stores it before the socket changes state
 * (tcp_reset() and tcp_write_err() before tcp_done(), tcp_v4_err()/tcp_v6_err() before
 * tcp_done(); since 6.10 all through tcp_done_with_error()). A close with no error
 * recorded is a connect the caller abandoned (close() or connect(AF_UNSPEC) while in
 * SYN_SENT) or one that failed locally before any SYN went out (no free port): "aborted".
 * The function hooks are for kernels without the tracepoint: the start is the connect call
 * (the ports are read at the end), the end tcp_finish_connect() or tcp_done(); abandoned
 * connects are not seen there and age out of the LRU map.
 *
 * Completions run in softirq, where the current task is whoever the CPU interrupted: the
 * record carries the connecting task remembered at the start and the socket's cgroup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "lmp/tcp.h"
#include "lmp.bpf.h"
#include "lmp_sock.bpf.h"

#define AF_INET 2
#define AF_INET6 10

struct start {
	__u64 ts;
	__u64 cgroup_id; /* the caller's: used when the socket has no cgroup of its own */
	__u32 pid, tid, uid, _pad;
	char comm[LMP_COMM_LEN];
};

/* connects in flight by socket; LRU, so starts whose end is never seen cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct start);
} starts SEC(".maps");

static __always_inline int connect_start(const struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;
	struct start s = {};

	if (lmp_is_self())
		return 0;
	s.ts = bpf_ktime_get_ns();
	s.cgroup_id = bpf_get_current_cgroup_id();
	s.pid = id >> 32;
	s.tid = (__u32)id;
	s.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&starts, &key, &s, BPF_ANY);
	return 0;
}

static __always_inline int connect_end(const struct sock *sk, bool established)
{
	__u64 key = (__u64)sk, now = bpf_ktime_get_ns();
	struct lmp_tcp_connect *e;
	struct start *s;
	int err;

	s = bpf_map_lookup_elem(&starts, &key);
	if (!s)
		return 0; /* not an active open we saw start (or the agent's own) */
	e = lmp_event_reserve(sizeof(*e), LMP_TCP_CONNECT);
	if (!e)
		goto out;
	/* the header as the connecting task would have filled it, in the socket's cgroup */
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->hdr.cgroup_id = lmp_sk_cgroup_id(sk) ?: s->cgroup_id;
	e->hdr.pid = s->pid;
	e->hdr.tid = s->tid;
	e->hdr.uid = s->uid;
	__builtin_memcpy(e->hdr.comm, s->comm, sizeof(e->hdr.comm));
	e->latency_ns = now - s->ts;
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* inet_sport, not skc_num: the tracepoint fires when the new state is stored, at the
	 * end of tcp_set_state(), after inet_put_port() has zeroed skc_num of a socket whose
	 * port was chosen by connect(); inet_sport keeps it (and the tracepoint's own sport
	 * field is read from there) */
	e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->_pad = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	}
	if (established) {
		e->result = LMP_TCP_SUCCESS;
		e->error = 0;
	} else {
		err = BPF_CORE_READ(sk, sk_err);
		e->result = err ? LMP_TCP_FAILED : LMP_TCP_ABORTED;
		e->error = -err;
	}
	bpf_ringbuf_submit(e, 0);
out:
	bpf_map_delete_elem(&starts, &key);
	return 0;
}

static __always_inline int handle_state(const struct sock *sk, int oldstate, int newstate,
					__u16 protocol)
{
	if (protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		return connect_start(sk);
	/* a simultaneous open goes SYN_SENT -> SYN_RECV -> ESTABLISHED: the start stays */
	if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
		return 0;
	if (newstate == TCP_ESTABLISHED)
		return connect_end(sk, true);
	if (newstate == TCP_CLOSE)
		return connect_end(sk, false);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	/* sk_protocol was a bitfield before 5.6 (commit bf9765145b85 "sock: Make sk_protocol
	 * a 16-bit value"): the probed read handles both layouts */
	return handle_state(sk, oldstate, newstate, BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol));
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(raw_tp_inet_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	return handle_state(sk, oldstate, newstate, BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol));
}

SEC("tp/sock/inet_sock_set_state")
int tp_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	return handle_state(ctx->skaddr, ctx->oldstate, ctx->newstate, ctx->protocol);
}

/* --- function hooks, for kernels without the state tracepoint ------------------------- */

SEC("fentry/tcp_v4_connect")
int BPF_PROG(fentry_tcp_v4_connect, struct sock *sk)
{
	return connect_start(sk);
}

SEC("fentry/tcp_v6_connect")
int BPF_PROG(fentry_tcp_v6_connect, struct sock *sk)
{
	return connect_start(sk);
}

SEC("fentry/tcp_finish_connect")
int BPF_PROG(fentry_tcp_finish_connect, struct sock *sk)
{
	return connect_end(sk, true);
}

SEC("fentry/tcp_done")
int BPF_PROG(fentry_tcp_done, struct sock *sk)
{
	return connect_end(sk, false);
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk)
{
	return connect_start(sk);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk)
{
	return connect_start(sk);
}

SEC("kprobe/tcp_finish_connect")
int BPF_KPROBE(kprobe_tcp_finish_connect, struct sock *sk)
{
	return connect_end(sk, true);
}

SEC("kprobe/tcp_done")
int BPF_KPROBE(kprobe_tcp_done, struct sock *sk)
{
	return connect_end(sk, false);
}

char LICENSE[] SEC("license") = "GPL";

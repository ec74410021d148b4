// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpconnlat: how long TCP active opens take, from the SYN going out (socket enters
 * SYN_SENT) to the handshake completing (ESTABLISHED), as a log2 histogram per cgroup, plus
 * one streamed record for each connect slower than cfg_min_ns (--tcpconnlat-min-ms).
 *
 * Hooks, best first (agent/probes/tcpconnlat.c):
 *   connect: tp_btf/inet_sock_set_state (5.5+) > raw_tp/inet_sock_set_state (4.17+) >
 *            tracepoint sock/inet_sock_set_state (4.16+, needs tracefs) >
 *            fentry tcp_v4_connect + tcp_v6_connect + tcp_rcv_state_process (5.5+) >
 *            kprobe on the same three functions
 * The state tracepoint sees both ends of the handshake, and also its failures (SYN_SENT ->
 * CLOSE), with a stable ABI. The function hooks are for kernels without it: the start is
 * the connect call, the end the first segment processed in SYN_SENT (as libbpf-tools
 * tcpconnlat does), so a refused connect counts there as a completed one.
 *
 * The completion runs in softirq, so the connect is charged to the socket's cgroup, and
 * the record names the task that called connect(), remembered at the start.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "lmp/tcpconnlat.h"
#include "lmp.bpf.h"
#include "lmp_sock.bpf.h"

#define AF_INET 2
#define AF_INET6 10

const volatile __u64 cfg_min_ns = 0;

struct start {
	__u64 ts;
	__u64 cgroup_id; /* the caller's, for sockets without a cgroup of their own */
	__u32 pid, tid, uid;
	char comm[LMP_COMM_LEN];
};

/* connects in flight, keyed by socket; LRU so that starts the end hook never sees (the
 * function-hook path misses failures) cannot fill it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct start);
} start SEC(".maps");

/* cgroups that connected within one interval */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct lmp_tcpconnlat_val);
} hists SEC(".maps");

static const struct lmp_tcpconnlat_val zero_val;

static __always_inline int handle_start(const struct sock *sk)
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
	bpf_map_update_elem(&start, &key, &s, BPF_ANY);
	return 0;
}

static __always_inline void emit(const struct sock *sk, const struct start *s, __u64 cgroup_id,
				 __u64 delta)
{
	struct lmp_tcpconnlat_event *e;

	e = lmp_event_reserve(sizeof(*e), LMP_TCPCONNLAT_CONNECT);
	if (!e)
		return;
	/* the header as the caller of connect() would have filled it */
	e->hdr.cgroup_id = cgroup_id;
	e->hdr.pid = s->pid;
	e->hdr.tid = s->tid;
	e->hdr.uid = s->uid;
	__builtin_memcpy(e->hdr.comm, s->comm, sizeof(e->hdr.comm));
	e->latency_ns = delta;
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
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
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int handle_done(const struct sock *sk, bool established)
{
	__u64 key = (__u64)sk, cgroup_id, delta;
	struct lmp_tcpconnlat_val *v;
	struct start *s;

	s = bpf_map_lookup_elem(&start, &key);
	if (!s)
		return 0; /* started before attach, or by the agent */
	delta = bpf_ktime_get_ns() - s->ts;
	cgroup_id = lmp_sk_cgroup_id(sk);
	if (!cgroup_id)
		cgroup_id = s->cgroup_id;
	v = lmp_map_lookup_or_init(&hists, &cgroup_id, &zero_val);
	if (v) {
		if (established)
			lmp_hist_add(&v->lat, delta);
		else
			__sync_fetch_and_add(&v->failed, 1);
	}
	if (established && delta >= cfg_min_ns)
		emit(sk, s, cgroup_id, delta);
	bpf_map_delete_elem(&start, &key);
	return 0;
}

static __always_inline int handle_state(const struct sock *sk, int oldstate, int newstate,
					__u16 protocol)
{
	if (protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT)
		return handle_start(sk);
	if (oldstate == TCP_SYN_SENT)
		return handle_done(sk, newstate == TCP_ESTABLISHED);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_inet_sock_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	/* sk_protocol was a bitfield before 5.6 (commit bf9765145b85): the probed read
	 * handles both layouts */
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

/* function hooks: the start at connect(), the end at the first segment seen in SYN_SENT */
static __always_inline int handle_rcv_state(const struct sock *sk)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		return 0;
	return handle_done(sk, true);
}

SEC("fentry/tcp_v4_connect")
int BPF_PROG(fentry_tcp_v4_connect, struct sock *sk)
{
	return handle_start(sk);
}

SEC("fentry/tcp_v6_connect")
int BPF_PROG(fentry_tcp_v6_connect, struct sock *sk)
{
	return handle_start(sk);
}

SEC("fentry/tcp_rcv_state_process")
int BPF_PROG(fentry_tcp_rcv_state_process, struct sock *sk)
{
	return handle_rcv_state(sk);
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk)
{
	return handle_start(sk);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk)
{
	return handle_start(sk);
}

SEC("kprobe/tcp_rcv_state_process")
int BPF_KPROBE(kprobe_tcp_rcv_state_process, struct sock *sk)
{
	return handle_rcv_state(sk);
}

char LICENSE[] SEC("license") = "GPL";

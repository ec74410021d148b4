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

/* connects in flight */
#define LMP_CONNECT_STARTS_MAX 8192
#include "lmp_tcpstate.bpf.h"

const volatile __u64 cfg_min_ns = 0;

/* cgroups that connected within one interval */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct lmp_tcpconnlat_val);
} hists SEC(".maps");

static const struct lmp_tcpconnlat_val zero_val;

static __always_inline void emit(const struct sock *sk, const struct lmp_connect_start *s,
				 __u64 cgroup_id, __u64 delta)
{
	struct lmp_tcpconnlat_event *e;

	e = lmp_event_reserve(sizeof(*e), LMP_TCPCONNLAT_CONNECT);
	if (!e)
		return;
	lmp_connect_fill_hdr(&e->hdr, s, cgroup_id);
	e->latency_ns = delta;
	e->family = lmp_sk_read_addrs(sk, &e->saddr, &e->daddr);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->_pad = 0;
	lmp_event_submit(e);
}

static __always_inline int handle_done(const struct sock *sk, bool established)
{
	__u64 key = (__u64)sk, cgroup_id, delta;
	struct lmp_tcpconnlat_val *v;
	struct lmp_connect_start *s;

	s = bpf_map_lookup_elem(&lmp_connect_starts, &key);
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
	bpf_map_delete_elem(&lmp_connect_starts, &key);
	return 0;
}

static __always_inline int handle_state(const struct sock *sk, int oldstate, int newstate)
{
	if (oldstate == TCP_SYN_SENT)
		return handle_done(sk, newstate == TCP_ESTABLISHED);
	return 0;
}

LMP_INET_SOCK_SET_STATE_PROGS(handle_state)

/*
 * function hooks: the start at connect(), the end at the first segment seen in SYN_SENT:
 * a SYN-ACK, or a RST when the connect is refused (a failure, as the state change says on
 * the tracepoint path; counting it as established reported refused connects as fast ones)
 */
static __always_inline int handle_rcv_state(const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcphdr *th;

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT)
		return 0;
	th = (const void *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, transport_header));
	return handle_done(sk, !BPF_CORE_READ_BITFIELD_PROBED(th, rst));
}

LMP_CONNECT_START_PROGS()

LMP_FENTRY_AND_KPROBE(tcp_rcv_state_process, handle_rcv_state(sk, skb), struct sock *sk,
		      struct sk_buff *skb);

char LICENSE[] SEC("license") = "GPL";

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
#include "lmp_tcpstate.bpf.h"

static __always_inline int connect_end(const struct sock *sk, bool established)
{
	__u64 key = (__u64)sk, now = bpf_ktime_get_ns();
	struct lmp_tcp_connect *e;
	struct lmp_connect_start *s;
	int err;

	s = bpf_map_lookup_elem(&lmp_connect_starts, &key);
	if (!s)
		return 0; /* not an active open we saw start (or the agent's own) */
	e = lmp_event_reserve(sizeof(*e), LMP_TCP_CONNECT);
	if (!e)
		goto out;
	/* the header as the connecting task would have filled it, in the socket's cgroup */
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	lmp_connect_fill_hdr(&e->hdr, s, lmp_sk_cgroup_id(sk) ?: s->cgroup_id);
	e->latency_ns = now - s->ts;
	e->family = lmp_sk_read_addrs(sk, &e->saddr, &e->daddr);
	/* inet_sport, not skc_num: the tracepoint fires when the new state is stored, at the
	 * end of tcp_set_state(), after inet_put_port() has zeroed skc_num of a socket whose
	 * port was chosen by connect(); inet_sport keeps it (and the tracepoint's own sport
	 * field is read from there) */
	e->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->_pad = 0;
	if (established) {
		e->result = LMP_TCP_SUCCESS;
		e->error = 0;
	} else {
		err = BPF_CORE_READ(sk, sk_err);
		e->result = err ? LMP_TCP_FAILED : LMP_TCP_ABORTED;
		e->error = -err;
	}
	lmp_event_submit(e);
out:
	bpf_map_delete_elem(&lmp_connect_starts, &key);
	return 0;
}

static __always_inline int handle_state(const struct sock *sk, int oldstate, int newstate)
{
	/* a simultaneous open goes SYN_SENT -> SYN_RECV -> ESTABLISHED: the start stays */
	if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
		return 0;
	if (newstate == TCP_ESTABLISHED)
		return connect_end(sk, true);
	if (newstate == TCP_CLOSE)
		return connect_end(sk, false);
	return 0;
}

LMP_INET_SOCK_SET_STATE_PROGS(handle_state)

/* --- function hooks, for kernels without the state tracepoint ------------------------- */

LMP_CONNECT_START_PROGS()

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

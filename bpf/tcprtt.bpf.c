// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcprtt: the smoothed round-trip time (srtt) of established TCP sockets, sampled each time
 * one receives a segment, as a log2 histogram (ns) per cgroup.
 *
 * Hooks, best first (agent/probes/tcprtt.c):
 *   rtt: tp_btf/tcp_probe (5.5+) > raw_tp/tcp_probe (4.17+) > tracepoint tcp/tcp_probe
 *        (4.16+, needs tracefs) > fentry tcp_rcv_established (5.5+) > kprobe
 *        tcp_rcv_established
 * tcp_probe is called at the top of tcp_rcv_established(), for every segment (data or pure
 * ACK) an ESTABLISHED socket processes, whether it arrives in softirq or is replayed from
 * the socket backlog in process context; the function hooks see exactly the same calls.
 * srtt is tcp_sock->srtt_us >> 3 (the kernel keeps it scaled by 8), in microseconds.
 *
 * Segments are processed in softirq on behalf of whichever task the CPU interrupted, so a
 * sample is charged to the socket's cgroup, never to the current task's. This fires for
 * every received segment: per-CPU map, plain increments.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/tcprtt.h"
#include "lmp.bpf.h"
#include "lmp_sock.bpf.h"

/* cgroups with TCP traffic within one interval; allocated on insert */
LMP_CGROUP_HISTS(hists, 4096);

static const struct lmp_hist zero_hist;

static __always_inline int handle_rtt(const struct sock *sk, __u32 srtt_us)
{
	__u64 cgroup_id, ns = (__u64)srtt_us * 1000;
	struct lmp_hist *h;
	__u32 slot;

	if (!sk)
		return 0;
	cgroup_id = lmp_sk_cgroup_id(sk);
	h = lmp_map_lookup_or_init(&hists, &cgroup_id, &zero_hist);
	if (!h)
		return 0;
	slot = lmp_log2_slot(ns);
	if (slot >= LMP_HIST_SLOTS)
		slot = LMP_HIST_SLOTS - 1;
	h->slots[slot]++; /* per-CPU value, and a program never nests in itself on one CPU */
	h->sum += ns;
	h->count++;
	return 0;
}

static __always_inline __u32 sk_srtt_us(const struct sock *sk)
{
	return BPF_CORE_READ((struct tcp_sock *)sk, srtt_us) >> 3;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(tp_btf_tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
	return handle_rtt(sk, sk_srtt_us(sk));
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(raw_tp_tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
	return handle_rtt(sk, sk_srtt_us(sk));
}

SEC("tp/tcp/tcp_probe")
int tp_tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	return handle_rtt(ctx->skaddr, ctx->srtt); /* the tracepoint already shifted it */
}

SEC("fentry/tcp_rcv_established")
int BPF_PROG(fentry_tcp_rcv_established, struct sock *sk)
{
	return handle_rtt(sk, sk_srtt_us(sk));
}

SEC("kprobe/tcp_rcv_established")
int BPF_KPROBE(kprobe_tcp_rcv_established, struct sock *sk)
{
	return handle_rtt(sk, sk_srtt_us(sk));
}

char LICENSE[] SEC("license") = "GPL";

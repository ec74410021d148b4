// SPDX-License-Identifier: GPL-2.0-only
/*
 * biostacks: which kernel code paths cause block I/O, and how long that I/O takes. The
 * kernel stack is taken when a request starts, in the context of the task that submitted
 * it; the latency is measured to its completion and kept as a log2 histogram per
 * (cgroup, disk, process, stack), aggregated in the kernel.
 *
 * Hooks, best first (agent/probes/biostacks.c):
 *   start: tp_btf/block_io_start (6.5+: fired when a bio becomes a request, in the
 *          submitter's context) > raw_tp/block_io_start > tp_btf/block_rq_insert (pre-6.5)
 *          > raw_tp/block_rq_insert
 *   issue: tp_btf/block_rq_issue > raw_tp: a request with no start seen yet (issued
 *          directly without an insert before 6.5, or started before the probe) starts here
 *   done:  tp_btf/block_io_done (6.5+) > raw_tp > tp_btf/block_rq_complete > raw_tp
 * libbpf-tools biostacks needs kprobes on blk_account_io_start/done (or fentry) and does
 * not run where those are missing; these tracepoints are a stable ABI and run there.
 * Classic tracepoints are not offered: their records carry dev and sector, not the request
 * pointer that pairs start and completion.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/biostacks.h"
#include "lmp.bpf.h"
#include "lmp_request.bpf.h"
#include "lmp_stack.bpf.h"

/* kernel I/O paths are few; the agent clears the map when collisions are counted */
LMP_STACK_MAP(stacks, 2048);

struct start_rec {
	__u64 ts;
	__u64 cgroup_id;
	__u32 pid;
	__s32 stack_id;
	__u32 dev;
	__u32 _pad;
	char comm[LMP_COMM_LEN];
};

/* requests in flight, by struct request *; LRU: a request merged away never completes */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct start_rec);
} inflight SEC(".maps");

/* (cgroup, disk, process, stack) of one interval */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct lmp_biostacks_key);
	__type(value, struct lmp_biostacks_val);
} hists SEC(".maps");

const struct lmp_biostacks_val zero_val = {};

static __always_inline int handle_start(void *ctx, struct request *rq, bool only_if_new)
{
	__u64 key = (__u64)rq, id = bpf_get_current_pid_tgid();
	struct start_rec r = {};

	if (only_if_new && bpf_map_lookup_elem(&inflight, &key))
		return 0;
	r.ts = bpf_ktime_get_ns();
	r.cgroup_id = lmp_rq_charge_cgroup(rq);
	r.pid = id >> 32;
	r.dev = lmp_rq_dev(rq, LMP_BIOSTACKS_MINORBITS);
	r.stack_id = lmp_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	bpf_map_update_elem(&inflight, &key, &r, BPF_ANY);
	return 0;
}

static __always_inline int handle_done(struct request *rq, __u32 nr_bytes, bool partial_ok)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct lmp_biostacks_key k = {};
	struct lmp_biostacks_val *v;
	struct start_rec *r;

	/* block_rq_complete fires for each partial completion: wait for the last bytes */
	if (!partial_ok && nr_bytes < BPF_CORE_READ(rq, __data_len))
		return 0;
	r = bpf_map_lookup_elem(&inflight, &key);
	if (!r)
		return 0;
	k.cgroup_id = r->cgroup_id;
	k.dev = r->dev;
	k.pid = r->pid;
	k.stack_id = r->stack_id;
	v = lmp_map_lookup_or_init(&hists, &k, &zero_val);
	if (v) {
		if (!v->comm[0])
			__builtin_memcpy(v->comm, r->comm, sizeof(v->comm));
		lmp_hist_add(&v->lat, now > r->ts ? now - r->ts : 0);
	}
	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

SEC("tp_btf/block_io_start")
int BPF_PROG(tp_btf_block_io_start, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

SEC("raw_tp/block_io_start")
int BPF_PROG(raw_tp_block_io_start, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(tp_btf_block_rq_insert, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

/* before 5.11 (a54895fa057c) the queue came first; the agent picks by the kernel's BTF */
SEC("tp_btf/block_rq_insert")
int BPF_PROG(tp_btf_block_rq_insert_q, struct request_queue *q, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

SEC("raw_tp/block_rq_insert")
int BPF_PROG(raw_tp_block_rq_insert, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

/* before 5.11 (a54895fa057c) the queue came first; the agent picks by the kernel's BTF */
SEC("raw_tp/block_rq_insert")
int BPF_PROG(raw_tp_block_rq_insert_q, struct request_queue *q, struct request *rq)
{
	return handle_start(ctx, rq, false);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(tp_btf_block_rq_issue, struct request *rq)
{
	return handle_start(ctx, rq, true);
}

/* before 5.11 (a54895fa057c) the queue came first; the agent picks by the kernel's BTF */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(tp_btf_block_rq_issue_q, struct request_queue *q, struct request *rq)
{
	return handle_start(ctx, rq, true);
}

SEC("raw_tp/block_rq_issue")
int BPF_PROG(raw_tp_block_rq_issue, struct request *rq)
{
	return handle_start(ctx, rq, true);
}

/* before 5.11 (a54895fa057c) the queue came first; the agent picks by the kernel's BTF */
SEC("raw_tp/block_rq_issue")
int BPF_PROG(raw_tp_block_rq_issue_q, struct request_queue *q, struct request *rq)
{
	return handle_start(ctx, rq, true);
}

SEC("tp_btf/block_io_done")
int BPF_PROG(tp_btf_block_io_done, struct request *rq)
{
	return handle_done(rq, 0, true);
}

SEC("raw_tp/block_io_done")
int BPF_PROG(raw_tp_block_io_done, struct request *rq)
{
	return handle_done(rq, 0, true);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(tp_btf_block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	return handle_done(rq, nr_bytes, false);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(raw_tp_block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	return handle_done(rq, nr_bytes, false);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * biolatency: block I/O latency as log2 histograms per (cgroup, disk), aggregated in the
 * kernel and drained by the agent every interval. Two phases per request: queue (start ->
 * issue: plugging, I/O scheduler) and, by default, service (issue -> complete: the device);
 * with --biolatency-queued the second histogram is total (start -> complete) instead, like
 * libbpf-tools' biolatency -Q.
 *
 * Hooks, best first (bpf/blkio.bpf.h has the request tracking and the attribution rule):
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start >
 *          tp_btf/raw_tp block_rq_insert
 *   issue: tp_btf/raw_tp block_rq_issue
 *   done:  tp_btf/raw_tp block_rq_complete > fentry/kprobe blk_account_io_done
 */
#include "vmlinux.h"
#include "lmp/biolatency.h"
#define LMP_BLKIO_ME LMP_BLKIO_USER_BIOLATENCY
#include "blkio.bpf.h"

const volatile __u32 cfg_queued = 0; /* 1: second histogram is start -> complete */

LMP_BLKIO_AGG_MAP(hists, struct lmp_biolatency_val);

static const struct lmp_biolatency_val zero_val; /* init value, kept off the 512-byte stack */

/* attached only in the first block probe that reads completions: it serves them all */
static __always_inline int on_issue(struct request *rq)
{
	blkio_issue_track(rq);
	return 0;
}

static __always_inline int on_done(struct request *rq, __u32 status, __u32 nr_bytes, bool all_done)
{
	struct lmp_blkio_rq *r = blkio_done(rq, nr_bytes, all_done);
	struct lmp_blkio_key key = {};
	struct lmp_biolatency_val *v;
	__u64 now = bpf_ktime_get_ns();

	if (!r)
		return 0;
	key.cgroup_id = r->cgroup_id;
	key.dev = r->dev;
	v = lmp_map_lookup_or_init(&hists, &key, &zero_val);
	if (v) {
		/* without a seen start the queue time is unknown, not zero: leave it out */
		if (r->flags & LMP_BLKIO_F_STARTED)
			lmp_hist_add(&v->queue, r->issue_ns - r->start_ns);
		lmp_hist_add(&v->latency, now - (cfg_queued ? r->start_ns : r->issue_ns));
	}
	blkio_release((__u64)rq, r);
	return 0;
}

LMP_BLKIO_COMPLETION_PROGS

char LICENSE[] SEC("license") = "GPL";

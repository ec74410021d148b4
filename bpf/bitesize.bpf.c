// SPDX-License-Identifier: GPL-2.0-only
/*
 * bitesize: block I/O request sizes as a log2 histogram in bytes per (cgroup, disk),
 * aggregated in the kernel and drained by the agent every interval. The size is read at
 * issue, after every merge; zero-byte requests (flushes) carry no data and are left out.
 *
 * Hooks, best first (bpf/blkio.bpf.h has the request tracking and the attribution rule):
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start >
 *          tp_btf/raw_tp block_rq_insert   (only to learn the submitter's cgroup)
 *   issue: tp_btf/raw_tp block_rq_issue
 */
#include "vmlinux.h"
#include "lmp/bitesize.h"
#define LMP_BLKIO_ME LMP_BLKIO_USER_BITESIZE
#include "blkio.bpf.h"

LMP_BLKIO_AGG_MAP(sizes, struct lmp_hist);

static const struct lmp_hist zero_hist;

static __always_inline int on_issue(struct request *rq)
{
	struct lmp_blkio_key key = {};
	struct lmp_blkio_rq r = {};
	struct lmp_hist *h;

	if (!blkio_issue_once(rq, &r) || !r.bytes)
		return 0;
	key.cgroup_id = r.cgroup_id;
	key.dev = r.dev;
	h = lmp_map_lookup_or_init(&sizes, &key, &zero_hist);
	if (h)
		lmp_hist_add(h, r.bytes);
	return 0;
}

LMP_BLKIO_START_PROGS
LMP_BLKIO_ISSUE_PROGS

char LICENSE[] SEC("license") = "GPL";

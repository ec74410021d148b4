// SPDX-License-Identifier: GPL-2.0-only
/*
 * biosnoop: one event per completed block I/O request (disk, sector, bytes, op and flags,
 * queue and service time, submitter pid/comm, charged cgroup), streamed through the ring
 * buffer. Only requests whose queue + service time reaches --biosnoop-min-latency-us are
 * sent, so a busy disk does not flood the ring buffer with fast I/O.
 *
 * Hooks, best first (bpf/blkio.bpf.h has the request tracking and the attribution rule):
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start >
 *          tp_btf/raw_tp block_rq_insert
 *   issue: tp_btf/raw_tp block_rq_issue
 *   done:  tp_btf/raw_tp block_rq_complete > fentry/kprobe blk_account_io_done
 * libbpf-tools' biosnoop needs fentry/kprobe on blk_account_io_start; the block_io_start
 * tracepoint makes it work where neither is available.
 */
#include "vmlinux.h"
#include "lmp/biosnoop.h"
#define LMP_BLKIO_ME LMP_BLKIO_USER_BIOSNOOP
#include "blkio.bpf.h"

_Static_assert(sizeof(struct lmp_biosnoop_event) == 88, "biosnoop record ABI");

const volatile __u64 cfg_min_ns = 0; /* queue + service threshold */

/* attached only in the first block probe that reads completions: it serves them all */
static __always_inline int on_issue(struct request *rq)
{
	blkio_issue_track(rq);
	return 0;
}

static __always_inline int on_done(struct request *rq, __u32 status, __u32 nr_bytes, bool all_done)
{
	struct lmp_blkio_rq *r = blkio_done(rq, nr_bytes, all_done);
	struct lmp_biosnoop_event *e;
	__u64 now = bpf_ktime_get_ns();

	if (!r)
		return 0;
	if (now - r->start_ns < cfg_min_ns)
		goto out;
	e = lmp_event_reserve(sizeof(*e), LMP_BIOSNOOP_IO);
	if (!e)
		goto out;
	/* completion runs in whatever context the driver completes in: the header names the
	 * submitter recorded at start instead */
	e->hdr.cgroup_id = r->cgroup_id;
	e->hdr.pid = r->pid;
	e->hdr.tid = r->tid;
	e->hdr.uid = r->uid;
	__builtin_memcpy(e->hdr.comm, r->comm, sizeof(e->hdr.comm));
	e->sector = r->sector;
	e->latency_ns = now - r->issue_ns;
	e->queue_ns = (r->flags & LMP_BLKIO_F_STARTED) ? r->issue_ns - r->start_ns : 0;
	e->bytes = r->bytes;
	e->dev = r->dev;
	e->flags = r->flags & (LMP_BLKIO_F_REQ_MASK | LMP_BLKIO_F_STARTED);
	e->status = status;
	lmp_event_submit(e);
out:
	blkio_release((__u64)rq, r);
	return 0;
}

LMP_BLKIO_COMPLETION_PROGS

char LICENSE[] SEC("license") = "GPL";

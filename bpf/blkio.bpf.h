/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Request tracking shared by the block I/O probes (biolatency, biopattern, biosnoop,
 * bitesize). Each probe is its own object, so each gets its own copy of the in-flight map;
 * the helpers and hook wrappers below are written once.
 *
 * Life of a request as these probes see it, keyed by its `struct request *`:
 *   start: the request is created from a bio (block_io_start, 6.5+) or, on older kernels,
 *          accounted (blk_account_io_start via fentry/kprobe) or inserted into a queue
 *          (block_rq_insert: misses requests issued directly, which then start at issue).
 *          The cgroup is resolved here, while the submitting task is current.
 *   issue: handed to the driver (block_rq_issue). Sector, size and flags are read here:
 *          merges before issue can still grow the request after its start.
 *   done:  the device completed it (block_rq_complete; blk_account_io_done via
 *          fentry/kprobe as a last resort). Partial completions are skipped until the
 *          last byte.
 *
 * Only raw-pointer hooks are offered (tp_btf, raw_tp, fentry, kprobe): the classic
 * tracepoint records of the block events carry dev/sector but not the request pointer, and
 * raw_tp (4.17) is older than the ring buffer (5.8) lmp needs anyway, so a tp/ variant
 * would never be chosen.
 *
 * Attribution (DESIGN.md rule 2): I/O is charged to the bio's blkcg when that cgroup lives
 * in the v2 hierarchy and the submitting task is not inside it (writeback by a flusher
 * thread, I/O a kworker issues on a cgroup's behalf). When the submitter is inside the
 * blkcg's subtree, its own v2 cgroup is the same answer, only more precise (the io
 * controller is often enabled down to the pod, not the container). When the blkcg belongs
 * to a v1 blkio hierarchy (hybrid hosts like the dev machines) its id is not a v2 id, and
 * the submitting task's v2 cgroup is used instead.
 */
#ifndef LMP_BLKIO_BPF_H
#define LMP_BLKIO_BPF_H

#include "lmp/blkio.h"

#ifndef LMP_BLKIO_WANT_TASK
/* biosnoop sets 1: keep the submitter's pid/comm, and sector, size and flags at issue */
#define LMP_BLKIO_WANT_TASK 0
#endif

/* more than the requests a node keeps in flight; LRU so a missed completion cannot leak */
#define LMP_BLKIO_INFLIGHT 10240
/* deepest cgroup nesting followed when comparing a task's cgroup with a blkcg's */
#define LMP_BLKIO_MAX_DEPTH 32
/* (cgroup, disk) pairs seen in one interval, drained each interval: containers x busy disks
 * of a node fit with room; beyond, updates fail and are counted as map-full */
#define LMP_BLKIO_AGG_ENTRIES 4096

/*
 * 0 when the agent found the io controller outside cgroup v2 (hybrid hosts: v1 blkio):
 * every blkcg is then a v1 cgroup, and reading it per request would only cost time.
 */
const volatile __u32 cfg_blkcg_v2 = 1;

/* lmp_blkio_rq.flags bit: the agent's own I/O, tracked only so that it is not re-created */
#define LMP_BLKIO_F_SKIP (1U << 25)

struct lmp_blkio_rq {
	__u64 start_ns; /* bpf_ktime_get_ns() at start, or at issue when start was not seen */
	__u64 issue_ns; /* 0 until issued */
	__u64 cgroup_id;
	__u64 sector; /* at issue, 512-byte units */
	__u32 bytes;  /* at issue */
	__u32 dev;
	__u32 flags; /* LMP_BLKIO_OP_* | LMP_BLKIO_F_* */
	__u32 pid;   /* submitter, when LMP_BLKIO_WANT_TASK */
	__u32 tid;
	__u32 uid;
	char comm[LMP_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LMP_BLKIO_INFLIGHT);
	__type(key, __u64); /* struct request * */
	__type(value, struct lmp_blkio_rq);
} inflight SEC(".maps");

/* rq->rq_disk was removed in 5.16 by f3fa33acca9f ("block: remove the ->rq_disk field in
 * struct request"); from then on the disk is rq->q->disk. */
struct request___has_rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline __u32 blkio_dev(struct request *rq)
{
	struct request___has_rq_disk *old = (void *)rq;
	struct gendisk *disk;

	if (bpf_core_field_exists(old->rq_disk))
		disk = BPF_CORE_READ(old, rq_disk);
	else
		disk = BPF_CORE_READ(rq, q, disk);
	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << LMP_BLKIO_MINORBITS) |
	       (__u32)BPF_CORE_READ(disk, first_minor);
}

/* one kernel REQ_* modifier, located through CO-RE because its bit moves between releases */
#define BLKIO_REQ_FLAG(opf, name, ours)                                                        \
	(bpf_core_enum_value_exists(enum req_flag_bits, __REQ_##name) &&                        \
			 ((opf) >> bpf_core_enum_value(enum req_flag_bits, __REQ_##name)) & 1 ?  \
		 (ours) :                                                                       \
		 0)

static __always_inline __u32 blkio_flags(struct request *rq)
{
	__u32 opf = BPF_CORE_READ(rq, cmd_flags);
	__u32 op = opf & LMP_BLKIO_OP_MASK, f;

	switch (op) {
	case LMP_BLKIO_OP_READ:
	case LMP_BLKIO_OP_WRITE:
	case LMP_BLKIO_OP_FLUSH:
	case LMP_BLKIO_OP_DISCARD:
	case LMP_BLKIO_OP_SECURE_ERASE:
	case LMP_BLKIO_OP_WRITE_ZEROES:
		f = op;
		break;
	default:
		f = LMP_BLKIO_OP_OTHER;
	}
	f |= BLKIO_REQ_FLAG(opf, SYNC, LMP_BLKIO_F_SYNC);
	f |= BLKIO_REQ_FLAG(opf, META, LMP_BLKIO_F_META);
	f |= BLKIO_REQ_FLAG(opf, PRIO, LMP_BLKIO_F_PRIO);
	f |= BLKIO_REQ_FLAG(opf, FUA, LMP_BLKIO_F_FUA);
	f |= BLKIO_REQ_FLAG(opf, PREFLUSH, LMP_BLKIO_F_PREFLUSH);
	f |= BLKIO_REQ_FLAG(opf, RAHEAD, LMP_BLKIO_F_RAHEAD);
	f |= BLKIO_REQ_FLAG(opf, BACKGROUND, LMP_BLKIO_F_BACKGROUND);
	f |= BLKIO_REQ_FLAG(opf, NOWAIT, LMP_BLKIO_F_NOWAIT);
	return f;
}

/* The cgroup an I/O is charged to; see the head comment. Call in the submitter's context. */
static __always_inline __u64 blkio_charge_cgroup(struct request *rq)
{
	__u64 task_cg = bpf_get_current_cgroup_id();
	struct cgroup *blk_cg, *task_dfl;
	struct task_struct *task;
	int level, task_level;

	/* no bi_blkg without CONFIG_BLK_CGROUP */
	if (!cfg_blkcg_v2 || !bpf_core_field_exists(struct bio, bi_blkg))
		return task_cg;
	blk_cg = BPF_CORE_READ(rq, bio, bi_blkg, blkcg, css.cgroup);
	if (!blk_cg) /* no bio (flush, passthrough) or no blkg */
		return task_cg;
	/* the v2 (default) hierarchy is the one every task's css_set->dfl_cgrp lives in */
	task = (struct task_struct *)bpf_get_current_task();
	task_dfl = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!task_dfl || BPF_CORE_READ(blk_cg, root) != BPF_CORE_READ(task_dfl, root))
		return task_cg; /* blkcg from a v1 blkio hierarchy: its id is not a v2 id */
	/*
	 * Is the submitter inside the blkcg's subtree? Walk up from its v2 cgroup to the blkcg's
	 * level. (bpf_get_current_ancestor_cgroup_id() would do it, but not every kernel since
	 * 5.8 offers it to tracing programs.)
	 */
	level = BPF_CORE_READ(blk_cg, level);
	task_level = BPF_CORE_READ(task_dfl, level);
	for (int i = 0; i < LMP_BLKIO_MAX_DEPTH && task_level > level; i++, task_level--)
		task_dfl = BPF_CORE_READ(task_dfl, self.parent, cgroup);
	if (task_level == level && task_dfl == blk_cg)
		return task_cg; /* its own cgroup is the same answer, only finer */
	/* kernfs_node->id is a u64 since 5.5; lmp needs 5.8 (ring buffer) anyway */
	return BPF_CORE_READ(blk_cg, kn, id);
}

static __always_inline void blkio_fill(struct lmp_blkio_rq *r, struct request *rq, __u64 now,
				       __u32 flags)
{
	r->start_ns = now;
	r->cgroup_id = blkio_charge_cgroup(rq);
	r->flags = flags;
	if (LMP_BLKIO_WANT_TASK) {
		__u64 id = bpf_get_current_pid_tgid();

		r->pid = id >> 32;
		r->tid = (__u32)id;
		r->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(r->comm, sizeof(r->comm));
	}
}

/* start: a new request (or a recycled struct request) begins; replaces any stale entry */
static __always_inline int blkio_start(struct request *rq)
{
	struct lmp_blkio_rq r = {};
	__u64 key = (__u64)rq;

	if (lmp_is_self())
		r.flags = LMP_BLKIO_F_SKIP;
	else
		blkio_fill(&r, rq, bpf_ktime_get_ns(), LMP_BLKIO_F_STARTED);
	if (bpf_map_update_elem(&inflight, &key, &r, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

/*
 * issue, for the probes that keep tracking until completion: record issue time and disk
 * (and, for biosnoop, sector, size, flags); create the entry when the start was not seen.
 * NULL when the map refused it (counted) or the request is the agent's own.
 */
static __always_inline struct lmp_blkio_rq *blkio_issue_track(struct request *rq)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&inflight, &key);

	if (!r) {
		struct lmp_blkio_rq init = {};

		if (lmp_is_self())
			return NULL;
		blkio_fill(&init, rq, now, 0);
		if (bpf_map_update_elem(&inflight, &key, &init, BPF_ANY)) {
			lmp_count_drop(LMP_DROP_MAPFULL);
			return NULL;
		}
		r = bpf_map_lookup_elem(&inflight, &key);
		if (!r)
			return NULL;
	}
	if (r->flags & LMP_BLKIO_F_SKIP)
		return NULL;
	r->issue_ns = now;
	r->dev = blkio_dev(rq);
	if (LMP_BLKIO_WANT_TASK) { /* only biosnoop reports them: spare biolatency the reads */
		r->sector = BPF_CORE_READ(rq, __sector);
		r->bytes = BPF_CORE_READ(rq, __data_len);
		r->flags = (r->flags & LMP_BLKIO_F_STARTED) | blkio_flags(rq);
	}
	return r;
}

/*
 * issue, for the probes that need nothing after it (bitesize, biopattern): fill *out with
 * the cgroup, sector, size and disk (not the op flags: they do not use them) and forget the
 * request. Returns false for the agent's own I/O.
 */
static __always_inline bool blkio_issue_once(struct request *rq, struct lmp_blkio_rq *out)
{
	__u64 key = (__u64)rq;
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&inflight, &key);

	if (r) {
		if (r->flags & LMP_BLKIO_F_SKIP) {
			bpf_map_delete_elem(&inflight, &key);
			return false;
		}
		out->start_ns = r->start_ns;
		out->cgroup_id = r->cgroup_id;
		out->flags = r->flags & LMP_BLKIO_F_STARTED;
		bpf_map_delete_elem(&inflight, &key);
	} else {
		if (lmp_is_self())
			return false;
		blkio_fill(out, rq, bpf_ktime_get_ns(), 0);
	}
	out->sector = BPF_CORE_READ(rq, __sector);
	out->bytes = BPF_CORE_READ(rq, __data_len);
	out->dev = blkio_dev(rq);
	return true;
}

/*
 * done: the issued request's entry once its last byte completed, else NULL. nr_bytes is what
 * this completion covers (block_rq_complete, which fires before the request's remaining
 * size is reduced); all_done says the hook only fires for whole requests. The caller
 * deletes the entry with blkio_forget() when finished with it.
 */
static __always_inline struct lmp_blkio_rq *blkio_done(struct request *rq, __u32 nr_bytes,
						       bool all_done)
{
	__u64 key = (__u64)rq;
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&inflight, &key);

	if (!r)
		return NULL;
	if (!all_done && nr_bytes < BPF_CORE_READ(rq, __data_len))
		return NULL; /* partial completion: the rest follows */
	if (!r->issue_ns || (r->flags & LMP_BLKIO_F_SKIP)) {
		bpf_map_delete_elem(&inflight, &key);
		return NULL; /* never issued while we watched, or the agent's own */
	}
	return r;
}

static __always_inline void blkio_forget(struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(&inflight, &key);
}

extern __u32 LINUX_KERNEL_VERSION __kconfig;

/*
 * The request argument of block_rq_insert and block_rq_issue: a54895fa057c ("block: remove
 * the request_queue to argument request based tracepoints", 5.11) dropped the queue that
 * came first before. The branch on a .kconfig constant is pruned by the verifier, so the
 * dead ctx[1] read never meets a one-argument tracepoint.
 */
static __always_inline struct request *blkio_rq_arg(unsigned long long *ctx)
{
	if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 11, 0))
		return (struct request *)ctx[0];
	return (struct request *)ctx[1];
}

/*
 * The hook wrappers, identical in every block probe; the agent side lists them in the same
 * order (agent/probes/blkio.h). Alternatives per group, best first:
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start
 *          (before 6.5, when the function is not inlined) > tp_btf/raw_tp block_rq_insert
 *   issue: tp_btf/raw_tp block_rq_issue
 *   done:  tp_btf/raw_tp block_rq_complete > fentry/kprobe blk_account_io_done
 * ISSUE and DONE call the probe's own on_issue(rq) / on_done(rq, status, nr_bytes, all_done).
 */
#define LMP_BLKIO_START_PROGS                                                                  \
	SEC("tp_btf/block_io_start")                                                           \
	int BPF_PROG(tp_btf_block_io_start, struct request *rq)                                \
	{                                                                                      \
		return blkio_start(rq);                                                        \
	}                                                                                      \
	SEC("raw_tp/block_io_start")                                                           \
	int BPF_PROG(raw_tp_block_io_start, struct request *rq)                                \
	{                                                                                      \
		return blkio_start(rq);                                                        \
	}                                                                                      \
	SEC("fentry/blk_account_io_start")                                                     \
	int BPF_PROG(fentry_blk_account_io_start, struct request *rq)                          \
	{                                                                                      \
		return blkio_start(rq);                                                        \
	}                                                                                      \
	SEC("kprobe/blk_account_io_start")                                                     \
	int BPF_KPROBE(kprobe_blk_account_io_start, struct request *rq)                        \
	{                                                                                      \
		return blkio_start(rq);                                                        \
	}                                                                                      \
	SEC("tp_btf/block_rq_insert")                                                          \
	int BPF_PROG(tp_btf_block_rq_insert)                                                   \
	{                                                                                      \
		return blkio_start(blkio_rq_arg(ctx));                                         \
	}                                                                                      \
	SEC("raw_tp/block_rq_insert")                                                          \
	int BPF_PROG(raw_tp_block_rq_insert)                                                   \
	{                                                                                      \
		return blkio_start(blkio_rq_arg(ctx));                                         \
	}

#define LMP_BLKIO_ISSUE_PROGS                                                                  \
	SEC("tp_btf/block_rq_issue")                                                           \
	int BPF_PROG(tp_btf_block_rq_issue)                                                    \
	{                                                                                      \
		return on_issue(blkio_rq_arg(ctx));                                            \
	}                                                                                      \
	SEC("raw_tp/block_rq_issue")                                                           \
	int BPF_PROG(raw_tp_block_rq_issue)                                                    \
	{                                                                                      \
		return on_issue(blkio_rq_arg(ctx));                                            \
	}

#define LMP_BLKIO_DONE_PROGS                                                                   \
	SEC("tp_btf/block_rq_complete")                                                        \
	int BPF_PROG(tp_btf_block_rq_complete, struct request *rq, int status,                 \
		     unsigned int nr_bytes)                                                    \
	{                                                                                      \
		return on_done(rq, status & 0xff, nr_bytes, false);                            \
	}                                                                                      \
	SEC("raw_tp/block_rq_complete")                                                        \
	int BPF_PROG(raw_tp_block_rq_complete, struct request *rq, int status,                 \
		     unsigned int nr_bytes)                                                    \
	{                                                                                      \
		return on_done(rq, status & 0xff, nr_bytes, false);                            \
	}                                                                                      \
	SEC("fentry/blk_account_io_done")                                                      \
	int BPF_PROG(fentry_blk_account_io_done, struct request *rq)                           \
	{                                                                                      \
		return on_done(rq, 0, 0, true);                                                \
	}                                                                                      \
	SEC("kprobe/blk_account_io_done")                                                      \
	int BPF_KPROBE(kprobe_blk_account_io_done, struct request *rq)                         \
	{                                                                                      \
		return on_done(rq, 0, 0, true);                                                \
	}

#endif /* LMP_BLKIO_BPF_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a block request says about itself, for the block probes (blkio.bpf.h's four and
 * biostacks): its disk, and the cgroup its I/O is charged to.
 */
#ifndef LMP_REQUEST_BPF_H
#define LMP_REQUEST_BPF_H

#include <bpf/bpf_core_read.h>

#define LMP_RQ_MAX_DEPTH 32 /* cgroup levels walked */

/* rq->rq_disk was removed in 5.16 by f3fa33acca9f ("block: remove the ->rq_disk field in
 * struct request"); from then on the disk is rq->q->disk. */
struct request___has_rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

/* The disk as major << minorbits | first minor; 0 when there is none. */
static __always_inline __u32 lmp_rq_dev(struct request *rq, int minorbits)
{
	struct request___has_rq_disk *old = (void *)rq;
	struct gendisk *disk;

	if (bpf_core_field_exists(old->rq_disk))
		disk = BPF_CORE_READ(old, rq_disk);
	else
		disk = BPF_CORE_READ(rq, q, disk);
	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << minorbits) |
	       (__u32)BPF_CORE_READ(disk, first_minor);
}

/*
 * Who the I/O is charged to: the bio's blkcg when it is a non-root cgroup of the v2
 * hierarchy that the submitter is not inside (writeback, kworkers acting for a cgroup);
 * otherwise the submitting task's own v2 cgroup. A blkcg from a v1 blkio hierarchy (hybrid
 * hosts) has an id that means nothing in v2, so it is not used. Call in the submitter's
 * context.
 */
static __always_inline __u64 lmp_rq_charge_cgroup(struct request *rq)
{
	__u64 task_cg = bpf_get_current_cgroup_id();
	struct cgroup *blk_cg, *task_dfl;
	struct task_struct *task;
	int level, task_level;

	/* no bi_blkg without CONFIG_BLK_CGROUP */
	if (!bpf_core_field_exists(struct bio, bi_blkg))
		return task_cg;
	blk_cg = BPF_CORE_READ(rq, bio, bi_blkg, blkcg, css.cgroup);
	if (!blk_cg) /* no bio (flush, passthrough) or no blkg */
		return task_cg;
	/* the v2 (default) hierarchy is the one every task's css_set->dfl_cgrp lives in */
	task = (struct task_struct *)bpf_get_current_task();
	task_dfl = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!task_dfl || BPF_CORE_READ(blk_cg, root) != BPF_CORE_READ(task_dfl, root))
		return task_cg; /* blkcg from a v1 blkio hierarchy: its id is not a v2 id */
	level = BPF_CORE_READ(blk_cg, level);
	if (level == 0)
		return task_cg;
	/*
	 * Is the submitter inside the blkcg's subtree? Walked up by hand: not every kernel
	 * offers bpf_get_current_ancestor_cgroup_id() to tracing programs (5.10 refuses the
	 * object).
	 */
	task_level = BPF_CORE_READ(task_dfl, level);
	for (int i = 0; i < LMP_RQ_MAX_DEPTH && task_level > level; i++, task_level--)
		task_dfl = BPF_CORE_READ(task_dfl, self.parent, cgroup);
	if (task_level == level && task_dfl == blk_cg)
		return task_cg; /* its own cgroup is the same answer, only finer */
	/* kernfs_node->id is a u64 since 5.5; lmp needs 5.8 (ring buffer) anyway */
	return BPF_CORE_READ(blk_cg, kn, id);
}

#endif /* LMP_REQUEST_BPF_H */

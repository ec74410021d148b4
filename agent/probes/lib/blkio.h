/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-space helpers shared by the block I/O probes (biolatency, biopattern, biosnoop,
 * bitesize): their hook rows (matching the wrappers of bpf/blkio.bpf.h), disk names, the
 * request flags as text, and the per-interval row table.
 */
#ifndef LMP_PROBES_BLKIO_H
#define LMP_PROBES_BLKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lmp/blkio.h"
#include "probe/probe.h"

/* Alternatives per group, best first; see bpf/blkio.bpf.h for why in this order. */
#define LMP_BLKIO_HOOKS_START                                                                   \
	{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_io_start", "block_io_start" },                \
		{ "start", LMP_HOOK_RAW_TP, "raw_tp_block_io_start", "block_io_start" },        \
		{ "start", LMP_HOOK_FENTRY, "fentry_blk_account_io_start",                      \
		  "blk_account_io_start" },                                                     \
		{ "start", LMP_HOOK_KPROBE, "kprobe_blk_account_io_start",                      \
		  "blk_account_io_start" },                                                     \
		{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_rq_insert", "block_rq_insert", 1 },   \
		{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_rq_insert_q", "block_rq_insert", 2 }, \
		{ "start", LMP_HOOK_RAW_TP, "raw_tp_block_rq_insert", "block_rq_insert", 1 },   \
	{                                                                                       \
		"start", LMP_HOOK_RAW_TP, "raw_tp_block_rq_insert_q", "block_rq_insert", 2      \
	}

#define LMP_BLKIO_HOOKS_ISSUE                                                                 \
	{ "issue", LMP_HOOK_TP_BTF, "tp_btf_block_rq_issue", "block_rq_issue", 1 },           \
		{ "issue", LMP_HOOK_TP_BTF, "tp_btf_block_rq_issue_q", "block_rq_issue", 2 }, \
		{ "issue", LMP_HOOK_RAW_TP, "raw_tp_block_rq_issue", "block_rq_issue", 1 },   \
	{                                                                                     \
		"issue", LMP_HOOK_RAW_TP, "raw_tp_block_rq_issue_q", "block_rq_issue", 2      \
	}

#define LMP_BLKIO_HOOKS_DONE                                                                      \
	{ "done", LMP_HOOK_TP_BTF, "tp_btf_block_rq_complete", "block_rq_complete" },             \
		{ "done", LMP_HOOK_RAW_TP, "raw_tp_block_rq_complete", "block_rq_complete" },     \
		{ "done", LMP_HOOK_FENTRY, "fentry_blk_account_io_done", "blk_account_io_done" }, \
	{                                                                                         \
		"done", LMP_HOOK_KPROBE, "kprobe_blk_account_io_done", "blk_account_io_done"      \
	}

/*
 * The request tracking the block probes share (bpf/blkio.bpf.h has the why;
 * agent/probes/lib/blkio_share.c). Called from a block probe's configure(), before load: the
 * probe's object reuses the agent's one blkio_inflight and blkio_users maps (created when
 * the first block probe joins); it keeps its start programs only when no block probe that
 * joined before has them, and, when it reads requests at completion (at_done), its issue
 * programs only when no such probe joined before. It is counted in blkio_users as letting
 * go of requests at issue or at completion, and as reporting the submitter (want_task).
 * p->attach then names the probe whose hooks serve it ("start=shared:biolatency").
 * Returns 0 or -errno. lmp_blkio_leave() (the probe's cleanup) undoes it; the maps go
 * with the last probe.
 */
int lmp_blkio_join(struct lmp_probe *p, struct bpf_object *obj, bool at_done, bool want_task);
void lmp_blkio_leave(struct lmp_probe *p);

#define LMP_BLKIO_DISK_LEN 32

/*
 * Name of the disk dev (MKDEV layout) as udev names it: DEVNAME of
 * <sysfs>/dev/block/M:m/uevent. Returns 0, or -errno (-ENOENT when the device is gone).
 * sysfs is the sysfs mount ("/sys"), a parameter so tests can use a fake tree.
 */
int lmp_blkio_read_devname(const char *sysfs, __u32 dev, char *name, size_t len);

/*
 * The same through a small cache (entries re-read after a minute, so a reused device
 * number picks up its new name). Never fails: an unknown device reads "M:m". The string
 * stays valid until the next call.
 */
const char *lmp_blkio_disk_name(__u32 dev);

/*
 * Is the io (blkio) controller on the cgroup v2 hierarchy? Reads cgroup.controllers of the v2
 * mount (cgroup_root, or the one /proc/self/mountinfo shows). When it is not (hybrid hosts
 * with v1 blkio), the BPF side skips reading each request's blkcg (cfg_blkcg_v2 = 0). When in
 * doubt the answer is true: the BPF side then checks every blkcg's hierarchy itself.
 */
bool lmp_blkio_io_on_v2(const char *cgroup_root);
/* the same for a given v2 mount's cgroup.controllers text ("cpuset cpu io memory pids") */
bool lmp_blkio_controllers_have_io(const char *controllers);

/* "read", "write", "flush", "discard", "secure_erase", "write_zeroes", "other" */
const char *lmp_blkio_op_name(__u32 flags);

/*
 * The kernel's rwbs notation (as blktrace and the block tracepoints print it): F before the
 * op for a preflush, the op (R, W, D, DE, F, N), then F for FUA, A readahead, S sync,
 * M metadata. buf must hold 8 bytes.
 */
void lmp_blkio_rwbs(__u32 flags, char buf[8]);

/* errno-style name of a blk_status_t ("EIO" for BLK_STS_IOERR); NULL for 0 (success) */
const char *lmp_blkio_status_name(__u32 status);

/*
 * Rows of one interval: what a probe drained from its (cgroup, disk) map, one value of
 * vsize bytes per (cgroup, dev). lmp_blkio_rows_get() finds or appends a zeroed row.
 */
struct lmp_blkio_row {
	__u64 cgroup_id;
	__u32 dev;
	__u64 weight; /* sort key for the top-N summary (e.g. request count) */
	void *val;
};

struct lmp_blkio_rows {
	struct lmp_blkio_row *rows;
	size_t n, cap;
	size_t *index; /* open addressing over rows, index_cap slots, (size_t)-1 = empty */
	size_t index_cap;
	size_t vsize;
	bool oom; /* a row could not be allocated: that interval is incomplete */
};

void lmp_blkio_rows_init(struct lmp_blkio_rows *r, size_t vsize);
void *lmp_blkio_rows_get(struct lmp_blkio_rows *r, __u64 cgroup_id, __u32 dev);
/* sort by weight, largest first (ties: cgroup id, dev) */
void lmp_blkio_rows_sort(struct lmp_blkio_rows *r);
void lmp_blkio_rows_free(struct lmp_blkio_rows *r);

#endif /* LMP_PROBES_BLKIO_H */

/* SPDX-License-Identifier: Apache-2.0 */
/* What the block I/O probes share in user space (docs/probes/block-io.md). */
#ifndef LMP_PROBES_BLKIO_H
#define LMP_PROBES_BLKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lmp/blkio.h"
#include "probe/probe.h"

/* best first; bpf/blkio.bpf.h says why */
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
 * From configure(), before load: share the agent's one request tracking
 * (docs/probes/block-io.md). The object reuses the shared maps and keeps only the start
 * (and, with at_done, issue) programs no earlier probe has. 0 or -errno.
 * lmp_blkio_leave() (from cleanup) undoes it; the maps go with the last probe.
 */
int lmp_blkio_join(struct lmp_probe *p, struct bpf_object *obj, bool at_done, bool want_task);
void lmp_blkio_leave(struct lmp_probe *p);

#define LMP_BLKIO_DISK_LEN 32

/* DEVNAME of <sysfs>/dev/block/M:m/uevent; -ENOENT when the device is gone */
int lmp_blkio_read_devname(const char *sysfs, __u32 dev, char *name, size_t len);

/*
 * Cached, re-read now and then since device numbers are reused. An unknown device reads
 * "M:m". Valid until the next call.
 */
const char *lmp_blkio_disk_name(__u32 dev);

/*
 * Whether the io controller is on v2 (else the BPF side skips each request's blkcg). True
 * when in doubt: the BPF side then checks each blkcg's hierarchy itself.
 */
bool lmp_blkio_io_on_v2(const char *cgroup_root);
/* from cgroup.controllers text */
bool lmp_blkio_controllers_have_io(const char *controllers);

const char *lmp_blkio_op_name(__u32 flags);

/* the rwbs notation of blktrace and the block tracepoints */
void lmp_blkio_rwbs(__u32 flags, char buf[8]);

/* "EIO" for BLK_STS_IOERR; NULL for success */
const char *lmp_blkio_status_name(__u32 status);

/* one interval's rows, a value of vsize bytes per (cgroup, dev) */
struct lmp_blkio_row {
	__u64 cgroup_id;
	__u32 dev;
	__u64 weight; /* sort key of the top-N summary */
	void *val;
};

struct lmp_blkio_rows {
	struct lmp_blkio_row *rows;
	size_t n, cap;
	size_t *index; /* open addressing, (size_t)-1 = empty */
	size_t index_cap;
	size_t vsize;
	bool oom; /* the interval is incomplete */
};

void lmp_blkio_rows_init(struct lmp_blkio_rows *r, size_t vsize);
/* finds or appends a zeroed row */
void *lmp_blkio_rows_get(struct lmp_blkio_rows *r, __u64 cgroup_id, __u32 dev);
/* largest weight first */
void lmp_blkio_rows_sort(struct lmp_blkio_rows *r);
void lmp_blkio_rows_free(struct lmp_blkio_rows *r);

#endif /* LMP_PROBES_BLKIO_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the block I/O probes (biolatency, biopattern, biosnoop, bitesize) share between the
 * BPF side and the agent: the (cgroup, disk) key of their aggregation maps, the request
 * flags, decoded in BPF into bits of our own because the kernel's REQ_* bit positions move
 * between releases, and the values of the in-flight and users maps they share.
 */
#ifndef LMP_BLKIO_H
#define LMP_BLKIO_H

#include "lmp/event.h"

/* dev as the kernel's MKDEV(): major in the top 12 bits, minor in the low 20 */
#define LMP_BLKIO_MINORBITS 20
#define LMP_BLKIO_MAJOR(dev) ((dev) >> LMP_BLKIO_MINORBITS)
#define LMP_BLKIO_MINOR(dev) ((dev) & ((1U << LMP_BLKIO_MINORBITS) - 1))

/* Key of the per-(cgroup, disk) aggregation maps. */
struct lmp_blkio_key {
	__u64 cgroup_id; /* cgroup v2 id the I/O is charged to */
	__u32 dev;	 /* whole disk, MKDEV(major, first_minor) */
	__u32 aux;	 /* 0; room for a per-probe sub-key without changing the layout */
};

/* Operation (low 8 bits of lmp flags), as in the kernel's enum req_op. */
enum lmp_blkio_op {
	LMP_BLKIO_OP_READ = 0,
	LMP_BLKIO_OP_WRITE = 1,
	LMP_BLKIO_OP_FLUSH = 2,
	LMP_BLKIO_OP_DISCARD = 3,
	LMP_BLKIO_OP_SECURE_ERASE = 5,
	LMP_BLKIO_OP_WRITE_ZEROES = 9,
	LMP_BLKIO_OP_OTHER = 0xff, /* zone management, driver private, unknown */
};

#define LMP_BLKIO_OP_MASK 0xffU

/* Modifier bits above the op, each the kernel's REQ_<name> resolved through CO-RE. */
#define LMP_BLKIO_F_SYNC (1U << 8)
#define LMP_BLKIO_F_META (1U << 9)
#define LMP_BLKIO_F_PRIO (1U << 10)
#define LMP_BLKIO_F_FUA (1U << 11)
#define LMP_BLKIO_F_PREFLUSH (1U << 12)
#define LMP_BLKIO_F_RAHEAD (1U << 13)
#define LMP_BLKIO_F_BACKGROUND (1U << 14)
#define LMP_BLKIO_F_NOWAIT (1U << 15)
/* the request's own bits above: op and modifiers */
#define LMP_BLKIO_F_REQ_MASK 0xffffU
/* lmp's own: the request's start (creation / insertion) was seen, so queue time is known */
#define LMP_BLKIO_F_STARTED (1U << 24)

/*
 * The block probes share one map of requests in flight (bpf/blkio.bpf.h,
 * agent/probes/lib/blkio_share.c). Each has a bit in a request's flags that says it is finished
 * with the request, so that it lets go of it once even when a requeued request is issued
 * twice.
 */
enum lmp_blkio_user {
	LMP_BLKIO_USER_BIOLATENCY,
	LMP_BLKIO_USER_BIOSNOOP,
	LMP_BLKIO_USER_BITESIZE,
	LMP_BLKIO_USER_BIOPATTERN,
};
#define LMP_BLKIO_F_RELEASED(user) (1U << (26 + (user)))

/* A request in flight: the value of the shared blkio_inflight map, keyed by struct request *. */
struct lmp_blkio_rq {
	__u64 start_ns; /* bpf_ktime_get_ns() at start, or at issue when start was not seen */
	__u64 issue_ns; /* 0 until issued */
	__u64 cgroup_id;
	__u64 sector; /* at issue, 512-byte units */
	__u32 bytes;  /* at issue */
	__u32 dev;
	__u32 flags; /* LMP_BLKIO_OP_* | LMP_BLKIO_F_* */
	__u32 pid;   /* submitter, when a running probe wants it (want_task) */
	__u32 tid;
	__u32 uid;
	__u32 refs; /* probes that have yet to let go of it (bpf/blkio.bpf.h, head comment) */
	__u32 _pad;
	char comm[LMP_COMM_LEN];
};

/*
 * How many running probes let go of a request at issue (bitesize, biopattern) and at
 * completion (biolatency, biosnoop), and how many report its submitter, sector and flags
 * (biosnoop): the one value of the shared blkio_users array, kept by the agent.
 */
struct lmp_blkio_users {
	__u32 at_issue;
	__u32 at_done;
	__u32 want_task;
	__u32 _pad;
};

#endif /* LMP_BLKIO_H */

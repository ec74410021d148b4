/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * biosnoop: one ring-buffer record per completed request whose queue + service time reached
 * the threshold (--biosnoop-min-latency-us).
 */
#ifndef LMP_BIOSNOOP_H
#define LMP_BIOSNOOP_H

#include "lmp/blkio.h"

enum lmp_biosnoop_type {
	LMP_BIOSNOOP_IO = 0,
};

/* The header's pid/tid/uid/comm are the submitter's (at start), cgroup_id the charged
 * cgroup, ts the completion time. */
struct lmp_biosnoop_event {
	struct lmp_event_hdr hdr;
	__u64 sector;	  /* first sector at issue, 512-byte units */
	__u64 latency_ns; /* issue -> complete */
	__u64 queue_ns;	  /* start -> issue; 0 when the start was not seen (flags) */
	__u32 bytes;
	__u32 dev;    /* MKDEV(major, first_minor) of the disk */
	__u32 flags;  /* LMP_BLKIO_OP_* | LMP_BLKIO_F_* */
	__u32 status; /* blk_status_t of the completion, 0 = ok */
};

#endif /* LMP_BIOSNOOP_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * syscount: per-cgroup, per-syscall call counts, latency histograms (unless counting only)
 * and errors, aggregated in the kernel (bpf/syscount.bpf.c) and drained by the agent every
 * interval.
 */
#ifndef LMP_SYSCOUNT_H
#define LMP_SYSCOUNT_H

#include "lmp/event.h"

/* numbers at or above this (invalid calls, x32's flag bit) share one "other" key */
#define LMP_SYSCOUNT_NR_MAX 1024
#define LMP_SYSCOUNT_NR_OTHER LMP_SYSCOUNT_NR_MAX

struct lmp_syscount_key {
	__u64 cgroup_id; /* cgroup v2 id of the calling task, read at syscall exit */
	__u32 nr;	 /* syscall number of a 64-bit task, or LMP_SYSCOUNT_NR_OTHER */
	__u32 _pad;
};

/* per-CPU value; every member is a __u64, summed over CPUs by the agent */
struct lmp_syscount_val {
	struct lmp_hist lat; /* entry-to-exit time in ns; lat.count = calls that returned */
	__u64 errors;	     /* calls that returned -4095..-1 */
};

/* per-CPU value of the count-only map (--syscount-latency=false): no histogram */
struct lmp_syscount_cnt {
	__u64 calls;  /* calls that returned */
	__u64 errors; /* of those, returned -4095..-1 */
};

struct lmp_syscount_err_key {
	__u64 cgroup_id;
	__u32 err; /* positive errno (ENOENT = 2); kernel-internal ones like 512 included */
	__u32 _pad;
};

#endif /* LMP_SYSCOUNT_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * llcstat: last-level cache references and misses per cgroup, counted by sampling hardware
 * cache events (bpf/llcstat.bpf.c). Map key: cgroup v2 id (__u64).
 */
#ifndef LMP_LLCSTAT_H
#define LMP_LLCSTAT_H

#include "lmp/event.h"

/* per-CPU value; each sample adds the event's sample period, so these estimate counts */
struct lmp_llcstat_val {
	__u64 references;
	__u64 misses;
};

#endif /* LMP_LLCSTAT_H */

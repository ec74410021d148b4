/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * biostacks: block I/O latency (start to completion) per kernel stack that started the
 * request, per cgroup, process and disk. Aggregated in the kernel, drained each interval.
 */
#ifndef LMP_BIOSTACKS_H
#define LMP_BIOSTACKS_H

#include "lmp/event.h"
#include "lmp/stack.h"

/* dev as the kernel encodes dev_t: major << 20 | minor */
#define LMP_BIOSTACKS_MINORBITS 20

struct lmp_biostacks_key {
	__u64 cgroup_id;
	__u32 dev;
	__u32 pid;	/* tgid of the task that started the request */
	__s32 stack_id; /* kernel stack in the stacks map, or -errno from bpf_get_stackid */
	__u32 _pad;
};

struct lmp_biostacks_val {
	struct lmp_hist lat; /* nanoseconds, start to completion */
	char comm[LMP_COMM_LEN];
};

#endif /* LMP_BIOSTACKS_H */

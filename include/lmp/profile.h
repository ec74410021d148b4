/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* profile: on-CPU stack samples, counted in the kernel per (cgroup, process, stacks). */
#ifndef LMP_PROFILE_H
#define LMP_PROFILE_H

#include "lmp/event.h"
#include "lmp/stack.h"

struct lmp_profile_key {
	__u64 cgroup_id;
	__u32 pid;	     /* tgid */
	__s32 user_stack_id; /* id in the stacks map, or -errno from bpf_get_stackid */
	__s32 kernel_stack_id;
	__u32 _pad;
};

struct lmp_profile_val {
	__u64 samples;
	char comm[LMP_COMM_LEN]; /* of the first sampled thread */
};

#endif /* LMP_PROFILE_H */

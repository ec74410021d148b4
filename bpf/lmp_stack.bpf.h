/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stack collection for the probes that record stacks (biostacks, memleak, profile): their
 * stack-trace maps, and a stack id taken with its loss counted. Include after lmp.bpf.h.
 */
#ifndef LMP_STACK_BPF_H
#define LMP_STACK_BPF_H

#include "lmp/stack.h"

#ifndef EFAULT
#define EFAULT 14 /* no stack of that kind (a kernel thread has no user stack) */
#endif

/* A stack-trace map of LMP_STACK_DEPTH frames: `LMP_STACK_MAP(stacks, 8192);` */
#define LMP_STACK_MAP(name, entries)                                 \
	struct {                                                     \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);              \
		__uint(max_entries, entries);                        \
		__type(key, __u32);                                  \
		__uint(value_size, LMP_STACK_DEPTH * sizeof(__u64)); \
	} name SEC(".maps")

/* [0]: stack ids lost (-EEXIST collision, -ENOMEM); what the stack was for still counts */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} stack_errors SEC(".maps");

/* bpf_get_stackid, a lost stack counted (-EFAULT: no stack of that kind, not a loss) */
static __always_inline __s32 lmp_stackid(void *ctx, void *map, __u64 flags)
{
	__s32 id = bpf_get_stackid(ctx, map, flags);
	__u32 zero = 0;
	__u64 *v;

	if (id >= 0 || id == -EFAULT)
		return id;
	v = bpf_map_lookup_elem(&stack_errors, &zero);
	if (v)
		*v += 1;
	lmp_count_drop(LMP_DROP_MAPFULL);
	return id;
}

#endif /* LMP_STACK_BPF_H */

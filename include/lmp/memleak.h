/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * memleak: allocations not yet freed, one map entry per live allocation, with the stack
 * that made it. The agent walks the map each interval and sums by (cgroup, allocator,
 * process, stack).
 */
#ifndef LMP_MEMLEAK_H
#define LMP_MEMLEAK_H

#include "lmp/event.h"
#include "lmp/stack.h"

/* address spaces: a user address is only unique within its process */
enum lmp_memleak_space {
	LMP_MEMLEAK_SPACE_USER = 0,   /* key.pid = tgid */
	LMP_MEMLEAK_SPACE_SLAB = 1,   /* kmalloc and kmem_cache objects (kfree frees both) */
	LMP_MEMLEAK_SPACE_PAGE = 2,   /* struct page * (tp_btf, raw_tp) or pfn (tracepoint) */
	LMP_MEMLEAK_SPACE_PERCPU = 3, /* percpu pointer */
};

enum lmp_memleak_allocator {
	LMP_MEMLEAK_USER = 0, /* libc malloc family */
	LMP_MEMLEAK_KMALLOC = 1,
	LMP_MEMLEAK_KMEM_CACHE = 2,
	LMP_MEMLEAK_PAGE = 3,
	LMP_MEMLEAK_PERCPU = 4,
	_LMP_MEMLEAK_ALLOCATOR_MAX,
};

struct lmp_memleak_key {
	__u64 addr;
	__u32 pid;   /* tgid for user allocations, 0 in the kernel's spaces */
	__u32 space; /* enum lmp_memleak_space */
};

struct lmp_memleak_alloc {
	__u64 size;	 /* bytes */
	__u64 ts_ns;	 /* bpf_ktime_get_ns() at allocation */
	__u64 cgroup_id; /* of the allocating task */
	__s32 stack_id;	 /* user stack (user space) or kernel stack, or -errno */
	__u32 pid;	 /* allocating tgid */
	__u32 allocator; /* enum lmp_memleak_allocator */
	__u32 _pad;
};

#endif /* LMP_MEMLEAK_H */

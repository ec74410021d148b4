/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * syscall probe: per-cgroup, per-process, per-syscall counters aggregated in the kernel
 * (bpf/syscall.bpf.c), read and cleared by the agent every interval.
 */
#ifndef LMP_SYSCALL_H
#define LMP_SYSCALL_H

#include "lmp/event.h"

/*
 * The counters are keyed by process and syscall only: 8 bytes to hash and one helper call
 * fewer than a key with the cgroup in it, a visible share of the probe's cost per syscall
 * (docs/probes/syscall.md). The cgroup is an attribute of the process, recorded
 * with its name when one of its keys is first seen in an interval.
 */
struct lmp_syscall_key {
	__u32 pid; /* tgid */
	__u32 nr;  /* x86_64 syscall number (agent/sym/syscalls.c names it) */
};

/* per-CPU value: every member is a __u64 counter, summed over CPUs by the agent */
struct lmp_syscall_val {
	__u64 count;  /* calls entered */
	__u64 errors; /* calls that returned -4095..-1 (latency mode only) */
	__u64 lat_ns; /* sum of entry-to-exit time of the calls that returned (latency mode) */
	__u64 done;   /* calls whose exit was seen, the divisor of lat_ns (latency mode) */
};

/* who a pid is, kept in an LRU map beside the counters */
struct lmp_syscall_proc {
	__u64 cgroup_id;	 /* cgroup v2 id at its latest new key of the interval */
	char comm[LMP_COMM_LEN]; /* thread-group leader's name */
};

#endif /* LMP_SYSCALL_H */

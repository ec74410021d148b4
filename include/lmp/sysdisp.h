/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The syscall dispatcher that the syscall-family probes (syscall, syscount, file, opensnoop,
 * bindsnoop, mountsnoop, sigsnoop) share: one program on raw_syscalls sys_enter and one on
 * sys_exit for all of them (bpf/lmp_syscall.bpf.h, agent/probes/lib/sysdisp.c). What the agent
 * tells those programs at run time, as probes join and leave.
 */
#ifndef LMP_SYSDISP_H
#define LMP_SYSDISP_H

#include "lmp/event.h" /* the __u* types on both sides */

/* syscall numbers the dispatcher routes (a tail per number); above: counted only */
#define LMP_SYS_NR_MAX 1024
/* probes that can take a tail call (the five that follow given syscalls) */
#define LMP_SYS_TAILS 8

/*
 * How many running probes want each piece of the per-syscall work: the one value of the
 * shared sys_users array. A piece nobody wants costs one load and a branch.
 */
struct lmp_sys_users {
	__u32 pid_count;   /* syscall: calls per (process, syscall), counted at entry */
	__u32 pid_latency; /* syscall --syscall-latency: errors and latency per (process, syscall) */
	__u32 cg_hist;	   /* syscount: latency histogram and errors per (cgroup, syscall) */
	__u32 cg_count; /* syscount --syscount-latency=false: calls and errors per (cgroup, syscall) */
};

/*
 * Where a syscall number goes after the common work: 1 + the index in the sys_tail_enter /
 * sys_tail_exit program arrays of the probe that follows it, 0 for none. The probes follow
 * disjoint sets of syscalls, so one tail per number and side is enough.
 */
struct lmp_sys_route {
	__u8 enter;
	__u8 exit;
	__u16 _pad;
};

#endif /* LMP_SYSDISP_H */

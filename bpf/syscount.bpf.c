// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscount: for every cgroup, how many times each system call returned, how long it took
 * (log2 histogram of entry-to-exit time) and which errno values the failures carried.
 * With --syscount-latency=false only counts and errnos, like libbpf-tools syscount without -L.
 *
 * The work is the syscall dispatcher's (lmp_syscall.bpf.h), shared with the other
 * syscall-family probes: the entry time in task-local storage, and at exit plain
 * increments in a per-CPU hash keyed by (cgroup, syscall) (sys_cg_hist), or, counting only,
 * a 16-byte counter (sys_cg_counts) from the exit program alone, which reads the syscall
 * number itself. Map inserts happen only the first time a (cgroup, syscall) or
 * (cgroup, errno) pair is seen in an interval. A call is counted at its exit, in the cgroup
 * the task is in at that moment.
 *
 * Hooks, best first (agent/probes/syscount.c):
 *   enter: tp_btf/sys_enter (5.5+, no tracefs) > raw_tp/sys_enter (4.17+) >
 *          tracepoint raw_syscalls/sys_enter (needs tracefs); not loaded when counting only
 *   exit:  tp_btf/sys_exit > raw_tp/sys_exit > tracepoint raw_syscalls/sys_exit
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall: how many system calls each process makes, by syscall, per cgroup; with
 * --syscall-latency also their errors and mean latency.
 *
 * The work is the syscall dispatcher's (lmp_syscall.bpf.h), shared with the other
 * syscall-family probes: at entry it adds one to a per-CPU hash keyed by (pid, syscall),
 * writing the process's cgroup and name only the first time a key is seen in an interval
 * (sys_pid_counts, sys_procs); with --syscall-latency it also keeps the entry time and at
 * exit adds the latency and the error to the same key.
 *
 * Hooks, best first (agent/probes/syscall.c):
 *   enter: tp_btf/sys_enter (5.5+) > raw_tp/sys_enter (4.17+) > tracepoint
 *          raw_syscalls/sys_enter (needs tracefs)
 *   exit:  the same three on sys_exit, loaded only with --syscall-latency
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscount: for every cgroup, how many times each system call returned, how long it took
 * (log2 histogram of entry-to-exit time) and which errno values the failures carried.
 * With cfg_latency off (--syscount-latency=false) only counts and errnos, like
 * libbpf-tools syscount without -L.
 *
 * Hooks, best first (agent/probes/syscount.c):
 *   enter: tp_btf/sys_enter (5.5+, no tracefs) > raw_tp/sys_enter (4.17+) >
 *          tracepoint raw_syscalls/sys_enter (needs tracefs); not loaded when counting only
 *   exit:  tp_btf/sys_exit > raw_tp/sys_exit > tracepoint raw_syscalls/sys_exit
 * raw_syscalls fire for every call of every task, so both programs stay short: the entry
 * time lives in task-local storage (5.11+; freed with the task, so threads that die inside
 * exit_group() or get killed leave nothing behind, unlike a hash keyed by thread id), and
 * the exit side updates a per-CPU hash with plain, non-atomic increments. Map inserts happen
 * only the first time a (cgroup, syscall) or (cgroup, errno) pair is seen in an interval.
 * A call is counted at its exit, in the cgroup the task is in at that moment.
 *
 * Counting only, every syscall runs one program instead of two (each run has a fixed cost of
 * the order of 150 ns): the exit program reads the syscall number itself (orig_ax, or the
 * tracepoint's id) and adds to a 16-byte counter instead of a 344-byte histogram.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/syscount.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

/*
 * Sized for the pairs active within one interval (the agent drains them); entries are
 * allocated on insert, so memory follows the pairs really seen, not max_entries x CPUs
 * x 344 bytes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct lmp_syscount_key);
	__type(value, struct lmp_syscount_val);
} stats SEC(".maps");

/* (cgroup, errno) pairs per interval */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lmp_syscount_err_key);
	__type(value, __u64);
} errors SEC(".maps");

/*
 * Counting only: (cgroup, syscall) -> calls, errors. A map of its own so that each entry
 * costs 16 bytes per CPU, not a histogram's 344. The agent shrinks whichever of stats and
 * counts the mode leaves unused to one entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct lmp_syscount_key);
	__type(value, struct lmp_syscount_cnt);
} counts SEC(".maps");

/* set by the agent before load; the verifier drops the branch of the other mode */
const volatile bool cfg_latency = true;

static const struct lmp_syscount_val zero_val;
static const struct lmp_syscount_cnt zero_cnt;
static const __u64 zero_u64;

static __always_inline int handle_enter(long id)
{
	/* -1: a call skipped by seccomp or ptrace before it had a number */
	if (id < 0 || lmp_is_self())
		return 0;
	lmp_sys_start_set(id < LMP_SYSCOUNT_NR_MAX ? id : LMP_SYSCOUNT_NR_OTHER);
	return 0;
}

static __always_inline void count_errno(__u64 cgroup_id, __u32 err)
{
	struct lmp_syscount_err_key k = { .cgroup_id = cgroup_id, .err = err };
	__u64 *n = lmp_map_lookup_or_init(&errors, &k, &zero_u64);

	if (n)
		*n += 1;
}

static __always_inline int handle_exit(long ret, __u64 cgroup_id)
{
	struct lmp_syscount_key k = {};
	struct lmp_syscount_val *v;
	__u64 delta;
	__u32 slot;

	if (lmp_sys_start_take(&k.nr, &delta))
		return 0; /* entered before attach, by the agent itself, or never returns */
	k.cgroup_id = cgroup_id;
	v = lmp_map_lookup_or_init(&stats, &k, &zero_val);
	if (!v)
		return 0;
	/* per-CPU value: plain increments, no lock prefix on the hot path */
	slot = lmp_log2_slot(delta);
	if (slot >= LMP_HIST_SLOTS)
		slot = LMP_HIST_SLOTS - 1;
	v->lat.slots[slot]++;
	v->lat.sum += delta;
	v->lat.count++;
	if (ret < 0 && ret >= -4095) {
		v->errors++;
		count_errno(k.cgroup_id, -ret);
	}
	return 0;
}

/*
 * counting only: nr is read at exit, so calls in flight at attach are counted too. The
 * caller passes the task's process id and v2 cgroup id: tp_btf reads them straight from
 * the task (plain loads: 215-222 ns a syscall against 235-243 with the two helper calls,
 * in interleaved runs here).
 */
static __always_inline int handle_count(long nr, long ret, __u32 tgid, __u64 cgroup_id)
{
	struct lmp_syscount_key k = {};
	struct lmp_syscount_cnt *c;

	/* -1: a call skipped by seccomp or ptrace before it had a number */
	if (nr < 0 || lmp_pid_is_self(tgid))
		return 0;
	k.nr = nr < LMP_SYSCOUNT_NR_MAX ? nr : LMP_SYSCOUNT_NR_OTHER;
	k.cgroup_id = cgroup_id;
	c = lmp_map_lookup_or_init(&counts, &k, &zero_cnt);
	if (!c)
		return 0;
	c->calls++; /* per-CPU value: no atomics */
	if (ret < 0 && ret >= -4095) {
		c->errors++;
		count_errno(k.cgroup_id, -ret);
	}
	return 0;
}

/*
 * The programs of lmp_syscall.bpf.h's LMP_RAW_SYSCALLS_PROGS, written out because counting
 * needs the syscall number at exit, which that macro does not pass. On x86_64 the number
 * stays in pt_regs->orig_ax until the task returns to user space (syscall_get_nr()); the
 * tracepoint's id is that same value.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(tp_btf_sys_enter, struct pt_regs *regs, long id)
{
	return handle_enter(id);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_tp_sys_enter, struct pt_regs *regs, long id)
{
	return handle_enter(id);
}

SEC("tp/raw_syscalls/sys_enter")
int tp_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter(ctx->id);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tp_btf_sys_exit, struct pt_regs *regs, long ret)
{
	/* BTF pointers all the way: direct loads (the program runs under RCU) */
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 cgroup_id = t->cgroups->dfl_cgrp->kn->id;

	if (cfg_latency)
		return handle_exit(ret, cgroup_id);
	return handle_count(regs->orig_ax, ret, t->tgid, cgroup_id);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(raw_tp_sys_exit, struct pt_regs *regs, long ret)
{
	if (cfg_latency)
		return handle_exit(ret, bpf_get_current_cgroup_id());
	return handle_count(BPF_CORE_READ(regs, orig_ax), ret, /* untyped: probe read */
			    bpf_get_current_pid_tgid() >> 32, bpf_get_current_cgroup_id());
}

SEC("tp/raw_syscalls/sys_exit")
int tp_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (cfg_latency)
		return handle_exit(ctx->ret, bpf_get_current_cgroup_id());
	return handle_count(ctx->id, ctx->ret, bpf_get_current_pid_tgid() >> 32,
			    bpf_get_current_cgroup_id());
}

char LICENSE[] SEC("license") = "GPL";

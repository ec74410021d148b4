// SPDX-License-Identifier: GPL-2.0-only
/*
 * runqlat: run-queue latency per cgroup, the time from a task becoming runnable to it
 * running. A task is enqueued when it is woken (sched_wakeup, sched_wakeup_new) or when it
 * leaves the CPU still runnable (sched_switch with prev preempted or still TASK_RUNNING);
 * it runs at the sched_switch that names it next. The wait goes into the histogram of the
 * task's cgroup v2 id at that moment (the root's, 1, on kernels with cgroup v1 only).
 *
 * Hooks, best first (agent/probes/runqlat.c), per group wakeup, wakeup_new, switch:
 *   tp_btf (5.5+) > raw_tp (4.17+)
 * No classic tracepoint: its sched_switch record has pids, not the task, so the cgroup of
 * the task that runs cannot be read there. sched_switch gained a fourth argument,
 * prev_state, in 5.18; preempt, prev and next keep their places, so one program fits both.
 *
 * The enqueue time is task-local (lmp_task.bpf.h): task storage on tp_btf from 5.11, else
 * an LRU hash by thread id (raw_tp arguments are not BTF pointers task storage takes).
 * sched_switch fires on every context switch: per-CPU map, plain increments (these
 * tracepoints run with interrupts off, so a program never nests in itself on one CPU).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/runqlat.h"
#include "lmp.bpf.h"
#include "lmp_task.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} enq_ns SEC(".maps");

/* cgroups that ran something within one interval; allocated on insert */
LMP_CGROUP_HISTS(hists, 4096);

static const struct lmp_hist zero_hist;
static const __u64 zero_ns;

/* before 5.14 task_struct->__state was called state */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)t, state);
}

static __always_inline int enqueue(struct task_struct *t)
{
	__u32 tid = BPF_CORE_READ(t, pid);
	__u64 *ts;

	if (!tid) /* the idle task never waits */
		return 0;
	ts = lmp_task_local_of(&enq_ns, t, tid, &zero_ns, true);
	if (ts)
		*ts = bpf_ktime_get_ns();
	else
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

static __always_inline int on_switch(bool preempt, struct task_struct *prev,
				     struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	__u64 *ts, delta, cgroup_id;
	struct lmp_hist *h;

	/* a preempted task stays on the run queue whatever its state says */
	if (preempt || task_state(prev) == 0 /* TASK_RUNNING */)
		enqueue(prev);
	if (!tid)
		return 0;
	ts = lmp_task_local_of(&enq_ns, next, tid, NULL, false);
	if (!ts || !*ts)
		return 0; /* enqueued before attach */
	delta = bpf_ktime_get_ns() - *ts;
	*ts = 0;
	cgroup_id = BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id);
	h = lmp_map_lookup_or_init(&hists, &cgroup_id, &zero_hist);
	if (h)
		lmp_hist_add_cpu(h, delta);
	return 0;
}

/* the same three programs as tp_btf and as raw_tp (kind) */
#define RUNQLAT_PROGS(kind)                                                       \
	SEC(#kind "/sched_wakeup")                                                \
	int BPF_PROG(kind##_sched_wakeup, struct task_struct *p)                  \
	{                                                                         \
		return enqueue(p);                                                \
	}                                                                         \
	SEC(#kind "/sched_wakeup_new")                                            \
	int BPF_PROG(kind##_sched_wakeup_new, struct task_struct *p)              \
	{                                                                         \
		return enqueue(p);                                                \
	}                                                                         \
	SEC(#kind "/sched_switch")                                                \
	int BPF_PROG(kind##_sched_switch, bool preempt, struct task_struct *prev, \
		     struct task_struct *next)                                    \
	{                                                                         \
		return on_switch(preempt, prev, next);                            \
	}

RUNQLAT_PROGS(tp_btf)
RUNQLAT_PROGS(raw_tp)

char LICENSE[] SEC("license") = "GPL";

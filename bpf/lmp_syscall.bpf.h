/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The syscall dispatcher: one program on raw_syscalls sys_enter and one on sys_exit that
 * serve every syscall-family probe running (syscall, syscount, file, opensnoop, bindsnoop,
 * mountsnoop, sigsnoop). Every such probe's object includes this header and so carries the
 * programs and the maps below; the agent (agent/probes/lib/sysdisp.c) creates the maps once and
 * has every object reuse them, and loads each side's programs in one object only, the first
 * probe that needs that side. Each probe once had its own pair, so with `--probes all` four
 * to six programs ran on every syscall, each paying its own run, helper calls and map
 * lookups, and two of them kept the same per-cgroup, per-syscall counts.
 *
 * Per syscall the programs do the least the running probes need, read from sys_users:
 *   enter: the syscall probe's (process, syscall) count; the entry time, only while a
 *          latency probe runs (syscount's default, syscall --syscall-latency)
 *   exit:  the latency, errors and errno counts of syscount or syscall --syscall-latency,
 *          or syscount's counts when it counts only (the number read at exit)
 *   both:  for a syscall number a probe asked for (sys_route), a tail call into that probe's
 *          own program (LMP_SYS_TAILS below), which does its work with its own maps.
 *
 * Hooks, best first: tp_btf (5.5+, no tracefs; the syscall number and arguments read
 * straight from pt_regs) > raw_tp (4.17+) > tracepoint raw_syscalls (needs tracefs). Tail
 * calls run on the first two only: a probe that follows given syscalls uses its own
 * syscalls/sys_*_<name> tracepoints when the dispatcher runs as a tracepoint.
 *
 * The entry time lives in task-local storage where the kernel has it for tracing programs
 * (5.11+; freed with the task, so threads that die inside exit_group() or get killed leave
 * nothing behind), else in an LRU hash by thread id (lmp_task.bpf.h). Include after
 * lmp.bpf.h.
 */
#ifndef LMP_SYSCALL_BPF_H
#define LMP_SYSCALL_BPF_H

#include "lmp/sysdisp.h"
#include "lmp/syscall.h"
#include "lmp/syscount.h"
#include "lmp_task.bpf.h"

struct lmp_sys_start {
	__u64 ts; /* 0: no call in flight that we saw enter */
	__u32 nr;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lmp_sys_users);
} sys_users SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LMP_SYS_NR_MAX);
	__type(key, __u32);
	__type(value, struct lmp_sys_route);
} sys_route SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, LMP_SYS_TAILS);
	__type(key, __u32);
	__type(value, __u32);
} sys_tail_enter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, LMP_SYS_TAILS);
	__type(key, __u32);
	__type(value, __u32);
} sys_tail_exit SEC(".maps");

/* task storage, or (5.10) an LRU hash keyed by thread id: see lmp_task_local() */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lmp_sys_start);
} sys_start SEC(".maps");

/* syscall probe: (process, syscall) -> counters, and who each process is; resized by the
 * agent (--syscall-max-keys; one entry when the probe is not selected). Preallocated: a new
 * key of the interval is an insert, and nodes that start many processes make many. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lmp_syscall_key);
	__type(value, struct lmp_syscall_val);
} sys_pid_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct lmp_syscall_proc);
} sys_procs SEC(".maps");

/* syscount: (cgroup, syscall) -> histogram + errors (latency mode) or calls + errors
 * (counting only: 16 bytes per CPU, not a histogram's 344), and (cgroup, errno) counts */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct lmp_syscount_key);
	__type(value, struct lmp_syscount_val);
} sys_cg_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct lmp_syscount_key);
	__type(value, struct lmp_syscount_cnt);
} sys_cg_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lmp_syscount_err_key);
	__type(value, __u64);
} sys_cg_errnos SEC(".maps");

static const struct lmp_sys_start lmp_sys_start_zero;

static __always_inline void sys_start_set(__u32 nr)
{
	struct lmp_sys_start *s = lmp_task_local(&sys_start, &lmp_sys_start_zero, true);

	if (s) {
		s->nr = nr;
		s->ts = bpf_ktime_get_ns();
	}
}

/* At exit: the call's number and time since its entry, and forget the entry. -ENOENT when
 * it was entered before attach, by the agent itself, or not seen entering. */
static __always_inline int sys_start_take(__u32 *nr, __u64 *delta)
{
	struct lmp_sys_start *s = lmp_task_local(&sys_start, &lmp_sys_start_zero, false);

	if (!s || !s->ts)
		return -2; /* -ENOENT */
	*delta = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	*nr = s->nr;
	return 0;
}

static __always_inline struct lmp_sys_users *sys_users_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sys_users, &zero); /* an array: inlined, no helper call */
}

/* the syscall probe's counters of (pid, nr); a new key of the interval records who pid is */
static __always_inline struct lmp_syscall_val *sys_pid_counters(__u32 pid, __u32 nr)
{
	struct lmp_syscall_key key = { .pid = pid, .nr = nr };
	static const struct lmp_syscall_val zero;
	struct lmp_syscall_proc proc;
	struct lmp_syscall_val *v;
	struct task_struct *task;
	long err;

	v = bpf_map_lookup_elem(&sys_pid_counts, &key);
	if (v)
		return v;
	err = bpf_map_update_elem(&sys_pid_counts, &key, &zero, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU inserted it first */) {
		lmp_count_drop(LMP_DROP_MAPFULL);
		return NULL;
	}
	/* its cgroup as of now (a process that moves during an interval is charged to the
	 * cgroup of its latest new key), and the thread-group leader's name as in
	 * /proc/<pid>/comm (thread names vary) */
	proc.cgroup_id = bpf_get_current_cgroup_id();
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&proc.comm, task, group_leader, comm);
	bpf_map_update_elem(&sys_procs, &pid, &proc, BPF_ANY);
	return bpf_map_lookup_elem(&sys_pid_counts, &key);
}

static __always_inline void sys_count_errno(__u64 cgroup_id, __u32 err)
{
	struct lmp_syscount_err_key k = { .cgroup_id = cgroup_id, .err = err };
	static const __u64 zero;
	__u64 *n = lmp_map_lookup_or_init(&sys_cg_errnos, &k, &zero);

	if (n)
		*n += 1;
}

static __always_inline bool sys_failed(long ret)
{
	return ret < 0 && ret >= -4095;
}

/* id: the syscall number (-1: skipped by seccomp or ptrace before it had one) */
static __always_inline void sys_enter_work(struct lmp_sys_users *u, long id, __u32 tgid)
{
	struct lmp_syscall_val *v;

	if (u->pid_count && id < LMP_SYS_NR_MAX) {
		v = sys_pid_counters(tgid, id);
		if (v)
			v->count++; /* per-CPU value: no atomic needed */
	}
	if (u->pid_latency || u->cg_hist)
		sys_start_set(id < LMP_SYSCOUNT_NR_MAX ? id : LMP_SYSCOUNT_NR_OTHER);
}

/* nr: the number read at exit; a call is charged to the cgroup the task is in at exit */
static __always_inline void sys_exit_work(struct lmp_sys_users *u, long nr, long ret, __u32 tgid,
					  __u64 cgroup_id)
{
	struct lmp_syscount_key k = { .cgroup_id = cgroup_id };
	static const struct lmp_syscount_val zero_val;
	static const struct lmp_syscount_cnt zero_cnt;
	struct lmp_syscount_val *h;
	struct lmp_syscount_cnt *c;
	struct lmp_syscall_val *v;
	__u64 delta;
	__u32 slot;

	if ((u->pid_latency || u->cg_hist) && !sys_start_take(&k.nr, &delta)) {
		if (u->pid_latency && k.nr < LMP_SYS_NR_MAX) {
			v = sys_pid_counters(tgid, k.nr);
			if (v) {
				v->lat_ns += delta;
				v->done++;
				if (sys_failed(ret))
					v->errors++;
			}
		}
		if (u->cg_hist) {
			h = lmp_map_lookup_or_init(&sys_cg_hist, &k, &zero_val);
			if (h) {
				/* per-CPU value: plain increments, no lock prefix */
				slot = lmp_log2_slot(delta);
				if (slot >= LMP_HIST_SLOTS)
					slot = LMP_HIST_SLOTS - 1;
				h->lat.slots[slot]++;
				h->lat.sum += delta;
				h->lat.count++;
				if (sys_failed(ret)) {
					h->errors++;
					sys_count_errno(cgroup_id, -ret);
				}
			}
		}
	}
	if (u->cg_count && nr >= 0) {
		/* counting only: nr is read at exit, so calls in flight at attach count too */
		k.nr = nr < LMP_SYSCOUNT_NR_MAX ? nr : LMP_SYSCOUNT_NR_OTHER;
		c = lmp_map_lookup_or_init(&sys_cg_counts, &k, &zero_cnt);
		if (c) {
			c->calls++;
			if (sys_failed(ret)) {
				c->errors++;
				sys_count_errno(cgroup_id, -ret);
			}
		}
	}
}

/* the tail of the probe that follows syscall nr on this side, if any (does not return then) */
#define SYS_ROUTE(ctx, nr, side)                                                     \
	do {                                                                         \
		__u32 __nr = (nr);                                                   \
		struct lmp_sys_route *__r;                                           \
		if (__nr < LMP_SYS_NR_MAX) {                                         \
			__r = bpf_map_lookup_elem(&sys_route, &__nr);                \
			if (__r && __r->side)                                        \
				bpf_tail_call(ctx, &sys_tail_##side, __r->side - 1); \
		}                                                                    \
	} while (0)

/* the task's cgroup v2 id: BTF pointers all the way where the kernel has
 * bpf_get_current_task_btf() (direct loads; the program runs under RCU), else the helper */
static __always_inline __u64 sys_cgroup_id(void)
{
	if (sys_task_btf)
		return bpf_get_current_task_btf()->cgroups->dfl_cgrp->kn->id;
	return bpf_get_current_cgroup_id();
}

/* the dispatcher's programs; btf: the hook is tp_btf (typed pointers); tails: the hook kind
 * can tail-call (not tracepoints) */
static __always_inline int sys_enter_prog(void *ctx, long id, bool tails)
{
	struct lmp_sys_users *u = sys_users_get();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!u || id < 0 || lmp_pid_is_self(tgid))
		return 0;
	sys_enter_work(u, id, tgid);
	if (tails)
		SYS_ROUTE(ctx, id, enter);
	return 0;
}

static __always_inline int sys_exit_prog(void *ctx, long nr, long ret, bool btf, bool tails)
{
	struct lmp_sys_users *u = sys_users_get();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!u || lmp_pid_is_self(tgid))
		return 0;
	sys_exit_work(u, nr, ret, tgid, btf ? sys_cgroup_id() : bpf_get_current_cgroup_id());
	if (tails)
		SYS_ROUTE(ctx, nr, exit);
	return 0;
}

/* a program on raw_syscalls sys_enter (arg: id) or sys_exit (arg: ret) as tp_btf or raw_tp */
#define LMP_SYS_PROG(sec, name, arg, body)                 \
	SEC(sec)                                           \
	int BPF_PROG(name, struct pt_regs *regs, long arg) \
	{                                                  \
		return body;                               \
	}

/*
 * On x86_64 the syscall number stays in pt_regs->orig_ax until the task returns to user
 * space (syscall_get_nr()), and the arguments in di, si, dx, r10, r8, r9: an exit tail
 * reads both, so the probes that follow given calls need no entry program of their own.
 * On tp_btf regs is a BTF pointer (direct loads), on raw_tp an untyped one (probe reads).
 */
#define SYS_NR(regs, btf) ((btf) ? (regs)->orig_ax : BPF_CORE_READ(regs, orig_ax))

LMP_SYS_PROG("tp_btf/sys_enter", tp_btf_sys_enter, id, sys_enter_prog(ctx, id, true))
LMP_SYS_PROG("raw_tp/sys_enter", raw_tp_sys_enter, id, sys_enter_prog(ctx, id, true))
LMP_SYS_PROG("tp_btf/sys_exit", tp_btf_sys_exit, ret,
	     sys_exit_prog(ctx, SYS_NR(regs, true), ret, true, true))
LMP_SYS_PROG("raw_tp/sys_exit", raw_tp_sys_exit, ret,
	     sys_exit_prog(ctx, SYS_NR(regs, false), ret, false, true))

SEC("tp/raw_syscalls/sys_enter")
int tp_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return sys_enter_prog(ctx, ctx->id, false);
}

SEC("tp/raw_syscalls/sys_exit")
int tp_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	return sys_exit_prog(ctx, ctx->id, ctx->ret, false, false);
}

/*
 * The tail programs of a probe that follows given syscalls: enter(regs, nr, btf) at entry
 * and exit(regs, nr, ret, btf) at exit, called by the dispatcher (SYS_ROUTE) for the
 * numbers the agent routed to the probe, never attached themselves. regs is the task's
 * pt_regs, read with SYS_ARG(); nr the syscall number (a routed one: never negative, so
 * it never equals a -1 "no such call" number); btf a constant, true on tp_btf. A
 * probe that needs only one side defines only that side's pair.
 */
#define SYS_ARG(n, regs, btf) \
	((btf) ? PT_REGS_PARM##n##_SYSCALL(regs) : PT_REGS_PARM##n##_CORE_SYSCALL(regs))

#define LMP_SYS_TAILS_ENTER(enter)                                                  \
	LMP_SYS_PROG("tp_btf/sys_enter", tail_btf_enter, id, enter(regs, id, true)) \
	LMP_SYS_PROG("raw_tp/sys_enter", tail_raw_enter, id, enter(regs, id, false))

#define LMP_SYS_TAILS_EXIT(exit)                                \
	LMP_SYS_PROG("tp_btf/sys_exit", tail_btf_exit, ret,     \
		     exit(regs, SYS_NR(regs, true), ret, true)) \
	LMP_SYS_PROG("raw_tp/sys_exit", tail_raw_exit, ret,     \
		     exit(regs, SYS_NR(regs, false), ret, false))

/* exit tails and syscalls/sys_exit_<call> tracepoints that only pass the result on */
#define LMP_SYS_TAILS_EXIT_RET(fn)                                                              \
	static __always_inline int fn##_tail(struct pt_regs *regs, long nr, long ret, bool btf) \
	{                                                                                       \
		return fn(ret);                                                                 \
	}                                                                                       \
	LMP_SYS_TAILS_EXIT(fn##_tail)

#define LMP_SYS_TP_EXIT(call, fn)                                    \
	SEC("tp/syscalls/sys_exit_" #call)                           \
	int tp_sys_exit_##call(struct trace_event_raw_sys_exit *ctx) \
	{                                                            \
		return fn(ctx->ret);                                 \
	}

#endif /* LMP_SYSCALL_BPF_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * sigsnoop: signals sent with kill(2), tkill(2) and tgkill(2), with their result, and the
 * signals the kernel generates itself (SIGSEGV on a fault, SIGKILL from the OOM killer,
 * SIGPIPE, ...). Each event names both parties: the header is the sender, target_* the
 * receiving task with its own cgroup v2 id, read from its task_struct.
 *
 * Hooks, best first (agent/probes/sigsnoop.c):
 *   enter: tracepoint syscalls/sys_enter_kill (+ _tkill, _tgkill; tracefs) >
 *          tail of the syscall dispatcher's tp_btf/sys_enter (5.5+) > its raw_tp/sys_enter
 *          (4.17+), called for these three numbers only (lmp_syscall.bpf.h)
 *   exit:  tracepoint syscalls/sys_exit_kill (+ _tkill, _tgkill) > tp_btf/sys_exit >
 *          raw_tp/sys_exit
 *   generate: tp_btf/signal_generate (5.5+) > raw_tp/signal_generate (4.17+) >
 *          tracepoint signal/signal_generate (3.x+; no task pointer: the target's cgroup is
 *          only known when a task signals itself)
 * A kill syscall is remembered per thread at entry; signal_generate, which runs inside it,
 * adds the target task; the exit adds the result and streams one event. signal_generate
 * outside one of the three syscalls is a kernel-generated signal (or one sent by a call
 * this probe does not follow, such as rt_sigqueueinfo) and is streamed on the spot.
 * Signals in cfg_ignore_mask (default SIGCHLD and SIGURG, which every exit and every Go
 * runtime preemption send) are not followed at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/sigsnoop.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

#define SI_USER 0
#define SI_KERNEL 0x80

const volatile __u64 cfg_ignore_mask = 0; /* bit n set: signal n is neither followed nor counted */
/* system call numbers for the raw sys_enter/sys_exit fallback, from the agent's headers */
const volatile __s32 cfg_nr_kill = -1;
const volatile __s32 cfg_nr_tkill = -1;
const volatile __s32 cfg_nr_tgkill = -1;

/* kill syscalls in flight, by thread; the record is built here and copied out at exit */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* threads inside kill() at the same moment */
	__type(key, __u32);
	__type(value, struct lmp_sigsnoop_event);
} inflight SEC(".maps");

/* a zeroed record to insert from (too big for the BPF stack together with the rest) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lmp_sigsnoop_event);
} scratch SEC(".maps");

static __always_inline bool ignored(__u32 sig)
{
	return sig < 64 && (cfg_ignore_mask & (1ULL << sig));
}

static __always_inline void fill_target(struct lmp_sigsnoop_event *e, struct task_struct *t)
{
	e->target_pid = BPF_CORE_READ(t, tgid);
	e->target_tid = BPF_CORE_READ(t, pid);
	e->target_cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	BPF_CORE_READ_STR_INTO(&e->target_comm, t, comm);
}

/* target: the pid/tid argument; tgid: tgkill's thread group (0 for the others) */
static __always_inline int handle_enter(__u32 via, __s32 target, __s32 tgid, __u32 sig)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct lmp_sigsnoop_event *e;

	if (ignored(sig) || lmp_is_self())
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	lmp_fill_hdr(&e->hdr, LMP_SIGSNOOP_SIGNAL, sizeof(*e));
	e->target_arg = target;
	e->target_pid = tgid > 0 ? tgid : 0;
	e->target_tid = 0;
	e->target_cgroup_id = 0;
	e->targets = 0;
	e->target_comm[0] = 0;
	e->sig = sig;
	e->ret = 0;
	e->code = via == LMP_SIG_VIA_KILL ? SI_USER : -6 /* SI_TKILL */;
	e->via = via;
	e->delivery = LMP_SIG_NOT_GENERATED;
	if (bpf_map_update_elem(&inflight, &tid, e, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

static __always_inline int handle_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lmp_sigsnoop_event *st, *e;

	st = bpf_map_lookup_elem(&inflight, &tid);
	if (!st)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		lmp_count_drop(LMP_DROP_RINGBUF);
		bpf_map_delete_elem(&inflight, &tid);
		return 0;
	}
	__builtin_memcpy(e, st, sizeof(*e));
	e->ret = ret;
	/* the target could not be read from a task (error, signal 0): keep what was asked */
	if (!e->target_pid && e->via == LMP_SIG_VIA_KILL && e->target_arg > 0)
		e->target_pid = e->target_arg;
	lmp_event_submit(e);
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

static __always_inline __s32 siginfo_code(struct kernel_siginfo *info)
{
	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are markers, not pointers */
	if ((unsigned long)info == 0)
		return SI_USER;
	if ((unsigned long)info == 1)
		return SI_KERNEL;
	return BPF_CORE_READ(info, si_code);
}

/* t may be NULL (tracefs variant): then target_tid/comm come from the record */
static __always_inline int handle_generate(int sig, __s32 code, struct task_struct *t, __u32 tid_nr,
					   const char *comm, int result)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lmp_sigsnoop_event *st, *e;

	if (sig < 0 || ignored(sig))
		return 0;
	st = bpf_map_lookup_elem(&inflight, &tid);
	if (st && st->sig == (__u32)sig) { /* inside a kill syscall we follow */
		if (st->targets++ == 0) {
			st->delivery = result;
			if (t) {
				fill_target(st, t);
			} else {
				st->target_tid = tid_nr;
				bpf_probe_read_kernel_str(st->target_comm, sizeof(st->target_comm),
							  comm);
			}
		}
		return 0;
	}
	if (lmp_is_self())
		return 0;
	e = lmp_event_reserve(sizeof(*e), LMP_SIGSNOOP_SIGNAL);
	if (!e)
		return 0;
	e->target_arg = 0;
	e->targets = 1;
	e->sig = sig;
	e->ret = 0;
	e->code = code;
	e->via = LMP_SIG_VIA_KERNEL;
	e->delivery = result;
	e->_pad = 0;
	if (t) {
		fill_target(e, t);
	} else {
		e->target_pid = 0;
		e->target_tid = tid_nr;
		e->target_cgroup_id = 0;
		bpf_probe_read_kernel_str(e->target_comm, sizeof(e->target_comm), comm);
	}
	lmp_event_submit(e);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(tp_btf_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return handle_generate(sig, siginfo_code(info), task, 0, NULL, result);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(raw_tp_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return handle_generate(sig, siginfo_code(info), task, 0, NULL, result);
}

SEC("tp/signal/signal_generate")
int tp_signal_generate(struct trace_event_raw_signal_generate *ctx)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	__u32 pid = ctx->pid;

	/* a task signalling itself (a fault) is the one task this variant can read */
	return handle_generate(ctx->sig, ctx->code, BPF_CORE_READ(cur, pid) == pid ? cur : NULL,
			       pid, ctx->comm, ctx->result);
}

SEC("tp/syscalls/sys_enter_kill")
int tp_sys_enter_kill(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter(LMP_SIG_VIA_KILL, (__s32)ctx->args[0], 0, (__u32)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_tkill")
int tp_sys_enter_tkill(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter(LMP_SIG_VIA_TKILL, (__s32)ctx->args[0], 0, (__u32)ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_tgkill")
int tp_sys_enter_tgkill(struct trace_event_raw_sys_enter *ctx)
{
	/* tgkill(tgid, tid, sig): the thread is the target */
	return handle_enter(LMP_SIG_VIA_TGKILL, (__s32)ctx->args[1], (__s32)ctx->args[0],
			    (__u32)ctx->args[2]);
}

LMP_SYS_TP_EXIT(kill, handle_exit)
LMP_SYS_TP_EXIT(tkill, handle_exit)
LMP_SYS_TP_EXIT(tgkill, handle_exit)

/* the dispatcher's tails (lmp_syscall.bpf.h): routed only the three calls, each checked
 * again here */
static __always_inline int raw_enter(struct pt_regs *regs, long id, bool btf)
{
	if (id == cfg_nr_kill || id == cfg_nr_tkill)
		return handle_enter(id == cfg_nr_kill ? LMP_SIG_VIA_KILL : LMP_SIG_VIA_TKILL,
				    (__s32)SYS_ARG(1, regs, btf), 0, (__u32)SYS_ARG(2, regs, btf));
	if (id == cfg_nr_tgkill)
		return handle_enter(LMP_SIG_VIA_TGKILL, (__s32)SYS_ARG(2, regs, btf),
				    (__s32)SYS_ARG(1, regs, btf), (__u32)SYS_ARG(3, regs, btf));
	return 0;
}

LMP_SYS_TAILS_ENTER(raw_enter)
LMP_SYS_TAILS_EXIT_RET(handle_exit)

char LICENSE[] SEC("license") = "GPL";

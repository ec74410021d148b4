// SPDX-License-Identifier: GPL-2.0-only
/*
 * process: exec (filename, argv, ppid) and exit (code, signal, lifetime) of every process.
 *
 * Hooks, best first (agent/probes/process.c):
 *   exec: tp_btf/sched_process_exec (5.5+, BTF args, no tracefs) > raw_tp (4.17+) >
 *         tracepoint sched/sched_process_exec (3.4+, needs tracefs)
 *   exit: tp_btf/sched_process_exit > raw_tp > tracepoint sched/sched_process_exit
 * All three read the same kernel objects through one helper with CO-RE reads, which work
 * whether the pointer came from BTF (tp_btf) or from a raw argument (raw_tp, tracepoint).
 * Exec and exit are rare events: streamed one by one through the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/process.h"
#include "lmp.bpf.h"

static __always_inline int handle_exec(struct task_struct *task, const char *filename)
{
	struct lmp_process_exec *e;
	unsigned long start, end, len;
	struct mm_struct *mm;

	if (lmp_is_self())
		return 0;
	e = lmp_event_reserve(sizeof(*e), LMP_PROCESS_EXEC);
	if (!e)
		return 0;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);

	/* argv as the new image sees it: the NUL-separated block between arg_start/arg_end */
	mm = BPF_CORE_READ(task, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end > start ? end - start : 0;
	e->truncated = len > LMP_ARGV_BYTES;
	if (len > LMP_ARGV_BYTES)
		len = LMP_ARGV_BYTES;
	e->args_size = 0;
	if (len && bpf_probe_read_user(e->args, len & (LMP_ARGV_BYTES - 1) ?: LMP_ARGV_BYTES,
				       (void *)start) == 0)
		e->args_size = len;
	lmp_event_submit(e);
	return 0;
}

static __always_inline int handle_exit(struct task_struct *task)
{
	struct lmp_process_exit *e;
	struct pid *tpid;
	__u32 code, level;

	/* one event per process, not per thread: only the thread-group leader's exit */
	if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid) || lmp_is_self())
		return 0;
	e = lmp_event_reserve(sizeof(*e), LMP_PROCESS_EXIT);
	if (!e)
		return 0;
	code = BPF_CORE_READ(task, exit_code);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->signal = code & 0x7f;
	e->core_dumped = !!(code & 0x80);
	e->exit_code = e->signal ? 0 : (code >> 8) & 0xff;
	/* start_time is CLOCK_MONOTONIC ns, the clock of bpf_ktime_get_ns() */
	e->lifetime_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	/* read here, not from /proc at exec: short-lived processes are gone before the agent
	 * could look, and a container's main process is known only by being pid 1 there */
	tpid = BPF_CORE_READ(task, thread_pid);
	level = BPF_CORE_READ(tpid, level);
	e->ns_level = level;
	bpf_core_read(&e->ns_pid, sizeof(e->ns_pid), &tpid->numbers[level & 31].nr);
	lmp_event_submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return handle_exec(p, BPF_CORE_READ(bprm, filename));
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_tp_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return handle_exec(p, BPF_CORE_READ(bprm, filename));
}

SEC("tp/sched/sched_process_exec")
int tp_sched_process_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	unsigned int off = ctx->__data_loc_filename & 0xffff;

	return handle_exec((struct task_struct *)bpf_get_current_task(), (char *)ctx + off);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit, struct task_struct *p)
{
	return handle_exit(p);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_tp_sched_process_exit, struct task_struct *p)
{
	return handle_exit(p);
}

SEC("tp/sched/sched_process_exit")
int tp_sched_process_exit(void *ctx)
{
	return handle_exit((struct task_struct *)bpf_get_current_task());
}

char LICENSE[] SEC("license") = "GPL";

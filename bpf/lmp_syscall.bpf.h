/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the probes on raw_syscalls (syscall, syscount): the entry time of the call in
 * flight, kept in task-local storage (5.11+ for tracing programs; freed with the task, so
 * threads that die inside exit_group() or get killed leave nothing behind, unlike a hash
 * keyed by thread id), and the enter/exit programs of the three attach kinds. Include after
 * lmp.bpf.h.
 */
#ifndef LMP_SYSCALL_BPF_H
#define LMP_SYSCALL_BPF_H

struct lmp_sys_start {
	__u64 ts; /* 0: no call in flight that we saw enter */
	__u32 nr;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lmp_sys_start);
} start SEC(".maps");

/* the current task entered syscall nr now */
static __always_inline void lmp_sys_start_set(__u32 nr)
{
	struct lmp_sys_start *s;

	s = bpf_task_storage_get(&start, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (s) {
		s->nr = nr;
		s->ts = bpf_ktime_get_ns();
	}
}

/* At exit: the call's number and time since its entry, and forget the entry. -ENOENT when
 * it was entered before attach, by the agent itself, or not seen entering. */
static __always_inline int lmp_sys_start_take(__u32 *nr, __u64 *delta)
{
	struct lmp_sys_start *s;

	s = bpf_task_storage_get(&start, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->ts)
		return -2; /* -ENOENT */
	*delta = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	*nr = s->nr;
	return 0;
}

/* each attach kind of raw_syscalls sys_enter/sys_exit, a thin wrapper around
 * enter(long id) and exit(long ret) */
#define LMP_RAW_SYSCALLS_PROGS(enter, exit)                                                    \
	SEC("tp_btf/sys_enter")                                                                \
	int BPF_PROG(tp_btf_sys_enter, struct pt_regs *regs, long id)                          \
	{                                                                                      \
		return enter(id);                                                              \
	}                                                                                      \
                                                                                               \
	SEC("raw_tp/sys_enter")                                                                \
	int BPF_PROG(raw_tp_sys_enter, struct pt_regs *regs, long id)                          \
	{                                                                                      \
		return enter(id);                                                              \
	}                                                                                      \
                                                                                               \
	SEC("tp/raw_syscalls/sys_enter")                                                       \
	int tp_sys_enter(struct trace_event_raw_sys_enter *ctx)                                \
	{                                                                                      \
		return enter(ctx->id);                                                         \
	}                                                                                      \
                                                                                               \
	SEC("tp_btf/sys_exit")                                                                 \
	int BPF_PROG(tp_btf_sys_exit, struct pt_regs *regs, long ret)                          \
	{                                                                                      \
		return exit(ret);                                                              \
	}                                                                                      \
                                                                                               \
	SEC("raw_tp/sys_exit")                                                                 \
	int BPF_PROG(raw_tp_sys_exit, struct pt_regs *regs, long ret)                          \
	{                                                                                      \
		return exit(ret);                                                              \
	}                                                                                      \
                                                                                               \
	SEC("tp/raw_syscalls/sys_exit")                                                        \
	int tp_sys_exit(struct trace_event_raw_sys_exit *ctx)                                  \
	{                                                                                      \
		return exit(ctx->ret);                                                         \
	}

#endif /* LMP_SYSCALL_BPF_H */

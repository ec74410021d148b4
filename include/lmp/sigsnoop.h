/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_SIGSNOOP_H
#define LMP_SIGSNOOP_H

#include "lmp/event.h"

enum lmp_sigsnoop_type {
	LMP_SIGSNOOP_SIGNAL = 0,
};

/* How the signal was sent. */
enum lmp_sig_via {
	LMP_SIG_VIA_KERNEL = 0, /* generated in the kernel (fault, OOM kill, SIGCHLD, queue...) */
	LMP_SIG_VIA_KILL = 1,
	LMP_SIG_VIA_TKILL = 2,
	LMP_SIG_VIA_TGKILL = 3,
};

/* signal_generate's verdict (TRACE_SIGNAL_* in include/trace/events/signal.h) */
enum lmp_sig_delivery {
	LMP_SIG_DELIVERED = 0,
	LMP_SIG_IGNORED = 1,
	LMP_SIG_ALREADY_PENDING = 2,
	LMP_SIG_OVERFLOW_FAIL = 3,
	LMP_SIG_LOSE_INFO = 4,
	LMP_SIG_NOT_GENERATED = 255, /* no signal_generate seen (error, signal 0) */
};

/*
 * hdr is the sender (the task that made the syscall, or the task the kernel was running
 * when it generated the signal); target_* is the receiver.
 */
struct lmp_sigsnoop_event {
	struct lmp_event_hdr hdr;
	__u64 target_cgroup_id; /* cgroup v2 id of the target task, 0 if not found */
	__s32 target_arg;	/* the pid/tid argument of the syscall, as given */
	__u32 target_pid;	/* tgid of the (first) task the signal was generated for */
	__u32 target_tid;
	__u32 targets; /* tasks it was generated for (kill of a group: several) */
	char target_comm[LMP_COMM_LEN];
	__u32 sig;
	__s32 ret;	/* syscall result: 0 or -errno; 0 for kernel signals */
	__s32 code;	/* siginfo si_code */
	__u32 via;	/* enum lmp_sig_via */
	__u32 delivery; /* enum lmp_sig_delivery */
	__u32 _pad;
};

#endif /* LMP_SIGSNOOP_H */

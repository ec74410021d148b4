/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The record header every streamed lmp event starts with. Shared by the BPF side (which
 * fills it) and the agent (which decodes it); only fixed-width types, so the layout is the
 * same for both compilers.
 */
#ifndef LMP_EVENT_H
#define LMP_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LMP_COMM_LEN 16
#define LMP_PATH_LEN 256

struct lmp_event_hdr {
	__u64 ts_ns;	 /* bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME, survives suspend */
	__u64 cgroup_id; /* cgroup v2 id of the task (or socket) the event is charged to */
	__u32 pid;	 /* tgid */
	__u32 tid;
	__u32 uid;
	__u16 type; /* probe-specific record type, indexes the descriptor's event table */
	__u16 size; /* bytes of the whole record, for sanity checks in the agent */
	char comm[LMP_COMM_LEN];
};

/* log2 histogram: slot i counts values v with 2^i <= v < 2^(i+1); slot 0 also holds v = 0 */
#define LMP_HIST_SLOTS 40

struct lmp_hist {
	__u64 slots[LMP_HIST_SLOTS];
	__u64 sum; /* in the unit of the values (ns, bytes) */
	__u64 count;
};

#endif /* LMP_EVENT_H */

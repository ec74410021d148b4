/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OOM post-mortem: what user space can still read about a memory cgroup right after the
 * OOM killer acted in it. The kernel record (bpf/oomkill.bpf.c) holds what was read at the
 * kill (the victim's RSS, the memcg's usage and limit); this module adds the memcg's
 * memory.stat breakdown, its event counters, its memory pressure and the tasks left in it
 * by RSS with their oom_score_adj, each read a few milliseconds later (read_after_ns says
 * how many). Both file layouts: cgroup v2 (memory.stat anon/file/kernel/slab/shmem/sock,
 * memory.events, memory.pressure) and the v1 memory controller of hybrid hosts
 * (total_rss/total_cache/total_shmem, memory.kmem.*, memory.failcnt, memory.oom_control),
 * where pressure comes from the task's v2 cgroup instead.
 */
#ifndef LMP_OOMPM_H
#define LMP_OOMPM_H

#include <stdbool.h>
#include <linux/types.h>

struct lmp_out;

#define LMP_OOMPM_TASKS 5   /* candidates kept, largest RSS first */
#define LMP_OOMPM_SCAN 4096 /* tasks looked at in the memcg and its children, at most */

/* one memory.stat figure: have is false where this layout has no such figure */
struct lmp_oompm_val {
	__u64 v;
	bool have;
};

struct lmp_oompm {
	__u64 read_after_ns; /* from the kill (the kernel record's timestamp) to the reads */
	bool stat_read;
	struct lmp_oompm_val anon, file, kernel, slab, shmem, sock; /* bytes */
	bool events_read;
	struct lmp_oompm_val ev_high, ev_max, ev_oom, ev_oom_kill, ev_failcnt;
	bool psi_read;
	double psi_some_avg10, psi_full_avg10; /* percent */
	unsigned n_tasks, tasks_seen;
	struct {
		__u32 pid;
		__s32 oom_score_adj;
		__u64 rss_bytes;
		char comm[16];
	} tasks[LMP_OOMPM_TASKS];
};

/*
 * Read the post-mortem of the memcg directory memcg_dir (absolute; v2 says which layout),
 * pressure from psi_dir (the v2 cgroup whose memory.pressure applies; NULL: memcg_dir when
 * v2, none otherwise). kill_ns is the kill's CLOCK_BOOTTIME time. Never fails: what could
 * not be read is marked as such.
 */
void lmp_oompm_read(const char *memcg_dir, bool v2, const char *psi_dir, __u64 kill_ns,
		    struct lmp_oompm *pm);
/* the "postmortem" object of an oomkill event */
void lmp_oompm_out(struct lmp_out *o, const struct lmp_oompm *pm);

/* parsers, exported for the unit tests */
void lmp_oompm_parse_stat(const char *text, bool v2, struct lmp_oompm *pm);
void lmp_oompm_parse_events(const char *text, bool v2, struct lmp_oompm *pm);
bool lmp_oompm_parse_psi(const char *text, double *some_avg10, double *full_avg10);

#endif /* LMP_OOMPM_H */

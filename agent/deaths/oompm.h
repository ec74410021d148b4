/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OOM post-mortem: what user space can still read of a memcg just after the kill, for
 * v2 and for v1 memory controllers (docs/probes/oomkill.md).
 */
#ifndef LMP_OOMPM_H
#define LMP_OOMPM_H

#include <stdbool.h>
#include <linux/types.h>

struct lmp_out;

#define LMP_OOMPM_TASKS 5 /* largest RSS first */
#define LMP_OOMPM_SCAN 4096

/* have: this layout has the figure */
struct lmp_oompm_val {
	__u64 v;
	bool have;
};

struct lmp_oompm {
	__u64 read_after_ns; /* from the kill */
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
 * psi_dir NULL: memcg_dir when v2, none otherwise. kill_ns: CLOCK_BOOTTIME. Never fails:
 * what could not be read is marked so.
 */
void lmp_oompm_read(const char *memcg_dir, bool v2, const char *psi_dir, __u64 kill_ns,
		    struct lmp_oompm *pm);
void lmp_oompm_out(struct lmp_out *o, const struct lmp_oompm *pm);

/* exported for tests */
void lmp_oompm_parse_stat(const char *text, bool v2, struct lmp_oompm *pm);
void lmp_oompm_parse_events(const char *text, bool v2, struct lmp_oompm *pm);
bool lmp_oompm_parse_psi(const char *text, double *some_avg10, double *full_avg10);

#endif /* LMP_OOMPM_H */

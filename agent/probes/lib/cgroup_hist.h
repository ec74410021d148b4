/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interval report of probes that aggregate per cgroup in the kernel (tcpconnlat, tcprtt,
 * llcstat): drain the map keyed by cgroup id, order the rows busiest first, feed every row to
 * the metrics and print a summary line for the first --top of them. One routine so that they
 * all order, cut and count failures the same way.
 */
#ifndef LMP_CGROUP_HIST_H
#define LMP_CGROUP_HIST_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/event.h"
#include "probes/lib/map_rows.h"
#include "expose/out.h"
#include "probe/probe.h"

struct lmp_cgroup_hist_ops {
	size_t value_size; /* the map's value: __u64 words (a multiple of 8), per-CPU, summed */
	/* rows are ordered by this, largest first, then by cgroup id */
	__u64 (*weight)(const void *value);
	/* every row, when metrics are on */
	void (*metrics)(struct lmp_rt *rt, __u64 cgroup_id, const void *value);
	/* the summary fields after "interval_s", for the first --top rows */
	void (*summary)(struct lmp_out *o, const void *value);
};

/* Rows of one interval, reused across intervals; calloc() it, free with
 * lmp_cgroup_hist_free(). */
struct lmp_cgroup_hist {
	struct lmp_map_rows rows;
};

/* Drain map_fd and report it; a failed read or lost rows count in p->decode_errors. */
void lmp_cgroup_hist_report(struct lmp_probe *p, struct lmp_rt *rt, struct lmp_cgroup_hist *h,
			    int map_fd, const struct lmp_cgroup_hist_ops *ops);
void lmp_cgroup_hist_free(struct lmp_cgroup_hist *h);

/* avg_s, p50_s, p90_s, p99_s of a histogram in ns, then the histogram as hist_key
 * (lmp_hist_json) */
void lmp_cgroup_hist_out_latency(struct lmp_out *o, const char *hist_key, const struct lmp_hist *h);

#endif /* LMP_CGROUP_HIST_H */

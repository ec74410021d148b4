/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interval report of a map keyed by cgroup id: every row to the metrics, the busiest
 * --top as summary lines; one routine so probes order, cut and count failures alike.
 */
#ifndef LMP_CGROUP_HIST_H
#define LMP_CGROUP_HIST_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/event.h"
#include "probes/lib/map_rows.h"
#include "expose/out.h"
#include "probe/probe.h"

struct lmp_metric_desc;

/*
 * A value that is one struct lmp_hist needs only hist_metric and hist_key: the weight is its
 * count, the metric that histogram, the summary "samples" and lmp_cgroup_hist_out_latency().
 * Other values set the three callbacks.
 */
struct lmp_cgroup_hist_ops {
	size_t value_size; /* __u64 words, per-CPU */
	/* largest first */
	__u64 (*weight)(const void *value);
	void (*metrics)(struct lmp_rt *rt, __u64 cgroup_id, const void *value);
	/* the fields after "interval_s" */
	void (*summary)(struct lmp_out *o, const void *value);
	const struct lmp_metric_desc *hist_metric;
	const char *hist_key;
};

struct lmp_cgroup_hist {
	struct lmp_map_rows rows;
};

/* p->priv becomes the report's state (kept across a reload); 0 or -ENOMEM */
int lmp_cgroup_hist_alloc(struct lmp_probe *p);
/* a failed read or lost rows count in p->decode_errors */
void lmp_cgroup_hist_report(struct lmp_probe *p, struct lmp_rt *rt, int map_fd,
			    const struct lmp_cgroup_hist_ops *ops);
/* a descriptor's cleanup: frees p->priv */
void lmp_cgroup_hist_cleanup(struct lmp_probe *p);

/* avg_s, p50_s, p90_s, p99_s, then the histogram */
void lmp_cgroup_hist_out_latency(struct lmp_out *o, const char *hist_key, const struct lmp_hist *h);

#endif /* LMP_CGROUP_HIST_H */

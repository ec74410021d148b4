/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics registry: counters, gauges and log2 histograms, keyed by metric, pod identity
 * and at most one extra label; rendered as Prometheus text. Probes feed it from their event
 * handlers (lmp_metrics_add) and from their per-interval map reads (lmp_metrics_hist_add).
 */
#ifndef LMP_METRICS_H
#define LMP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lmp/event.h"

struct lmp_identity;
struct lmp_metrics;

enum lmp_metric_type {
	LMP_METRIC_COUNTER,
	LMP_METRIC_GAUGE,
	LMP_METRIC_HISTOGRAM,
};

/* Static description of a metric family; define one per family as a const global. */
struct lmp_metric_desc {
	const char *name; /* lmp_*, base units, counters end in _total */
	const char *help;
	enum lmp_metric_type type;
	const char *label; /* name of the one extra label ("syscall", "signal"), or NULL */
	double scale;	   /* raw value (ns, bytes) * scale = base unit (seconds, bytes) */
	bool per_pod;	   /* series carry namespace, pod, container labels */
};

int lmp_metrics_new(size_t max_series, struct lmp_metrics **out);
void lmp_metrics_free(struct lmp_metrics *m);

/*
 * id is the identity of the cgroup the value belongs to (NULL for node-level series); a
 * per-pod family labels the series with id's namespace/pod/container ("" outside pods).
 * label_value is the extra label's value (NULL when the family has none).
 */
void lmp_metrics_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double delta);
void lmp_metrics_set(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double value);
/* merge a log2 histogram delta (slot counts, sum and count are increments, raw units) */
void lmp_metrics_hist_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
			  const struct lmp_identity *id, const char *label_value,
			  const struct lmp_hist *delta);

/* Prometheus text exposition format 0.0.4; *out is malloc'd, caller frees. -errno on failure */
int lmp_metrics_render(struct lmp_metrics *m, char **out, size_t *len);

/*
 * Additions (metrics.c). A family may name up to LMP_METRICS_MAX_LABELS extra labels in
 * desc->label, comma-separated ("probe,attach"); the *2 variants take both values. With the
 * one-value functions the second label is "". A NULL value renders as "".
 */
#define LMP_METRICS_MAX_LABELS 2

void lmp_metrics_add2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double delta);
void lmp_metrics_set2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double value);

/* Make a family known before its first sample, so /metrics shows its HELP/TYPE. -EINVAL if bad */
int lmp_metrics_declare(struct lmp_metrics *m, const struct lmp_metric_desc *d);

/* Always-present families: set them with a NULL identity (lmp_probe_up through set2). */
extern const struct lmp_metric_desc lmp_metric_probe_up;	  /* gauge {probe,attach} */
extern const struct lmp_metric_desc lmp_metric_events_total;	  /* counter {probe} */
extern const struct lmp_metric_desc lmp_metric_events_lost_total; /* counter {probe} */

/*
 * Stale pods. Times are seconds of CLOCK_MONOTONIC (lmp_metrics_clock()). Every update marks
 * its pod seen at the registry's current time, which lmp_metrics_set_now, _interval_mark and
 * _expire advance; lmp_metrics_touch_pod marks a pod seen without an update (the agent calls
 * it for each pod the kubelet still lists, so idle live pods keep their series).
 * lmp_metrics_expire removes every series of pods not seen for more than grace seconds and
 * returns how many it removed. Series without a pod never expire.
 */
double lmp_metrics_clock(void);
void lmp_metrics_set_now(struct lmp_metrics *m, double now);
void lmp_metrics_touch_pod(struct lmp_metrics *m, const char *ns, const char *pod);
int lmp_metrics_expire(struct lmp_metrics *m, double now, double grace);

/*
 * Close an interval: the per-series difference since the previous mark becomes "the last
 * interval" that lmp_metrics_pods_json reports. The agent calls it once per --interval.
 */
void lmp_metrics_interval_mark(struct lmp_metrics *m);

/*
 * JSON for GET /api/v1/pods (metrics_pods.c): one row per (namespace, pod, container) with,
 * for each per-pod histogram family, count and p50/p90/p99 (base units) of the last interval,
 * and for each counter the total and the rate over the last interval. *out is malloc'd.
 */
int lmp_metrics_pods_json(struct lmp_metrics *m, char **out, size_t *len);

/* Agent self metrics: CPU seconds (getrusage) and resident bytes (/proc/self/statm). */
void lmp_metrics_update_self(struct lmp_metrics *m);

/*
 * The kubelet client's counters as lmp_kubelet_* metrics (metrics_kubelet.c); the agent
 * calls it each interval with what lmp_ident_kubelet_stats returned.
 */
struct lmp_kubelet_stats;
void lmp_metrics_update_kubelet(struct lmp_metrics *m, const struct lmp_kubelet_stats *st);

/*
 * The cgroup resolver's counters as lmp_cgroup_* metrics (metrics_cgroup.c); the agent
 * calls it each interval with what lmp_ident_cgroup_stats returned.
 */
struct lmp_cgroup_stats;
void lmp_metrics_update_cgroup(struct lmp_metrics *m, const struct lmp_cgroup_stats *st);

/*
 * Hand back a buffer lmp_metrics_render returned, instead of free(): the next render reuses
 * it (a scrape of a busy node is megabytes). Frees it when it is not the latest one.
 */
void lmp_metrics_render_done(struct lmp_metrics *m, char *buf);

/*
 * Namespaces whose pods get no series (--include-namespaces / --exclude-namespaces); the
 * strings must outlive the registry. Series outside pods are always kept.
 */
void lmp_metrics_set_ns_filter(struct lmp_metrics *m, const char *include, const char *exclude);

size_t lmp_metrics_series_count(const struct lmp_metrics *m);
uint64_t lmp_metrics_dropped(const struct lmp_metrics *m);

#endif /* LMP_METRICS_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics registry: counters, gauges and log2 histograms keyed by metric, pod identity
 * and extra labels; rendered as Prometheus text.
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

/* one const global per family */
struct lmp_metric_desc {
	const char *name; /* lmp_*, base units, counters end in _total */
	const char *help;
	enum lmp_metric_type type;
	const char *label; /* extra labels, comma-separated, or NULL */
	double scale;	   /* raw value * scale = base unit */
	bool per_pod;	   /* namespace, pod, container labels */
};

int lmp_metrics_new(size_t max_series, struct lmp_metrics **out);
void lmp_metrics_free(struct lmp_metrics *m);

/*
 * id: the cgroup's identity, NULL for node-level series ("" labels outside pods).
 * label_value: NULL when the family has no extra label.
 */
void lmp_metrics_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double delta);
void lmp_metrics_set(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double value);
/* delta's slots, sum and count are increments, in raw units */
void lmp_metrics_hist_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
			  const struct lmp_identity *id, const char *label_value,
			  const struct lmp_hist *delta);

/* text format 0.0.4; *out is malloc'd; -errno on failure */
int lmp_metrics_render(struct lmp_metrics *m, char **out, size_t *len);

/* the one-value functions give the second label ""; a NULL value renders as "" */
#define LMP_METRICS_MAX_LABELS 2

void lmp_metrics_add2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double delta);
void lmp_metrics_set2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double value);

/* so /metrics shows HELP/TYPE before the first sample; -EINVAL if bad */
int lmp_metrics_declare(struct lmp_metrics *m, const struct lmp_metric_desc *d);

/* always present; set with a NULL identity */
extern const struct lmp_metric_desc lmp_metric_probe_up;	  /* {probe,attach} */
extern const struct lmp_metric_desc lmp_metric_events_total;	  /* {probe} */
extern const struct lmp_metric_desc lmp_metric_events_lost_total; /* {probe} */

/*
 * Stale pods, in CLOCK_MONOTONIC seconds. Every update marks its pod seen at the current
 * time; touch_pod marks it without an update, so idle live pods keep their series. expire
 * removes the series of pods unseen for more than grace and returns how many. Series
 * without a pod never expire.
 */
double lmp_metrics_clock(void);
void lmp_metrics_set_now(struct lmp_metrics *m, double now);
void lmp_metrics_touch_pod(struct lmp_metrics *m, const char *ns, const char *pod);
int lmp_metrics_expire(struct lmp_metrics *m, double now, double grace);

/* closes "the last interval" of lmp_metrics_pods_json; once per --interval */
void lmp_metrics_interval_mark(struct lmp_metrics *m);

/* GET /api/v1/pods (metrics_pods.c, docs/usage.md); *out is malloc'd */
int lmp_metrics_pods_json(struct lmp_metrics *m, char **out, size_t *len);

void lmp_metrics_update_self(struct lmp_metrics *m);

/* each interval, from lmp_ident_kubelet_stats */
struct lmp_kubelet_stats;
void lmp_metrics_update_kubelet(struct lmp_metrics *m, const struct lmp_kubelet_stats *st);

/* each interval, from lmp_ident_cgroup_stats */
struct lmp_cgroup_stats;
void lmp_metrics_update_cgroup(struct lmp_metrics *m, const struct lmp_cgroup_stats *st);

/*
 * Instead of free(): the next render reuses the buffer, since a busy node's scrape is
 * large. Frees it when it is not the latest.
 */
void lmp_metrics_render_done(struct lmp_metrics *m, char *buf);

/* the strings must outlive the registry; series outside pods are always kept */
void lmp_metrics_set_ns_filter(struct lmp_metrics *m, const char *include, const char *exclude);

size_t lmp_metrics_series_count(const struct lmp_metrics *m);
uint64_t lmp_metrics_dropped(const struct lmp_metrics *m);

#endif /* LMP_METRICS_H */

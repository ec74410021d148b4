/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the metrics registry shared by metrics.c (storage),
 * metrics_render.c (Prometheus text) and metrics_pods.c (the per-pod JSON
 * view). Not for other modules.
 */
#ifndef LMP_METRICS_INT_H
#define LMP_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>
#include "expose/metrics.h"

/* longest label value kept; longer ones are cut on a UTF-8 boundary (pod names
 * are <= 253) */
#define LMP_METRICS_VALUE_MAX 255

/*
 * A series' histogram keeps only the slots from the lowest to the highest ever non-zero
 * (lo..hi; they only widen, so buckets never vanish; lo > hi until the first sample).
 * Most series use a few of the 40 slots, and three full arrays cost 1 KiB a series: 10 MB
 * for the syscall latencies of 1,000 containers (docs/performance.md). With w = hi - lo + 1,
 * v[k] is slot lo + k cumulative since the series was created (raw units), v[w + k] its
 * value at the last interval mark, v[2w + k] what it gained between the last two marks.
 */
struct lmp_hist_state {
	uint64_t sum, mark_sum, delta_sum;
	uint64_t count, mark_count, delta_count;
	int lo, hi;
	uint64_t v[];
};

static inline int lmp_hist_width(const struct lmp_hist_state *h)
{
	return h->hi >= h->lo ? h->hi - h->lo + 1 : 0;
}

/* slot i cumulative, and its gain between the last two marks (0 outside lo..hi) */
static inline uint64_t lmp_hist_slot(const struct lmp_hist_state *h, int i)
{
	return i >= h->lo && i <= h->hi ? h->v[i - h->lo] : 0;
}

static inline uint64_t lmp_hist_slot_delta(const struct lmp_hist_state *h, int i)
{
	return i >= h->lo && i <= h->hi ? h->v[2 * lmp_hist_width(h) + i - h->lo] : 0;
}

/* A pod some series belong to: expiry works per pod, not per series. */
struct lmp_pod {
	struct lmp_pod *next;
	uint64_t hash;
	double seen; /* last update or touch, lmp_metrics_clock() seconds */
	unsigned refs;
	char key[]; /* namespace \0 name \0 */
};

struct lmp_family;

struct lmp_series {
	struct lmp_series *hnext; /* hash chain */
	struct lmp_series *fnext; /* family list, insertion order */
	struct lmp_family *fam;
	struct lmp_pod *podref; /* NULL for series without a pod */
	uint64_t hash;
	double value, mark, delta; /* counters and gauges; mark/delta as for histograms */
	struct lmp_hist_state *hist;
	const char *ns, *pod, *container;	   /* into key; "" when absent */
	const char *extra[LMP_METRICS_MAX_LABELS]; /* into key */
	char *labels;				   /* rendered `a="x",b="y"`, no braces */
	size_t labels_len;
	size_t key_len;
	char key[]; /* ns \0 pod \0 container \0 extra... \0 */
};

struct lmp_family {
	const struct lmp_metric_desc *d;
	struct lmp_family *next;
	struct lmp_series *head, *tail;
	size_t n;
	int nlabels;
	char label_names[LMP_METRICS_MAX_LABELS][64];
	char *le[LMP_HIST_SLOTS]; /* formatted bucket bounds, histograms only */
	size_t le_len[LMP_HIST_SLOTS];
	size_t name_len;
	unsigned idx; /* order of first use */
	double div;   /* 1/scale when that is a whole number, else 0 */
};

/*
 * raw value -> base unit. Dividing by 1e9 gives the double nearest to the true
 * value (63 ns -> 6.3e-08); multiplying by the inexact 1e-9 does not
 * (6.300000000000001e-08).
 */
static inline double lmp_family_scale(const struct lmp_family *f, double v)
{
	return f->div ? v / f->div : v * f->d->scale;
}

struct lmp_metrics {
	const char *ns_include, *ns_exclude; /* --include/--exclude-namespaces */
	struct lmp_family *families;	     /* in order of first use */
	unsigned nfamilies;
	struct lmp_series **buckets;
	size_t nbuckets;
	struct lmp_pod **pod_buckets;
	size_t npod_buckets;
	size_t nseries, npod_series, max_series;
	uint64_t dropped; /* series refused by the cap */
	uint64_t invalid; /* updates to a family whose description is malformed */
	uint64_t expired; /* series removed because their pod went away */
	double now;	  /* time stamped on updated series */
	double mark_time, interval;
	double start_time; /* wall clock, seconds since the epoch */
	double self_cpu, self_rss;
	size_t last_render_len;
	/* the buffer of the last render, and one handed back by lmp_metrics_render_done(): a
	 * scrape of many series is megabytes, and reusing pages already faulted in halves the
	 * time of the next render */
	char *out_buf, *spare;
	size_t out_cap, spare_cap;
};

int lmp_metrics_format_labels(struct lmp_series *s);
/* quantile q (0..1) of log2 slots, raw units; NaN when the slots are all zero
 */
double lmp_metrics_hist_quantile(const uint64_t *slots, int nslots, double q);

#endif /* LMP_METRICS_INT_H */

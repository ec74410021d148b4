/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the metrics registry (metrics*.c); not for other modules. */
#ifndef LMP_METRICS_INT_H
#define LMP_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>
#include "expose/metrics.h"

/* longer values are cut on a UTF-8 boundary */
#define LMP_METRICS_VALUE_MAX 255

/*
 * Only slots lo..hi, the lowest to the highest ever non-zero, are kept: most series use a
 * few (docs/performance.md, "Histogram series"). lo..hi only widens, so buckets never
 * vanish; lo > hi until the first sample. With w = hi - lo + 1: v[k] is slot lo + k
 * cumulative, v[w + k] its value at the last mark, v[2w + k] its gain between the last two.
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

static inline uint64_t lmp_hist_slot(const struct lmp_hist_state *h, int i)
{
	return i >= h->lo && i <= h->hi ? h->v[i - h->lo] : 0;
}

static inline uint64_t lmp_hist_slot_delta(const struct lmp_hist_state *h, int i)
{
	return i >= h->lo && i <= h->hi ? h->v[2 * lmp_hist_width(h) + i - h->lo] : 0;
}

/* expiry works per pod, not per series */
struct lmp_pod {
	struct lmp_pod *next;
	uint64_t hash;
	double seen; /* lmp_metrics_clock() seconds */
	unsigned refs;
	char key[]; /* namespace \0 name \0 */
};

struct lmp_family;

struct lmp_series {
	struct lmp_series *hnext;
	struct lmp_series *fnext;
	struct lmp_family *fam;
	struct lmp_pod *podref; /* NULL: no pod */
	uint64_t hash;
	double value, mark, delta;
	struct lmp_hist_state *hist;
	const char *ns, *pod, *container;	   /* into key; "" when absent */
	const char *extra[LMP_METRICS_MAX_LABELS]; /* into key */
	char *labels;				   /* `a="x",b="y"` */
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
	char *le[LMP_HIST_SLOTS];
	size_t le_len[LMP_HIST_SLOTS];
	size_t name_len;
	unsigned idx;
	double div; /* 1/scale when that is a whole number, else 0 */
};

/* dividing by 1e9 gives the nearest double; multiplying by the inexact 1e-9 does not */
static inline double lmp_family_scale(const struct lmp_family *f, double v)
{
	return f->div ? v / f->div : v * f->d->scale;
}

struct lmp_metrics {
	const char *ns_include, *ns_exclude;
	struct lmp_family *families; /* in order of first use */
	unsigned nfamilies;
	struct lmp_series **buckets;
	size_t nbuckets;
	struct lmp_pod **pod_buckets;
	size_t npod_buckets;
	size_t nseries, npod_series, max_series;
	uint64_t dropped; /* refused by the cap */
	uint64_t invalid; /* malformed description */
	uint64_t expired;
	double now;
	double mark_time, interval;
	double start_time; /* wall clock */
	double self_cpu, self_rss;
	size_t last_render_len;
	/* reused by the next render (docs/performance.md) */
	char *out_buf, *spare;
	size_t out_cap, spare_cap;
};

int lmp_metrics_format_labels(struct lmp_series *s);
/* raw units; NaN when the slots are all zero */
double lmp_metrics_hist_quantile(const uint64_t *slots, int nslots, double q);

#endif /* LMP_METRICS_INT_H */

// SPDX-License-Identifier: Apache-2.0
/*
 * The per-pod view behind GET /api/v1/pods and `lmp top`: for each (namespace,
 * pod, container), the quantiles of each per-pod histogram over the last
 * interval, the counters with their rate over that interval, and the gauges.
 * Series of one container that differ only in their extra labels (syscall,
 * signal, disk) are summed, so a row is one container.
 *
 * {"interval_seconds": 10.0, "pods": [{"namespace": "...", "pod": "...",
 * "container": "...", "histograms": {"lmp_tcp_connect_latency_seconds":
 * {"count": 12, "sum": 0.0031, "p50": 0.00012, "p90": ..., "p99": ...}},
 *   "counters": {"lmp_syscalls_total": {"total": 123456, "rate": 812.5}},
 *   "gauges": {"...": 1}}]}
 *
 * Quantiles are null when the interval saw no observation; rates are null
 * before the first interval has closed.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "expose/metrics.h"
#include "expose/metrics_int.h"

/*
 * Quantile q of a log2 histogram, in raw units: find the slot where the
 * cumulative count reaches q * total and interpolate linearly inside it, as
 * Prometheus' histogram_quantile does between bucket bounds. Slot i spans [2^i,
 * 2^(i+1)); slot 0 also holds 0, so [0, 2).
 */
double lmp_metrics_hist_quantile(const uint64_t *slots, int nslots, double q)
{
	uint64_t total = 0, cum = 0;
	double rank;

	for (int i = 0; i < nslots; i++)
		total += slots[i];
	if (!total)
		return NAN;
	rank = q * (double)total;
	for (int i = 0; i < nslots; i++) {
		double lo = i ? ldexp(1.0, i) : 0, hi = ldexp(1.0, i + 1);

		if (!slots[i])
			continue;
		if ((double)(cum + slots[i]) >= rank)
			return lo + (hi - lo) * ((rank - (double)cum) / (double)slots[i]);
		cum += slots[i];
	}
	return ldexp(1.0, nslots); /* q > 1: the top bound */
}

/*
 * Group a container's series together: series of one pod share their pod entry, so most
 * comparisons are pointer compares. Rows are put in name order afterwards (cmp_rows), on the
 * far smaller number of rows.
 */
static int cmp_series(const void *a, const void *b)
{
	const struct lmp_series *x = *(const struct lmp_series *const *)a;
	const struct lmp_series *y = *(const struct lmp_series *const *)b;
	int r;

	if (x->podref != y->podref)
		return x->podref < y->podref ? -1 : 1;
	if ((r = strcmp(x->container, y->container)))
		return r;
	return (x->fam->idx > y->fam->idx) - (x->fam->idx < y->fam->idx);
}

static bool same_row(const struct lmp_series *x, const struct lmp_series *y)
{
	return x->podref == y->podref && !strcmp(x->container, y->container);
}

struct row {
	const struct lmp_series *s; /* any series of the row, for its names */
	json_t *json;
};

static int cmp_rows(const void *a, const void *b)
{
	const struct lmp_series *x = ((const struct row *)a)->s, *y = ((const struct row *)b)->s;
	int r;

	if ((r = strcmp(x->ns, y->ns)) || (r = strcmp(x->pod, y->pod)))
		return r;
	return strcmp(x->container, y->container);
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *hist_json(const struct lmp_family *f, const uint64_t *slots, uint64_t count,
			 uint64_t sum)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = { { "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 } };
	json_t *h = json_pack("{s:I, s:f}", "count", (json_int_t)count, "sum",
			      lmp_family_scale(f, (double)sum));

	for (size_t i = 0; h && i < sizeof(qs) / sizeof(qs[0]); i++) {
		double v = lmp_family_scale(f, lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS,
									 qs[i].q));

		if (json_object_set_new(h, qs[i].key, real_or_null(v)) < 0) {
			json_decref(h);
			return NULL;
		}
	}
	return h;
}

/* one family of one row: the series s[0..n) share row and family */
static json_t *family_json(struct lmp_series **s, size_t n, double interval)
{
	const struct lmp_family *f = s[0]->fam;
	const struct lmp_metric_desc *d = f->d;
	double total = 0, delta = 0;

	if (d->type == LMP_METRIC_HISTOGRAM) {
		uint64_t slots[LMP_HIST_SLOTS] = { 0 }, sum = 0, count = 0;

		for (size_t k = 0; k < n; k++) {
			for (int i = 0; i < LMP_HIST_SLOTS; i++) {
				slots[i] += lmp_hist_slot_delta(s[k]->hist, i);
				count += lmp_hist_slot_delta(s[k]->hist, i);
			}
			sum += s[k]->hist->delta_sum;
		}
		return hist_json(f, slots, count, sum);
	}
	for (size_t k = 0; k < n; k++) {
		total += s[k]->value;
		delta += s[k]->delta;
	}
	if (d->type == LMP_METRIC_GAUGE)
		return json_real(lmp_family_scale(f, total));
	return json_pack("{s:o, s:o}", "total", json_real(lmp_family_scale(f, total)), "rate",
			 interval > 0 ? json_real(lmp_family_scale(f, delta) / interval) :
					json_null());
}

static const char *section(enum lmp_metric_type t)
{
	return t == LMP_METRIC_HISTOGRAM ? "histograms" :
	       t == LMP_METRIC_COUNTER	 ? "counters" :
					   "gauges";
}

static int build(struct lmp_metrics *m, struct lmp_series **v, size_t n, json_t *pods)
{
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	size_t i = 0, nrows = 0;
	int err = -ENOMEM;

	if (!rows)
		return -ENOMEM;
	while (i < n) {
		json_t *row = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:{}}", "namespace", v[i]->ns,
					"pod", v[i]->pod, "container", v[i]->container,
					"histograms", "counters", "gauges");
		size_t r = i;

		if (!row)
			goto out;
		rows[nrows++] = (struct row){ v[i], row };
		while (r < n && same_row(v[r], v[i])) {
			const struct lmp_metric_desc *d = v[r]->fam->d;
			size_t e = r;
			json_t *fj;

			while (e < n && v[e]->fam == v[r]->fam && same_row(v[e], v[r]))
				e++;
			fj = family_json(v + r, e - r, m->interval);
			if (!fj || json_object_set_new(json_object_get(row, section(d->type)),
						       d->name, fj) < 0)
				goto out;
			r = e;
		}
		i = r;
	}
	qsort(rows, nrows, sizeof(*rows), cmp_rows);
	for (i = 0; i < nrows; i++) {
		err = json_array_append(pods, rows[i].json);
		if (err < 0) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = 0;
out:
	for (i = 0; i < nrows; i++)
		json_decref(rows[i].json);
	free(rows);
	return err;
}

int lmp_metrics_pods_json(struct lmp_metrics *m, char **out, size_t *len)
{
	struct lmp_series **v = NULL;
	json_t *root = NULL;
	size_t n = 0;
	int err;

	if (!m || !out)
		return -EINVAL;
	if (m->npod_series) {
		v = malloc(m->npod_series * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (struct lmp_family *f = m->families; f; f = f->next) {
		if (!f->d->per_pod)
			continue;
		for (struct lmp_series *s = f->head; s; s = s->fnext)
			if (*s->pod && n < m->npod_series)
				v[n++] = s;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_series);
	root = json_pack("{s:o, s:[]}", "interval_seconds",
			 m->interval > 0 ? json_real(m->interval) : json_null(), "pods");
	err = root ? build(m, v, n, json_object_get(root, "pods")) : -ENOMEM;
	if (err < 0)
		goto out;
	*out = json_dumps(root, JSON_COMPACT);
	if (!*out) {
		err = -ENOMEM;
		goto out;
	}
	if (len)
		*len = strlen(*out);
	err = 0;
out:
	json_decref(root);
	free(v);
	return err;
}

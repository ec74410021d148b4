// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose/metrics.h"
#include "k8s/identity.h"
#include "probe/bpfmap.h"
#include "probes/lib/map_rows.h"
#include "probes/lib/cgroup_hist.h"
#include "probes/lib/hist_json.h"
#include "core/config.h"

/* each row as lmp_map_rows_drain() lays it out: a head with its weight, the key, the value */
struct row_head {
	__u64 weight;
	__u64 cgroup_id;
};

static int cmp_row(const void *a_, const void *b_)
{
	const struct row_head *a = a_, *b = b_;

	if (a->weight != b->weight)
		return a->weight < b->weight ? 1 : -1;
	return a->cgroup_id < b->cgroup_id ? -1 : a->cgroup_id > b->cgroup_id;
}

int lmp_cgroup_hist_alloc(struct lmp_probe *p)
{
	if (!p->priv)
		p->priv = calloc(1, sizeof(struct lmp_cgroup_hist));
	return p->priv ? 0 : -ENOMEM;
}

static __u64 weight(const struct lmp_cgroup_hist_ops *ops, const void *value)
{
	return ops->weight ? ops->weight(value) : ((const struct lmp_hist *)value)->count;
}

static void metrics(const struct lmp_cgroup_hist_ops *ops, struct lmp_rt *rt, __u64 cgroup_id,
		    const void *value)
{
	struct lmp_identity id;

	if (ops->metrics) {
		ops->metrics(rt, cgroup_id, value);
	} else if (ops->hist_metric) {
		lmp_ident_lookup(rt->ident, cgroup_id, &id);
		lmp_metrics_hist_add(rt->metrics, ops->hist_metric, &id, NULL, value);
	}
}

static void summary(const struct lmp_cgroup_hist_ops *ops, struct lmp_out *o, const void *value)
{
	const struct lmp_hist *h = value;

	if (ops->summary) {
		ops->summary(o, value);
		return;
	}
	lmp_out_u64(o, "samples", h->count);
	lmp_cgroup_hist_out_latency(o, ops->hist_key, h);
}

void lmp_cgroup_hist_report(struct lmp_probe *p, struct lmp_rt *rt, int map_fd,
			    const struct lmp_cgroup_hist_ops *ops)
{
	size_t stride = sizeof(struct row_head) + ops->value_size;
	struct lmp_cgroup_hist *h = p->priv;
	int r;

	r = lmp_map_rows_drain(&h->rows, map_fd, sizeof(__u64), sizeof(__u64), ops->value_size);
	if (r < 0 || h->rows.oom)
		p->decode_errors++;
	for (size_t i = 0; i < h->rows.n; i++) {
		struct row_head *row = (struct row_head *)(h->rows.rows + i * stride);

		row->weight = weight(ops, row + 1);
	}
	if (h->rows.n)
		qsort(h->rows.rows, h->rows.n, stride, cmp_row);
	for (size_t i = 0; i < h->rows.n; i++) {
		const struct row_head *row = (const struct row_head *)(h->rows.rows + i * stride);

		if (rt->metrics)
			metrics(ops, rt, row->cgroup_id, row + 1);
		if (i >= rt->cfg->top)
			continue;
		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		summary(ops, rt->out, row + 1);
		lmp_out_end(rt->out);
	}
}

void lmp_cgroup_hist_cleanup(struct lmp_probe *p)
{
	struct lmp_cgroup_hist *h = p->priv;

	if (h)
		lmp_map_rows_release(&h->rows);
	free(h);
	p->priv = NULL;
}

void lmp_cgroup_hist_out_latency(struct lmp_out *o, const char *hist_key, const struct lmp_hist *h)
{
	lmp_out_double(o, "avg_s", h->count ? h->sum / 1e9 / h->count : 0);
	lmp_out_double(o, "p50_s", lmp_hist_quantile(h, 0.5) / 1e9);
	lmp_out_double(o, "p90_s", lmp_hist_quantile(h, 0.9) / 1e9);
	lmp_out_double(o, "p99_s", lmp_hist_quantile(h, 0.99) / 1e9);
	lmp_hist_json(o, hist_key, h);
}

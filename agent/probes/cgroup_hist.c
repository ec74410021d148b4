// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfmap.h"
#include "cgroup_hist.h"
#include "config.h"

/* each row: cgroup id, weight, then the value; values are __u64 words, so all stay aligned */
struct row_head {
	__u64 cgroup_id;
	__u64 weight;
};

struct collect_ctx {
	struct lmp_cgroup_hist *h;
	const struct lmp_cgroup_hist_ops *ops;
	size_t stride;
};

static struct row_head *row_at(const struct lmp_cgroup_hist *h, size_t stride, size_t i)
{
	return (struct row_head *)(h->rows + i * stride);
}

static void collect(void *ctx_, const void *key, const void *value)
{
	struct collect_ctx *ctx = ctx_;
	struct lmp_cgroup_hist *h = ctx->h;
	struct row_head *row;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		unsigned char *r = realloc(h->rows, cap * ctx->stride);

		if (!r) {
			h->oom = true;
			return;
		}
		h->rows = r;
		h->cap = cap;
	}
	row = row_at(h, ctx->stride, h->n);
	memcpy(&row->cgroup_id, key, sizeof(__u64));
	memcpy(row + 1, value, ctx->ops->value_size);
	row->weight = ctx->ops->weight(row + 1);
	h->n++;
}

static int cmp_row(const void *a_, const void *b_)
{
	const struct row_head *a = a_, *b = b_;

	if (a->weight != b->weight)
		return a->weight < b->weight ? 1 : -1;
	return a->cgroup_id < b->cgroup_id ? -1 : a->cgroup_id > b->cgroup_id;
}

void lmp_cgroup_hist_report(struct lmp_probe *p, struct lmp_rt *rt, struct lmp_cgroup_hist *h,
			    int map_fd, const struct lmp_cgroup_hist_ops *ops)
{
	/* rows hold different value sizes from one probe to the next, never within one */
	struct collect_ctx ctx = { h, ops, sizeof(struct row_head) + (ops->value_size + 7) / 8 * 8 };
	int r;

	h->n = 0;
	h->oom = false;
	r = lmp_map_drain(map_fd, sizeof(__u64), ops->value_size, true, collect, &ctx);
	if (r < 0 || h->oom)
		p->decode_errors++;
	if (h->n)
		qsort(h->rows, h->n, ctx.stride, cmp_row);
	for (size_t i = 0; i < h->n; i++) {
		const struct row_head *row = row_at(h, ctx.stride, i);

		if (rt->metrics && ops->metrics)
			ops->metrics(rt, row->cgroup_id, row + 1);
		if (i >= rt->cfg->top)
			continue;
		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		ops->summary(rt->out, row + 1);
		lmp_out_end(rt->out);
	}
}

void lmp_cgroup_hist_free(struct lmp_cgroup_hist *h)
{
	if (h)
		free(h->rows);
	free(h);
}

void lmp_cgroup_hist_out_latency(struct lmp_out *o, const char *hist_key,
				 const struct lmp_hist *h)
{
	char label[48];

	lmp_out_double(o, "avg_s", h->count ? h->sum / 1e9 / h->count : 0);
	lmp_out_double(o, "p50_s", lmp_hist_quantile(h, 0.5) / 1e9);
	lmp_out_double(o, "p90_s", lmp_hist_quantile(h, 0.9) / 1e9);
	lmp_out_double(o, "p99_s", lmp_hist_quantile(h, 0.99) / 1e9);
	lmp_out_object_begin(o, hist_key);
	for (int i = 0; i < LMP_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		snprintf(label, sizeof(label), "%llu-%llu", i ? 1ULL << i : 0ULL,
			 (1ULL << (i + 1)) - 1);
		lmp_out_u64(o, label, h->slots[i]);
	}
	lmp_out_object_end(o);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * tcprtt: smoothed TCP round-trip time per cgroup (bpf/tcprtt.bpf.c), sampled on every
 * segment an established socket receives and charged to the socket's cgroup. Every interval:
 * one summary line per cgroup (samples, mean, p50/p90/p99) and lmp_tcp_rtt_seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/tcprtt.h"
#include "tcprtt.skel.h"
#include "bpfmap.h"
#include "config.h"
#include "identity.h"
#include "metrics.h"
#include "out.h"
#include "probe.h"

LMP_DEFINE_SKEL_OPS(tcprtt);

static const struct lmp_hook tcprtt_hooks[] = {
	{ "rtt", LMP_HOOK_TP_BTF, "tp_btf_tcp_probe", "tcp_probe" },
	{ "rtt", LMP_HOOK_RAW_TP, "raw_tp_tcp_probe", "tcp_probe" },
	{ "rtt", LMP_HOOK_TRACEPOINT, "tp_tcp_probe", "tcp/tcp_probe" },
	{ "rtt", LMP_HOOK_FENTRY, "fentry_tcp_rcv_established", "tcp_rcv_established" },
	{ "rtt", LMP_HOOK_KPROBE, "kprobe_tcp_rcv_established", "tcp_rcv_established" },
};

static const struct lmp_metric_desc rtt_seconds = {
	"lmp_tcp_rtt_seconds",
	"Smoothed TCP round-trip time, sampled per received segment, per container.",
	LMP_METRIC_HISTOGRAM, NULL, 1e-9, true,
};

struct row {
	__u64 cgroup_id;
	struct lmp_hist h;
};

struct tcprtt_priv {
	struct row *rows;
	size_t n, cap;
	bool oom;
};

static int tcprtt_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	p->priv = calloc(1, sizeof(struct tcprtt_priv));
	return p->priv ? 0 : -ENOMEM;
}

static void collect(void *ctx, const void *key, const void *value)
{
	struct tcprtt_priv *priv = ctx;

	if (priv->n == priv->cap) {
		size_t cap = priv->cap ? priv->cap * 2 : 64;
		struct row *r = realloc(priv->rows, cap * sizeof(*r));

		if (!r) {
			priv->oom = true;
			return;
		}
		priv->rows = r;
		priv->cap = cap;
	}
	memcpy(&priv->rows[priv->n].cgroup_id, key, sizeof(__u64));
	memcpy(&priv->rows[priv->n].h, value, sizeof(struct lmp_hist));
	priv->n++;
}

static int cmp_row(const void *a_, const void *b_)
{
	const struct row *a = a_, *b = b_;

	if (a->h.count != b->h.count)
		return a->h.count < b->h.count ? 1 : -1;
	return a->cgroup_id < b->cgroup_id ? -1 : a->cgroup_id > b->cgroup_id;
}

/* the non-empty log2 buckets, {"lo-hi": count} with bounds in ns, as biolatency prints them */
static void out_hist(struct lmp_out *o, const char *key, const struct lmp_hist *h)
{
	char label[48];

	lmp_out_object_begin(o, key);
	for (int i = 0; i < LMP_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		snprintf(label, sizeof(label), "%llu-%llu", i ? 1ULL << i : 0ULL,
			 (1ULL << (i + 1)) - 1);
		lmp_out_u64(o, label, h->slots[i]);
	}
	lmp_out_object_end(o);
}

static void tcprtt_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct tcprtt_bpf *skel = skel_;
	struct tcprtt_priv *priv = p->priv;
	struct lmp_identity id;
	int r;

	priv->n = 0;
	priv->oom = false;
	r = lmp_map_drain(bpf_map__fd(skel->maps.hists), sizeof(__u64), sizeof(struct lmp_hist),
			  true, collect, priv);
	if (r < 0 || priv->oom)
		p->decode_errors++;
	qsort(priv->rows, priv->n, sizeof(*priv->rows), cmp_row);
	for (size_t i = 0; i < priv->n; i++) {
		const struct row *row = &priv->rows[i];
		const struct lmp_hist *h = &row->h;

		if (rt->metrics) {
			lmp_ident_lookup(rt->ident, row->cgroup_id, &id);
			lmp_metrics_hist_add(rt->metrics, &rtt_seconds, &id, NULL, h);
		}
		if (i >= rt->cfg->top)
			continue;
		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_u64(rt->out, "samples", h->count);
		lmp_out_double(rt->out, "avg_s", h->count ? h->sum / 1e9 / h->count : 0);
		lmp_out_double(rt->out, "p50_s", lmp_hist_quantile(h, 0.5) / 1e9);
		lmp_out_double(rt->out, "p90_s", lmp_hist_quantile(h, 0.9) / 1e9);
		lmp_out_double(rt->out, "p99_s", lmp_hist_quantile(h, 0.99) / 1e9);
		out_hist(rt->out, "rtt_hist_ns", h);
		lmp_out_end(rt->out);
	}
}

static void tcprtt_cleanup(struct lmp_probe *p)
{
	struct tcprtt_priv *priv = p->priv;

	if (priv)
		free(priv->rows);
	free(priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_tcprtt = {
	.name = "tcprtt",
	.summary = "smoothed TCP RTT histogram per cgroup, charged to the socket's cgroup",
	.skel = &tcprtt_skel_ops,
	.hooks = tcprtt_hooks,
	.n_hooks = ARRAY_SIZE(tcprtt_hooks),
	.configure = tcprtt_configure,
	.interval = tcprtt_interval,
	.cleanup = tcprtt_cleanup,
};

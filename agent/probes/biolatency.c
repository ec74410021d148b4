// SPDX-License-Identifier: Apache-2.0
/*
 * biolatency: block I/O latency histograms per (cgroup, disk), drained every interval
 * (bpf/biolatency.bpf.c). One summary line per (cgroup, disk) with requests, queue and
 * latency quantiles and the latency histogram; per-pod Prometheus histograms
 * lmp_block_io_latency_seconds{disk} and lmp_block_io_queue_seconds{disk}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lmp/biolatency.h"
#include "biolatency.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/blkio.h"
#include "probes/lib/hist_json.h"

LMP_DEFINE_SKEL_OPS(biolatency);

static const struct lmp_hook biolatency_hooks[] = {
	LMP_BLKIO_HOOKS_START,
	LMP_BLKIO_HOOKS_ISSUE,
	LMP_BLKIO_HOOKS_DONE,
};

struct biolatency_options {
	bool queued; /* start -> complete instead of issue -> complete */
};

static const struct lmp_option biolatency_options[] = {
	LMP_OPTION_BOOL(
		struct biolatency_options, queued, "biolatency-queued", "LMP_BIOLATENCY_QUEUED",
		"false",
		"biolatency probe: latency from request creation (OS queue included), not issue"),
};

static const struct lmp_metric_desc latency_seconds = {
	"lmp_block_io_latency_seconds",
	"Block I/O latency per container and disk: issue to completion (device time), or request "
	"creation to completion with --biolatency-queued.",
	LMP_METRIC_HISTOGRAM,
	"disk",
	1e-9,
	true,
};
static const struct lmp_metric_desc queue_seconds = {
	"lmp_block_io_queue_seconds",
	"Block I/O time from request creation to issue (plugging, I/O scheduler), per container "
	"and disk.",
	LMP_METRIC_HISTOGRAM,
	"disk",
	1e-9,
	true,
};

struct biolatency_priv {
	bool queued;
};

static int biolatency_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	const struct biolatency_options *o = lmp_probe_options(p, cfg);
	struct biolatency_bpf *skel = skel_;
	struct biolatency_priv *priv = calloc(1, sizeof(*priv));

	if (!priv)
		return -ENOMEM;
	priv->queued = o->queued;
	skel->rodata->cfg_queued = priv->queued;
	skel->rodata->cfg_blkcg_v2 = lmp_blkio_io_on_v2(cfg->cgroup_root);
	p->priv = priv;
	return lmp_blkio_join(p, skel->obj, true, false);
}

static void collect(void *ctx, const void *key, const void *value)
{
	const struct lmp_biolatency_val *in = value;
	const struct lmp_blkio_key *k = key;
	struct lmp_biolatency_val *v = lmp_blkio_rows_get(ctx, k->cgroup_id, k->dev);

	if (!v)
		return; /* counted through rows.oom */
	lmp_hist_merge(&v->queue, &in->queue);
	lmp_hist_merge(&v->latency, &in->latency);
}

static void out_quantiles(struct lmp_out *o, const char *prefix, const struct lmp_hist *h)
{
	static const struct {
		const char *name;
		double q;
	} qs[] = { { "p50", 0.5 }, { "p90", 0.9 }, { "p99", 0.99 } };
	char key[48];

	snprintf(key, sizeof(key), "%s_avg_s", prefix);
	lmp_out_double(o, key, h->count ? h->sum / 1e9 / h->count : 0);
	for (size_t i = 0; i < ARRAY_SIZE(qs); i++) {
		snprintf(key, sizeof(key), "%s_%s_s", prefix, qs[i].name);
		lmp_out_double(o, key, lmp_hist_quantile(h, qs[i].q) / 1e9);
	}
}

static void biolatency_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct biolatency_bpf *skel = skel_;
	struct biolatency_priv *priv = p->priv;
	struct lmp_blkio_rows rows;
	struct lmp_identity id;
	int r;

	lmp_blkio_rows_init(&rows, sizeof(struct lmp_biolatency_val));
	r = lmp_map_drain(bpf_map__fd(skel->maps.hists), sizeof(struct lmp_blkio_key),
			  sizeof(struct lmp_biolatency_val), false, collect, &rows);
	if (r < 0 || rows.oom)
		p->decode_errors++; /* counted; what stayed in the map comes next interval */
	for (size_t i = 0; i < rows.n; i++) {
		struct lmp_blkio_row *row = &rows.rows[i];
		struct lmp_biolatency_val *v = row->val;

		row->weight = v->latency.count;
		if (!rt->metrics)
			continue;
		lmp_ident_lookup(rt->ident, row->cgroup_id, &id);
		if (v->latency.count)
			lmp_metrics_hist_add(rt->metrics, &latency_seconds, &id,
					     lmp_blkio_disk_name(row->dev), &v->latency);
		if (v->queue.count)
			lmp_metrics_hist_add(rt->metrics, &queue_seconds, &id,
					     lmp_blkio_disk_name(row->dev), &v->queue);
	}
	lmp_blkio_rows_sort(&rows);
	for (size_t i = 0; i < rows.n && i < rt->cfg->top; i++) {
		const struct lmp_blkio_row *row = &rows.rows[i];
		const struct lmp_biolatency_val *v = row->val;

		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_str(rt->out, "disk", lmp_blkio_disk_name(row->dev));
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_str(rt->out, "latency_kind", priv->queued ? "total" : "service");
		lmp_out_u64(rt->out, "ios", v->latency.count);
		out_quantiles(rt->out, "latency", &v->latency);
		lmp_out_u64(rt->out, "queued_ios", v->queue.count);
		out_quantiles(rt->out, "queue", &v->queue);
		lmp_hist_json(rt->out, "latency_hist_ns", &v->latency);
		lmp_out_end(rt->out);
	}
	lmp_blkio_rows_free(&rows);
}

static void biolatency_cleanup(struct lmp_probe *p)
{
	lmp_blkio_leave(p);
	free(p->priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_biolatency = {
	.name = "biolatency",
	.summary = "block I/O queue and service latency histograms per cgroup and disk",
	.skel = &biolatency_skel_ops,
	.hooks = biolatency_hooks,
	.n_hooks = ARRAY_SIZE(biolatency_hooks),
	.configure = biolatency_configure,
	.interval = biolatency_interval,
	.cleanup = biolatency_cleanup,
	.options = LMP_OPTIONS(struct biolatency_options, biolatency_options),
};

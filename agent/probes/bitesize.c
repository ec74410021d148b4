// SPDX-License-Identifier: Apache-2.0
/*
 * bitesize: block I/O request sizes per (cgroup, disk) as log2 histograms in bytes, drained
 * every interval (bpf/bitesize.bpf.c). One summary line per (cgroup, disk); per-pod
 * Prometheus histogram lmp_block_io_size_bytes{disk}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lmp/bitesize.h"
#include "bitesize.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/blkio.h"
#include "probes/lib/hist_json.h"

LMP_DEFINE_SKEL_OPS(bitesize);

static const struct lmp_hook bitesize_hooks[] = {
	LMP_BLKIO_HOOKS_START,
	LMP_BLKIO_HOOKS_ISSUE,
};

static const struct lmp_metric_desc size_bytes = {
	"lmp_block_io_size_bytes",
	"Block I/O request size at issue (after merges), per container and disk.",
	LMP_METRIC_HISTOGRAM,
	"disk",
	1,
	true,
};

static int bitesize_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct bitesize_bpf *skel = skel_;

	skel->rodata->cfg_blkcg_v2 = lmp_blkio_io_on_v2(cfg->cgroup_root);
	return lmp_blkio_join(p, skel->obj, false, false);
}

static void collect(void *ctx, const void *key, const void *value)
{
	const struct lmp_blkio_key *k = key;
	struct lmp_hist *h = lmp_blkio_rows_get(ctx, k->cgroup_id, k->dev);

	if (h)
		lmp_hist_merge(h, value);
}

static void bitesize_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct bitesize_bpf *skel = skel_;
	struct lmp_blkio_rows rows;
	struct lmp_identity id;
	int r;

	lmp_blkio_rows_init(&rows, sizeof(struct lmp_hist));
	r = lmp_map_drain(bpf_map__fd(skel->maps.sizes), sizeof(struct lmp_blkio_key),
			  sizeof(struct lmp_hist), false, collect, &rows);
	if (r < 0 || rows.oom)
		p->decode_errors++; /* counted; what stayed in the map comes next interval */
	for (size_t i = 0; i < rows.n; i++) {
		struct lmp_blkio_row *row = &rows.rows[i];
		const struct lmp_hist *h = row->val;

		row->weight = h->sum;
		if (!rt->metrics)
			continue;
		lmp_ident_lookup(rt->ident, row->cgroup_id, &id);
		lmp_metrics_hist_add(rt->metrics, &size_bytes, &id, lmp_blkio_disk_name(row->dev),
				     h);
	}
	lmp_blkio_rows_sort(&rows);
	for (size_t i = 0; i < rows.n && i < rt->cfg->top; i++) {
		const struct lmp_blkio_row *row = &rows.rows[i];
		const struct lmp_hist *h = row->val;

		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_str(rt->out, "disk", lmp_blkio_disk_name(row->dev));
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_u64(rt->out, "ios", h->count);
		lmp_out_u64(rt->out, "bytes", h->sum);
		lmp_out_double(rt->out, "avg_bytes", h->count ? (double)h->sum / h->count : 0);
		lmp_out_double(rt->out, "p50_bytes", lmp_hist_quantile(h, 0.5));
		lmp_out_double(rt->out, "p99_bytes", lmp_hist_quantile(h, 0.99));
		lmp_hist_json(rt->out, "size_hist_bytes", h);
		lmp_out_end(rt->out);
	}
	lmp_blkio_rows_free(&rows);
}

const struct lmp_probe_desc lmp_probe_bitesize = {
	.name = "bitesize",
	.summary = "block I/O request size histograms per cgroup and disk",
	.skel = &bitesize_skel_ops,
	.hooks = bitesize_hooks,
	.n_hooks = ARRAY_SIZE(bitesize_hooks),
	.configure = bitesize_configure,
	.cleanup = lmp_blkio_leave,
	.interval = bitesize_interval,
};

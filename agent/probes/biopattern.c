// SPDX-License-Identifier: Apache-2.0
/*
 * biopattern: sequential vs random block I/O per (cgroup, disk), drained every interval
 * (bpf/biopattern.bpf.c). One summary line per (cgroup, disk) with counts, bytes and the
 * random percentage, as libbpf-tools' biopattern prints per disk; per-pod counters
 * lmp_block_io_sequential_total{disk}, lmp_block_io_random_total{disk} and their _bytes_.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lmp/biopattern.h"
#include "biopattern.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/blkio.h"

LMP_DEFINE_SKEL_OPS(biopattern);

static const struct lmp_hook biopattern_hooks[] = {
	LMP_BLKIO_HOOKS_START,
	LMP_BLKIO_HOOKS_ISSUE,
};

static const struct lmp_metric_desc seq_total = {
	"lmp_block_io_sequential_total",
	"Block I/O requests that started where the container's previous request on the disk "
	"ended.",
	LMP_METRIC_COUNTER,
	"disk",
	1,
	true,
};
static const struct lmp_metric_desc rand_total = {
	"lmp_block_io_random_total",
	"Block I/O requests that did not continue the container's previous request on the disk.",
	LMP_METRIC_COUNTER,
	"disk",
	1,
	true,
};
static const struct lmp_metric_desc seq_bytes = {
	"lmp_block_io_sequential_bytes_total",
	"Bytes of sequential block I/O requests.",
	LMP_METRIC_COUNTER,
	"disk",
	1,
	true,
};
static const struct lmp_metric_desc rand_bytes = {
	"lmp_block_io_random_bytes_total",
	"Bytes of random block I/O requests.",
	LMP_METRIC_COUNTER,
	"disk",
	1,
	true,
};

static int biopattern_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct biopattern_bpf *skel = skel_;

	skel->rodata->cfg_blkcg_v2 = lmp_blkio_io_on_v2(cfg->cgroup_root);
	return lmp_blkio_join(p, skel->obj, false, false);
}

static void collect(void *ctx, const void *key, const void *value)
{
	const struct lmp_biopattern_counts *in = value;
	const struct lmp_blkio_key *k = key;
	struct lmp_biopattern_counts *c = lmp_blkio_rows_get(ctx, k->cgroup_id, k->dev);

	if (!c)
		return;
	c->sequential += in->sequential;
	c->random += in->random;
	c->sequential_bytes += in->sequential_bytes;
	c->random_bytes += in->random_bytes;
}

static void biopattern_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct biopattern_bpf *skel = skel_;
	struct lmp_blkio_rows rows;
	struct lmp_identity id;
	int r;

	lmp_blkio_rows_init(&rows, sizeof(struct lmp_biopattern_counts));
	r = lmp_map_drain(bpf_map__fd(skel->maps.counts), sizeof(struct lmp_blkio_key),
			  sizeof(struct lmp_biopattern_counts), false, collect, &rows);
	if (r < 0 || rows.oom)
		p->decode_errors++; /* counted; what stayed in the map comes next interval */
	for (size_t i = 0; i < rows.n; i++) {
		struct lmp_blkio_row *row = &rows.rows[i];
		const struct lmp_biopattern_counts *c = row->val;
		const char *disk;

		row->weight = c->sequential + c->random;
		if (!rt->metrics)
			continue;
		lmp_ident_lookup(rt->ident, row->cgroup_id, &id);
		disk = lmp_blkio_disk_name(row->dev);
		lmp_metrics_add(rt->metrics, &seq_total, &id, disk, c->sequential);
		lmp_metrics_add(rt->metrics, &rand_total, &id, disk, c->random);
		lmp_metrics_add(rt->metrics, &seq_bytes, &id, disk, c->sequential_bytes);
		lmp_metrics_add(rt->metrics, &rand_bytes, &id, disk, c->random_bytes);
	}
	lmp_blkio_rows_sort(&rows);
	for (size_t i = 0; i < rows.n && i < rt->cfg->top; i++) {
		const struct lmp_blkio_row *row = &rows.rows[i];
		const struct lmp_biopattern_counts *c = row->val;

		lmp_probe_summary_begin(p, rt, "summary", row->cgroup_id, 0, NULL);
		lmp_out_str(rt->out, "disk", lmp_blkio_disk_name(row->dev));
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_u64(rt->out, "ios", row->weight);
		lmp_out_u64(rt->out, "sequential", c->sequential);
		lmp_out_u64(rt->out, "random", c->random);
		lmp_out_double(rt->out, "random_pct",
			       row->weight ? 100.0 * c->random / row->weight : 0);
		lmp_out_u64(rt->out, "sequential_bytes", c->sequential_bytes);
		lmp_out_u64(rt->out, "random_bytes", c->random_bytes);
		lmp_out_end(rt->out);
	}
	lmp_blkio_rows_free(&rows);
}

const struct lmp_probe_desc lmp_probe_biopattern = {
	.name = "biopattern",
	.summary = "sequential vs random block I/O (counts, bytes) per cgroup and disk",
	.skel = &biopattern_skel_ops,
	.hooks = biopattern_hooks,
	.n_hooks = ARRAY_SIZE(biopattern_hooks),
	.configure = biopattern_configure,
	.cleanup = lmp_blkio_leave,
	.interval = biopattern_interval,
};

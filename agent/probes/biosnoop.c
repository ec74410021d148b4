// SPDX-License-Identifier: Apache-2.0
/*
 * biosnoop: one event per block I/O request slower than --biosnoop-min-latency-us
 * (bpf/biosnoop.bpf.c): disk, sector, bytes, op and rwbs flags, queue and service time,
 * the submitting process and the cgroup the I/O is charged to.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lmp/biosnoop.h"
#include "biosnoop.skel.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/blkio.h"

_Static_assert(sizeof(struct lmp_biosnoop_event) == 88, "biosnoop record ABI");

LMP_DEFINE_SKEL_OPS(biosnoop);

static const struct lmp_hook biosnoop_hooks[] = {
	LMP_BLKIO_HOOKS_START,
	LMP_BLKIO_HOOKS_ISSUE,
	LMP_BLKIO_HOOKS_DONE,
};

struct biosnoop_options {
	unsigned min_latency_us; /* queue + service threshold */
};

static const struct lmp_option biosnoop_options[] = {
	LMP_OPTION_UINT(
		struct biosnoop_options, min_latency_us, "biosnoop-min-latency-us",
		"LMP_BIOSNOOP_MIN_LATENCY_US", "1000", 0, 60000000,
		"biosnoop probe: report requests whose queue + service time is at least this"),
};

static const struct lmp_metric_desc slow_total = {
	"lmp_block_io_slow_total",
	"Block I/O requests reported by biosnoop (queue + service time at or above "
	"--biosnoop-min-latency-us), per container and disk.",
	LMP_METRIC_COUNTER,
	"disk",
	1,
	true,
};

static int biosnoop_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	const struct biosnoop_options *o = lmp_probe_options(p, cfg);
	struct biosnoop_bpf *skel = skel_;

	skel->rodata->cfg_min_ns = (__u64)o->min_latency_us * 1000;
	skel->rodata->cfg_blkcg_v2 = lmp_blkio_io_on_v2(cfg->cgroup_root);
	return lmp_blkio_join(p, skel->obj, true, true);
}

static void io_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_biosnoop_event *e = rec;
	const char *disk = lmp_blkio_disk_name(e->dev);
	const char *err = lmp_blkio_status_name(e->status);
	struct lmp_identity id;
	char rwbs[8], dev[24];

	lmp_blkio_rwbs(e->flags, rwbs);
	snprintf(dev, sizeof(dev), "%u:%u", LMP_BLKIO_MAJOR(e->dev), LMP_BLKIO_MINOR(e->dev));
	lmp_out_str(rt->out, "disk", disk);
	lmp_out_str(rt->out, "dev", dev);
	lmp_out_str(rt->out, "op", lmp_blkio_op_name(e->flags));
	lmp_out_str(rt->out, "rwbs", rwbs);
	/* a request without data (a flush) has no sector: the kernel's (sector_t)-1 */
	if (e->sector != ~0ULL)
		lmp_out_u64(rt->out, "sector", e->sector);
	else
		lmp_out_null(rt->out, "sector");
	if (e->flags & LMP_BLKIO_F_STARTED)
		lmp_out_double(rt->out, "queue_s", e->queue_ns / 1e9);
	else
		lmp_out_null(rt->out, "queue_s"); /* start not seen: unknown, not zero */
	if (err)
		lmp_out_str(rt->out, "error", err);
	else
		lmp_out_null(rt->out, "error");
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &slow_total, &id, disk, 1);
	}
}

static const struct lmp_field io_fields[] = {
	LMP_FIELD(struct lmp_biosnoop_event, bytes, "bytes", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_biosnoop_event, latency_ns, "latency_s", LMP_FIELD_NS_AS_S),
	LMP_FIELD(struct lmp_biosnoop_event, status, "status", LMP_FIELD_U32),
};

static const struct lmp_event_desc biosnoop_events[] = {
	[LMP_BIOSNOOP_IO] = { "io", sizeof(struct lmp_biosnoop_event), io_fields,
			      ARRAY_SIZE(io_fields), io_extra },
};

const struct lmp_probe_desc lmp_probe_biosnoop = {
	.name = "biosnoop",
	.summary = "per-request block I/O events (disk, sector, bytes, latency) over a threshold",
	.skel = &biosnoop_skel_ops,
	.hooks = biosnoop_hooks,
	.n_hooks = ARRAY_SIZE(biosnoop_hooks),
	.events = biosnoop_events,
	.n_events = ARRAY_SIZE(biosnoop_events),
	.configure = biosnoop_configure,
	.cleanup = lmp_blkio_leave,
	.options = LMP_OPTIONS(struct biosnoop_options, biosnoop_options),
};

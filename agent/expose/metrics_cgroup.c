// SPDX-License-Identifier: Apache-2.0
/*
 * The cgroup resolver's health as metrics: how cgroup ids are turned into paths (file
 * handles or tree walks), how often the cache answers, how many walks the background
 * walker made and of which kind, and how many ids named no cgroup. A node where pod labels
 * go missing shows it here first; a node where pods come and go by the thousand shows how
 * many of its lookups the negative cache answered. Copied from lmp_cgroup_stats each interval, like the
 * kubelet client's counters (metrics_kubelet.c).
 */
#include "k8s/cgroup.h"
#include "expose/metrics.h"

static const struct lmp_metric_desc lookups = {
	.name = "lmp_cgroup_lookups_total",
	.help = "cgroup id -> path lookups, by result (hit: from the cache, miss: resolved anew, "
		"gone: a cgroup known to be removed, pending: not named yet, answered without "
		"waiting)",
	.type = LMP_METRIC_COUNTER,
	.label = "result",
	.scale = 1,
};

static const struct lmp_metric_desc walks = {
	.name = "lmp_cgroup_walks_total",
	.help = "Walks of the cgroup v2 tree (no file handles), by kind: whole tree or targeted",
	.type = LMP_METRIC_COUNTER,
	.label = "kind",
	.scale = 1,
};

static const struct lmp_metric_desc not_found = {
	.name = "lmp_cgroup_not_found_total",
	.help = "cgroup ids that named no cgroup in the v2 tree (removed, or outside the mount)",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc pending = {
	.name = "lmp_cgroup_pending_total",
	.help = "cgroup ids handed to the background walker (their events held meanwhile)",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc gone = {
	.name = "lmp_cgroup_gone_total",
	.help = "cgroup ids proven gone (removed) and put in the negative cache",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc gone_evictions = {
	.name = "lmp_cgroup_gone_evictions_total",
	.help = "Gone cgroup ids pushed out of the full negative cache (older first)",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc gone_entries = {
	.name = "lmp_cgroup_gone_cache_entries",
	.help = "cgroup ids in the negative cache (bounded)",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc by_pid = {
	.name = "lmp_cgroup_proc_resolves_total",
	.help = "cgroups named from /proc/<pid>/cgroup of the event's live process, before any "
		"walk",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc entries = {
	.name = "lmp_cgroup_cache_entries",
	.help = "cgroups in the id -> path cache",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc handles = {
	.name = "lmp_cgroup_file_handles",
	.help = "1 when cgroup ids are resolved by file handle, 0 when by walking the tree",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

void lmp_metrics_update_cgroup(struct lmp_metrics *m, const struct lmp_cgroup_stats *st)
{
	if (!m || !st)
		return;
	lmp_metrics_set(m, &lookups, NULL, "hit", (double)st->hits);
	lmp_metrics_set(m, &lookups, NULL, "miss", (double)st->misses);
	lmp_metrics_set(m, &lookups, NULL, "gone", (double)st->gone_hits);
	lmp_metrics_set(m, &lookups, NULL, "pending", (double)st->pending_hits);
	lmp_metrics_set(m, &walks, NULL, "whole", (double)st->walks);
	lmp_metrics_set(m, &walks, NULL, "targeted", (double)st->partial_walks);
	lmp_metrics_set(m, &not_found, NULL, NULL, (double)st->not_found);
	lmp_metrics_set(m, &pending, NULL, NULL, (double)st->pending);
	lmp_metrics_set(m, &gone, NULL, NULL, (double)st->gone);
	lmp_metrics_set(m, &gone_evictions, NULL, NULL, (double)st->gone_evictions);
	lmp_metrics_set(m, &gone_entries, NULL, NULL, (double)st->gone_entries);
	lmp_metrics_set(m, &by_pid, NULL, NULL, (double)st->by_pid);
	lmp_metrics_set(m, &entries, NULL, NULL, (double)st->entries);
	lmp_metrics_set(m, &handles, NULL, NULL, st->handles ? 1 : 0);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * llcstat: last-level cache references and misses per cgroup (bpf/llcstat.bpf.c), from
 * sampling hardware cache events on every CPU. Nodes without a PMU (most VMs) fail the
 * PERF_HW check, so the probe is reported "unsupported on this node: no hardware cache
 * counters" and the agent runs the others. Every interval: one summary line per cgroup
 * (references, misses, hit ratio) and the lmp_llc_references_total / lmp_llc_misses_total
 * counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/llcstat.h"
#include "llcstat.skel.h"
#include "probes/lib/cgroup_hist.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"

/*
 * One sample every this many events. libbpf-tools llcstat defaults to 100, fine for a
 * minute of diagnosis; an always-on agent at 1e8 LLC references per second per CPU would
 * take a million NMIs a second with it. 10000 keeps that at 10k while the sums stay within
 * a fraction of a percent over an interval.
 */
#define LLC_SAMPLE_PERIOD 10000

#define LLC_CONFIG(result) \
	(PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) | ((__u64)(result) << 16))

LMP_DEFINE_SKEL_OPS(llcstat);

/* two groups: both counters are needed, and neither has an alternative without a PMU */
static const struct lmp_hook llcstat_hooks[] = {
	{ "references", LMP_HOOK_PERF_HW, "perf_event_llc_references", "llc" },
	{ "misses", LMP_HOOK_PERF_HW, "perf_event_llc_misses", "llc" },
};

static const struct lmp_metric_desc refs_total = {
	"lmp_llc_references_total",
	"Last-level cache read references (estimated from samples), per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};
static const struct lmp_metric_desc misses_total = {
	"lmp_llc_misses_total",
	"Last-level cache read misses (estimated from samples), per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};

/*
 * Open one sampling perf event (type, config) on every online CPU and attach prog to each.
 * The links own the events' fds (bpf_link__destroy closes them). Returns 0 when at least one
 * CPU got its event, else -errno of the first failure. Besides .attach below, the
 * integration test calls this with a software clock, so the BPF program itself is loaded,
 * attached and checked on machines that have no PMU.
 */
int lmp_llcstat_open_events(struct bpf_program *prog, __u32 type, __u64 config, __u64 period,
			    struct bpf_link **links, size_t max, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus(), first_err = 0;
	size_t opened = 0;

	if (ncpu < 0)
		return ncpu;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr attr = {
			.size = sizeof(attr),
			.type = type,
			.config = config,
			.sample_period = period,
		};
		struct bpf_link *l;
		int fd;

		if (*n >= max)
			return -E2BIG;
		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV) /* a possible CPU that is offline */
				continue;
			if (!first_err)
				first_err = -errno;
			continue;
		}
		l = bpf_program__attach_perf_event(prog, fd);
		if (!l) {
			if (!first_err)
				first_err = -errno;
			close(fd);
			continue;
		}
		links[(*n)++] = l;
		opened++;
	}
	if (first_err)
		return first_err; /* a partial view would under-count: all or nothing */
	return opened ? 0 : -ENODEV;
}

static int llcstat_attach(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct llcstat_bpf *skel = skel_;
	int ncpu = libbpf_num_possible_cpus(), err;
	size_t max;

	if (ncpu < 0)
		return ncpu;
	max = 2 * (size_t)ncpu;
	p->links = calloc(max, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	err = lmp_llcstat_open_events(skel->progs.perf_event_llc_references, PERF_TYPE_HW_CACHE,
				      LLC_CONFIG(PERF_COUNT_HW_CACHE_RESULT_ACCESS),
				      LLC_SAMPLE_PERIOD, p->links, max, &p->n_links);
	if (!err)
		err = lmp_llcstat_open_events(skel->progs.perf_event_llc_misses, PERF_TYPE_HW_CACHE,
					      LLC_CONFIG(PERF_COUNT_HW_CACHE_RESULT_MISS),
					      LLC_SAMPLE_PERIOD, p->links, max, &p->n_links);
	if (err)
		snprintf(p->reason, sizeof(p->reason),
			 "no hardware cache counters (perf_event_open LL cache: %s)",
			 strerror(-err));
	return err; /* on failure lmp_probe_stop destroys the links made so far */
}

static int llcstat_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	return lmp_cgroup_hist_alloc(p);
}

static __u64 llc_weight(const void *value)
{
	return ((const struct lmp_llcstat_val *)value)->misses;
}

static void llc_metrics(struct lmp_rt *rt, __u64 cgroup_id, const void *value)
{
	const struct lmp_llcstat_val *v = value;
	struct lmp_identity id;

	lmp_ident_lookup(rt->ident, cgroup_id, &id);
	lmp_metrics_add(rt->metrics, &refs_total, &id, NULL, v->references);
	lmp_metrics_add(rt->metrics, &misses_total, &id, NULL, v->misses);
}

static void llc_summary(struct lmp_out *o, const void *value)
{
	const struct lmp_llcstat_val *v = value;

	lmp_out_u64(o, "references", v->references);
	lmp_out_u64(o, "misses", v->misses);
	/* sampled independently: misses can exceed references over a short interval */
	if (v->references && v->misses <= v->references)
		lmp_out_double(o, "hit_ratio", 1.0 - (double)v->misses / v->references);
	else
		lmp_out_null(o, "hit_ratio");
}

static const struct lmp_cgroup_hist_ops llc_ops = {
	.value_size = sizeof(struct lmp_llcstat_val),
	.weight = llc_weight,
	.metrics = llc_metrics,
	.summary = llc_summary,
};

static void llcstat_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct llcstat_bpf *skel = skel_;

	lmp_cgroup_hist_report(p, rt, bpf_map__fd(skel->maps.stats), &llc_ops);
}

const struct lmp_probe_desc lmp_probe_llcstat = {
	.name = "llcstat",
	.summary = "last-level cache references and misses per cgroup (needs a hardware PMU)",
	.skel = &llcstat_skel_ops,
	.hooks = llcstat_hooks,
	.n_hooks = ARRAY_SIZE(llcstat_hooks),
	.configure = llcstat_configure,
	.attach = llcstat_attach,
	.interval = llcstat_interval,
	.cleanup = lmp_cgroup_hist_cleanup,
};

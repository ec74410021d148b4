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
#include "probes/lib/cgroup_hist.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"

LMP_DEFINE_SKEL_OPS(tcprtt);

static const struct lmp_hook tcprtt_hooks[] = {
	LMP_HOOKS_TP("rtt", "tcp_probe", "tcp"),
	LMP_HOOKS_FUNC("rtt", "tcp_rcv_established"),
};

static const struct lmp_metric_desc rtt_seconds = {
	"lmp_tcp_rtt_seconds",
	"Smoothed TCP round-trip time, sampled per received segment, per container.",
	LMP_METRIC_HISTOGRAM,
	NULL,
	1e-9,
	true,
};

static int tcprtt_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	return lmp_cgroup_hist_alloc(p);
}

static const struct lmp_cgroup_hist_ops rtt_ops = {
	.value_size = sizeof(struct lmp_hist),
	.hist_metric = &rtt_seconds,
	.hist_key = "rtt_hist_ns",
};

static void tcprtt_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct tcprtt_bpf *skel = skel_;

	lmp_cgroup_hist_report(p, rt, bpf_map__fd(skel->maps.hists), &rtt_ops);
}

const struct lmp_probe_desc lmp_probe_tcprtt = {
	.name = "tcprtt",
	.summary = "smoothed TCP RTT histogram per cgroup, charged to the socket's cgroup",
	.skel = &tcprtt_skel_ops,
	.hooks = tcprtt_hooks,
	.n_hooks = ARRAY_SIZE(tcprtt_hooks),
	.configure = tcprtt_configure,
	.interval = tcprtt_interval,
	.cleanup = lmp_cgroup_hist_cleanup,
};

// SPDX-License-Identifier: Apache-2.0
/*
 * runqlat: run-queue latency per cgroup (bpf/runqlat.bpf.c), the time from a task becoming
 * runnable (woken, or preempted) to it running, charged to the task's cgroup. Every
 * interval: one summary line per cgroup (samples, mean, p50/p90/p99, the histogram) and
 * lmp_run_queue_latency_seconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

#include "lmp/runqlat.h"
#include "runqlat.skel.h"
#include "probes/lib/cgroup_hist.h"
#include "probes/lib/tasklocal.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"

LMP_DEFINE_SKEL_OPS(runqlat);

static const struct lmp_hook runqlat_hooks[] = {
	{ "wakeup", LMP_HOOK_TP_BTF, "tp_btf_sched_wakeup", "sched_wakeup" },
	{ "wakeup", LMP_HOOK_RAW_TP, "raw_tp_sched_wakeup", "sched_wakeup" },
	{ "wakeup_new", LMP_HOOK_TP_BTF, "tp_btf_sched_wakeup_new", "sched_wakeup_new" },
	{ "wakeup_new", LMP_HOOK_RAW_TP, "raw_tp_sched_wakeup_new", "sched_wakeup_new" },
	{ "switch", LMP_HOOK_TP_BTF, "tp_btf_sched_switch", "sched_switch" },
	{ "switch", LMP_HOOK_RAW_TP, "raw_tp_sched_switch", "sched_switch" },
};

static const struct lmp_metric_desc runq_seconds = {
	"lmp_run_queue_latency_seconds",
	"Run-queue latency per container: time from a task becoming runnable (woken or "
	"preempted) to it running on a CPU.",
	LMP_METRIC_HISTOGRAM,
	NULL,
	1e-9,
	true,
};

/* task storage takes BTF pointers: only when every chosen hook is tp_btf */
static bool all_tp_btf(const struct lmp_probe *p)
{
	for (size_t i = 0; i < p->desc->n_hooks; i++)
		if (p->chosen[i] && p->desc->hooks[i].kind != LMP_HOOK_TP_BTF)
			return false;
	return true;
}

static int runqlat_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct runqlat_bpf *skel = skel_;
	int err = 0;

	if (!all_tp_btf(p) || !lmp_have_task_storage()) {
		err = lmp_probe_set_rodata_u32(skel->obj, "sys_task_btf", 0);
		if (!err)
			err = lmp_task_local_as_hash(skel->maps.enq_ns);
	}
	return err ? err : lmp_cgroup_hist_alloc(p);
}

static const struct lmp_cgroup_hist_ops runq_ops = {
	.value_size = sizeof(struct lmp_hist),
	.hist_metric = &runq_seconds,
	.hist_key = "latency_hist_ns",
};

static void runqlat_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct runqlat_bpf *skel = skel_;

	lmp_cgroup_hist_report(p, rt, bpf_map__fd(skel->maps.hists), &runq_ops);
}

const struct lmp_probe_desc lmp_probe_runqlat = {
	.name = "runqlat",
	.summary = "run-queue latency histogram per cgroup: wakeup or preemption to running",
	.skel = &runqlat_skel_ops,
	.hooks = runqlat_hooks,
	.n_hooks = ARRAY_SIZE(runqlat_hooks),
	.configure = runqlat_configure,
	.interval = runqlat_interval,
	.cleanup = lmp_cgroup_hist_cleanup,
};

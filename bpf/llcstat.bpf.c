// SPDX-License-Identifier: GPL-2.0-only
/*
 * llcstat: last-level cache references and misses per cgroup.
 *
 * Hooks (agent/probes/llcstat.c): one sampling perf event per CPU for each of
 * PERF_TYPE_HW_CACHE LL read accesses and LL read misses (hardware PMU needed; no
 * alternative exists without one), each running the program below every sample_period
 * events. The interrupted task is the one that caused the cache traffic, so its cgroup is
 * the right one to charge. Each sample adds the period, which makes the sums estimates of
 * the real counts (as in libbpf-tools llcstat).
 *
 * Samples arrive in NMI context: the map must be preallocated (the verifier refuses
 * run-time allocation for perf_event programs).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lmp/llcstat.h"
#include "lmp.bpf.h"

/* cgroups that ran within one interval: 4096 x 16 bytes x CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct lmp_llcstat_val);
} stats SEC(".maps");

static const struct lmp_llcstat_val zero_val;

static __always_inline int handle_sample(__u64 period, bool miss)
{
	__u64 cgroup_id = bpf_get_current_cgroup_id();
	struct lmp_llcstat_val *v = lmp_map_lookup_or_init(&stats, &cgroup_id, &zero_val);

	if (!v)
		return 0;
	if (miss)
		v->misses += period;
	else
		v->references += period;
	return 0;
}

SEC("perf_event")
int perf_event_llc_references(struct bpf_perf_event_data *ctx)
{
	return handle_sample(ctx->sample_period, false);
}

SEC("perf_event")
int perf_event_llc_misses(struct bpf_perf_event_data *ctx)
{
	return handle_sample(ctx->sample_period, true);
}

char LICENSE[] SEC("license") = "GPL";

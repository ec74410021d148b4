// SPDX-License-Identifier: GPL-2.0-only
/*
 * profile: on-CPU stack sampling. A perf event per CPU fires --profile-hz times a second;
 * each sample records the interrupted task's kernel and user stacks (bpf_get_stackid) and
 * counts one for (cgroup, process, user stack, kernel stack). The agent drains the counts
 * every interval and prints the top stacks of each pod, symbolized.
 *
 * Hooks, best first (agent/probes/profile.c):
 *   sample: perf_event PERF_COUNT_SW_CPU_CLOCK (4.9+; works in VMs without a PMU) >
 *           perf_event PERF_COUNT_HW_CPU_CYCLES (4.9+, needs a hardware PMU; chosen with
 *           --profile-event cycles, or when software events are missing)
 * The two programs are the same code: which one runs is decided by the event it is
 * attached to. Samples are frequent (49 Hz x CPUs), so they are aggregated in the kernel.
 * User stacks are walked with frame pointers, as bpf_get_stackid does; code built without
 * them shows shorter user stacks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lmp/profile.h"
#include "lmp.bpf.h"
#include "lmp_stack.bpf.h"

/* sample the idle task too (pid 0): off, as in libbpf-tools profile */
const volatile __u32 cfg_include_idle = 0;

/* distinct stacks alive in one interval; the agent deletes them after each report */
LMP_STACK_MAP(stacks, 8192);

/* (cgroup, process, stacks) seen in one interval */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lmp_profile_key);
	__type(value, struct lmp_profile_val);
} counts SEC(".maps");

static __always_inline int handle_sample(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lmp_profile_key key = {};
	struct lmp_profile_val *val;

	if (!cfg_include_idle && (__u32)id == 0)
		return 0;
	key.cgroup_id = bpf_get_current_cgroup_id();
	key.pid = id >> 32;
	key.kernel_stack_id = lmp_stackid(ctx, &stacks, 0);
	key.user_stack_id = lmp_stackid(ctx, &stacks, BPF_F_USER_STACK);

	val = bpf_map_lookup_elem(&counts, &key);
	if (!val) {
		struct lmp_profile_val init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		val = lmp_map_lookup_or_init(&counts, &key, &init);
		if (!val)
			return 0;
	}
	__sync_fetch_and_add(&val->samples, 1);
	return 0;
}

SEC("perf_event")
int perf_event_cpu_clock(struct bpf_perf_event_data *ctx)
{
	return handle_sample(ctx);
}

SEC("perf_event")
int perf_event_cycles(struct bpf_perf_event_data *ctx)
{
	return handle_sample(ctx);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark load generator, not a probe: every getppid() of the bench's producer process
 * emits cfg_burst process-exit-shaped records into the ring buffer, through the same
 * lmp_event_reserve() every probe uses. This measures the agent's pipeline (ring buffer ->
 * decode -> JSON) at rates no real workload reaches on two cores.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lmp/process.h"
#include "lmp.bpf.h"

const volatile __u32 cfg_pid = 0;
const volatile __u32 cfg_burst = 1;

__u64 emitted = 0;

static long emit(__u32 i, void *ctx)
{
	struct lmp_process_exit *e = lmp_event_reserve(sizeof(*e), LMP_PROCESS_EXIT);

	__sync_fetch_and_add(&emitted, 1);
	if (!e)
		return 0;
	e->ppid = 1;
	e->exit_code = i & 0xff;
	e->lifetime_ns = 1000 + i;
	lmp_event_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_flood(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != cfg_pid)
		return 0;
	bpf_loop(cfg_burst, emit, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * funclatency: time from entry to return of one function (--funclatency-target), as a log2
 * histogram per cgroup, aggregated in the kernel.
 *
 * Hooks (agent/probes/funclatency.c picks by target, not by the generic hook table):
 *   user function "binary:symbol": uprobe + uretprobe (4.x+; work here)
 *   kernel function "symbol": fentry + fexit (5.5+, x86; arm64 6.0+) > kprobe + kretprobe
 *   (needs CONFIG_KPROBES). On kernels with neither the probe reports itself unsupported.
 * Entry stores a timestamp per thread; return turns it into a latency. Recursion or a
 * longjmp out of the function overwrites or strands a start: the start map is an LRU so
 * stranded entries age out instead of filling it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lmp/funclatency.h"
#include "lmp.bpf.h"

/* only this process (tgid); 0: every process */
const volatile __u32 cfg_pid = 0;

/* calls in flight, by thread */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* one histogram per cgroup: bounded by the containers of a node */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct lmp_hist);
} hists SEC(".maps");

const struct lmp_hist zero_hist = {};

static __always_inline int handle_entry(void)
{
	__u64 id = bpf_get_current_pid_tgid(), ts;
	__u32 tid = (__u32)id;

	if (cfg_pid && (id >> 32) != cfg_pid)
		return 0;
	if (lmp_is_self())
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int handle_return(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *tsp, delta, cgroup_id;
	struct lmp_hist *h;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &tid);
	cgroup_id = bpf_get_current_cgroup_id();
	h = lmp_map_lookup_or_init(&hists, &cgroup_id, &zero_hist);
	if (h)
		lmp_hist_add(h, delta);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_entry)
{
	return handle_entry();
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_return)
{
	return handle_return();
}

SEC("fentry")
int BPF_PROG(fentry_entry)
{
	return handle_entry();
}

SEC("fexit")
int BPF_PROG(fexit_return)
{
	return handle_return();
}

SEC("kprobe")
int BPF_KPROBE(kprobe_entry)
{
	return handle_entry();
}

SEC("kretprobe")
int BPF_KRETPROBE(kretprobe_return)
{
	return handle_return();
}

char LICENSE[] SEC("license") = "GPL";

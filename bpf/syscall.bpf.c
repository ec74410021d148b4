// SPDX-License-Identifier: GPL-2.0-only
/*
 * syscall: how many system calls each process makes, by syscall, per cgroup; with
 * --syscall-latency also their errors and mean latency.
 *
 * Hooks, best first (agent/probes/syscall.c):
 *   enter: tp_btf/sys_enter (5.5+) > raw_tp/sys_enter (4.17+) > tracepoint
 *          raw_syscalls/sys_enter (needs tracefs)
 *   exit:  tp_btf/sys_exit > raw_tp/sys_exit > tracepoint raw_syscalls/sys_exit (attached
 *          only with --syscall-latency)
 * raw_syscalls fire for every call of every task, so the hot path is one helper call, one
 * lookup in a per-CPU hash keyed by (pid, syscall) and a non-atomic increment; the map
 * insert and the process's cgroup and name are written only the first time a key is seen
 * in an interval. Latency keeps the entry time in
 * task-local storage (5.11+ for tracing programs): no hash keyed by thread id to grow or leak.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/syscall.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

const volatile __u32 cfg_latency = 0;

/* both resized by the agent before load (--syscall-max-keys) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lmp_syscall_key);
	__type(value, struct lmp_syscall_val);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct lmp_syscall_proc);
} procs SEC(".maps");

static __always_inline struct lmp_syscall_val *counters(__u32 pid, __u32 nr)
{
	struct lmp_syscall_key key = { .pid = pid, .nr = nr };
	static const struct lmp_syscall_val zero;
	struct lmp_syscall_proc proc;
	struct lmp_syscall_val *v;
	struct task_struct *task;
	long err;

	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		return v;
	err = bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU inserted it first */) {
		lmp_count_drop(LMP_DROP_MAPFULL);
		return NULL;
	}
	/* a new key of the interval: refresh who the process is. Its cgroup as of now (a
	 * process that moves during an interval is charged to the cgroup of its latest new
	 * key), and the thread-group leader's name as in /proc/<pid>/comm (thread names vary) */
	proc.cgroup_id = bpf_get_current_cgroup_id();
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&proc.comm, task, group_leader, comm);
	bpf_map_update_elem(&procs, &pid, &proc, BPF_ANY);
	return bpf_map_lookup_elem(&counts, &key);
}

static __always_inline int handle_enter(long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct lmp_syscall_val *v;

	/* -1: a call skipped by seccomp/ptrace before it had a number. The self check is
	 * lmp_is_self() without its second bpf_get_current_pid_tgid() call: helpers are a
	 * measurable part of this path (docs/probes/syscall.md) */
	if (id < 0 || id >= 1024 || (cfg_self_pid && (pid_tgid >> 32) == cfg_self_pid))
		return 0;
	v = counters(pid_tgid >> 32, id);
	if (v)
		v->count++; /* per-CPU value: no atomic needed */
	if (!cfg_latency)
		return 0;
	lmp_sys_start_set(id);
	return 0;
}

static __always_inline int handle_exit(long ret)
{
	struct lmp_syscall_val *v;
	__u64 delta;
	__u32 nr;

	if (!cfg_latency)
		return 0;
	if (lmp_sys_start_take(&nr, &delta))
		return 0; /* entered before the probe was attached, or by the agent itself */
	v = counters(bpf_get_current_pid_tgid() >> 32, nr);
	if (!v)
		return 0;
	v->lat_ns += delta;
	v->done++;
	if (ret < 0 && ret >= -4095)
		v->errors++;
	return 0;
}

LMP_RAW_SYSCALLS_PROGS(handle_enter, handle_exit)

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * opensnoop: every open(2), openat(2) and openat2(2): the path as the caller passed it, the
 * flags and mode, and the new fd or the error. Also counts opens and failed opens per
 * cgroup in a map, so the per-pod counters stay exact when an open storm overflows the
 * ring buffer (those lost events are counted too, never dropped silently).
 *
 * Hooks, best first (agent/probes/opensnoop.c):
 *   enter: tracepoint syscalls/sys_enter_openat (+ _open, _openat2 where the kernel has
 *          them; tracefs) > tail of the syscall dispatcher's tp_btf/sys_enter (5.5+) >
 *          its raw_tp/sys_enter (4.17+): lmp_syscall.bpf.h calls the tail for these
 *          three numbers only
 *   exit:  tracepoint syscalls/sys_exit_openat (+ _open, _openat2) > tp_btf/sys_exit >
 *          raw_tp/sys_exit
 * The arguments are kept per thread at entry; the path is read from the caller's memory at
 * exit, when the kernel has just read it itself (so it is paged in).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/opensnoop.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

const volatile __s32 cfg_nr_open = -1;
const volatile __s32 cfg_nr_openat = -1;
const volatile __s32 cfg_nr_openat2 = -1;
const volatile bool cfg_failed_only = false; /* stream only failed opens (all are counted) */

struct args {
	__u64 fname; /* user pointer */
	__u64 flags;
	__u64 resolve;
	__u32 mode;
	__s32 dfd;
	__u32 call;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240); /* threads inside an open at the same moment */
	__type(key, __u32);
	__type(value, struct args);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096); /* cgroups opening files within one interval */
	__type(key, __u64);
	__type(value, struct lmp_opensnoop_count);
} counts SEC(".maps");

static __always_inline int handle_enter(__u32 call, __s32 dfd, const char *fname, __u64 flags,
					__u32 mode, __u64 resolve)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args a = {
		.fname = (__u64)fname,
		.flags = flags,
		.resolve = resolve,
		.mode = mode,
		.dfd = dfd,
		.call = call,
	};

	if (lmp_is_self())
		return 0;
	if (bpf_map_update_elem(&inflight, &tid, &a, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

static __always_inline int handle_openat2(__s32 dfd, const char *fname, struct open_how *uhow)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), uhow);
	return handle_enter(LMP_OPEN_OPENAT2, dfd, fname, how.flags, (__u32)how.mode, how.resolve);
}

static __always_inline int handle_exit(long ret)
{
	static const struct lmp_opensnoop_count zero;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lmp_opensnoop_event *e;
	struct lmp_opensnoop_count *c;
	struct args *a;
	__u64 cgid;

	a = bpf_map_lookup_elem(&inflight, &tid);
	if (!a)
		return 0;
	cgid = bpf_get_current_cgroup_id();
	c = lmp_map_lookup_or_init(&counts, &cgid, &zero);
	if (c) {
		c->opens++;
		if (ret < 0)
			c->failures++;
	}
	if (cfg_failed_only && ret >= 0)
		goto out;
	e = lmp_event_reserve(sizeof(*e), LMP_OPENSNOOP_OPEN);
	if (!e)
		goto out;
	e->flags = a->flags;
	e->resolve = a->resolve;
	e->mode = a->mode;
	e->dfd = a->dfd;
	e->call = a->call;
	e->ret = ret;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), (const char *)a->fname) < 0)
		e->path[0] = 0;
	lmp_event_submit(e);
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_open")
int tp_sys_enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter(LMP_OPEN_OPEN, -100 /* AT_FDCWD */, (const char *)ctx->args[0],
			    ctx->args[1], (__u32)ctx->args[2], 0);
}

SEC("tp/syscalls/sys_enter_openat")
int tp_sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter(LMP_OPEN_OPENAT, (__s32)ctx->args[0], (const char *)ctx->args[1],
			    ctx->args[2], (__u32)ctx->args[3], 0);
}

SEC("tp/syscalls/sys_enter_openat2")
int tp_sys_enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	return handle_openat2((__s32)ctx->args[0], (const char *)ctx->args[1],
			      (struct open_how *)ctx->args[2]);
}

LMP_SYS_TP_EXIT(open, handle_exit)
LMP_SYS_TP_EXIT(openat, handle_exit)
LMP_SYS_TP_EXIT(openat2, handle_exit)

/* the syscall dispatcher's tails (lmp_syscall.bpf.h), routed only the calls below */
static __always_inline int raw_enter(struct pt_regs *regs, long id, bool btf)
{
	if (id == cfg_nr_openat)
		return handle_enter(LMP_OPEN_OPENAT, (__s32)SYS_ARG(1, regs, btf),
				    (const char *)SYS_ARG(2, regs, btf), SYS_ARG(3, regs, btf),
				    (__u32)SYS_ARG(4, regs, btf), 0);
	if (id == cfg_nr_open)
		return handle_enter(LMP_OPEN_OPEN, -100, (const char *)SYS_ARG(1, regs, btf),
				    SYS_ARG(2, regs, btf), (__u32)SYS_ARG(3, regs, btf), 0);
	if (id == cfg_nr_openat2)
		return handle_openat2((__s32)SYS_ARG(1, regs, btf),
				      (const char *)SYS_ARG(2, regs, btf),
				      (struct open_how *)SYS_ARG(3, regs, btf));
	return 0;
}

LMP_SYS_TAILS_ENTER(raw_enter)
LMP_SYS_TAILS_EXIT_RET(handle_exit)

char LICENSE[] SEC("license") = "GPL";

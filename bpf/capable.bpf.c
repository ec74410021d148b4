// SPDX-License-Identifier: GPL-2.0-only
/*
 * capable: capability checks (cap_capable(), the commoncap LSM's verdict): which
 * capability, in which user namespace, whether the check was audited, and the result.
 * Every check is counted per cgroup and capability in a map; by default only denials of
 * audited checks (real failures, the ones the kernel would log) are streamed, because
 * noaudit checks are probes that fail all the time for unprivileged tasks (every
 * accountable mmap asks for CAP_SYS_ADMIN without audit).
 *
 * Hooks, best first (agent/probes/capable.c):
 *   check: tp_btf/cap_capable > raw_tp/cap_capable > tracepoint capability/cap_capable
 *          (the tracepoint exists since v6.14, commit "capabilities: add cap_capable
 *          tracepoint") > fexit/cap_capable (5.5+) > kprobe + kretprobe cap_capable
 * The tracepoint fires at the end of cap_capable() with the result, but it does not carry
 * the opts argument (CAP_OPT_NOAUDIT, CAP_OPT_INSETID). For denials the probe therefore
 * looks at the kernel stack: a return address inside ns_capable_noaudit(),
 * has_ns_capability_noaudit(), has_capability_noaudit(), ptracer_capable() or
 * cap_vm_enough_memory() (ranges from kallsyms, set by the agent) marks a noaudit check;
 * so does security_vm_enough_memory_mm(), because cap_vm_enough_memory() ends in a tail
 * call to cap_capable() and leaves no frame of its own.
 * Without kallsyms the audit flag is "unknown". fexit/kprobe read opts directly.
 * Other LSMs (SELinux, AppArmor) may still deny a capability cap_capable() granted; those
 * denials are not seen here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/capable.h"
#include "lmp.bpf.h"

#define CAP_OPT_NOAUDIT (1 << 1)
#define CAP_OPT_INSETID (1 << 2)
#define STACK_DEPTH 24 /* frames searched for a noaudit caller */
#define NOAUDIT_FUNCS 6

const volatile __u32 cfg_stream = LMP_CAP_STREAM_AUDITED;
/* text ranges of the noaudit callers; start 0 = unknown */
const volatile __u64 cfg_noaudit_start[NOAUDIT_FUNCS] = {};
const volatile __u64 cfg_noaudit_end[NOAUDIT_FUNCS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192); /* cgroups x capabilities checked within one interval */
	__type(key, struct lmp_capable_key);
	__type(value, struct lmp_capable_count);
} checks SEC(".maps");

LMP_KSTACK_SCRATCH(stack_buf, STACK_DEPTH);

/* kprobe path: arguments from entry, by thread */
struct entry {
	__u64 ns;
	__s32 cap;
	__u32 opts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240); /* threads inside cap_capable() at once */
	__type(key, __u32);
	__type(value, struct entry);
} inflight SEC(".maps");

static __always_inline __u32 stack_audit(void *ctx)
{
	int n;

	if (!cfg_noaudit_start[0])
		return LMP_CAP_AUDIT_UNKNOWN;
	n = lmp_kstack_calls(ctx, &stack_buf, STACK_DEPTH, cfg_noaudit_start, cfg_noaudit_end,
			     NOAUDIT_FUNCS);
	return n < 0 ? LMP_CAP_AUDIT_UNKNOWN : n ? LMP_CAP_NOAUDIT : LMP_CAP_AUDIT;
}

/* audit: LMP_CAP_* from opts, or -1 to work it out from the stack when it matters */
static __always_inline int handle_check(void *ctx, struct user_namespace *ns, int cap, int ret,
					int audit, __u32 insetid)
{
	static const struct lmp_capable_count zero;
	struct lmp_capable_key key = {};
	struct lmp_capable_count *c;
	struct lmp_capable_event *e;
	bool stream;

	if (lmp_is_self() || cap < 0)
		return 0;
	if (audit < 0)
		audit = ret == 0 && cfg_stream != LMP_CAP_STREAM_ALL ? LMP_CAP_AUDIT_UNKNOWN :
								       stack_audit(ctx);
	key.cgroup_id = bpf_get_current_cgroup_id();
	key.cap = cap;
	c = lmp_map_lookup_or_init(&checks, &key, &zero);
	if (c) {
		if (ret == 0)
			c->granted++;
		else if (audit == LMP_CAP_NOAUDIT)
			c->denied_noaudit++;
		else
			c->denied++;
	}
	if (cfg_stream == LMP_CAP_STREAM_ALL)
		stream = true;
	else if (cfg_stream == LMP_CAP_STREAM_DENIED)
		stream = ret != 0;
	else
		stream = ret != 0 && audit != LMP_CAP_NOAUDIT;
	if (!stream)
		return 0;
	e = lmp_event_reserve(sizeof(*e), LMP_CAPABLE_CHECK);
	if (!e)
		return 0;
	e->cap = cap;
	e->ret = ret;
	e->audit = audit;
	e->insetid = insetid;
	e->userns_inum = BPF_CORE_READ(ns, ns.inum);
	e->userns_level = BPF_CORE_READ(ns, level);
	lmp_event_submit(e);
	return 0;
}

SEC("tp_btf/cap_capable")
int BPF_PROG(tp_btf_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return handle_check(ctx, target_ns, cap, ret, -1, 0);
}

SEC("raw_tp/cap_capable")
int BPF_PROG(raw_tp_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	return handle_check(ctx, target_ns, cap, ret, -1, 0);
}

SEC("tp/capability/cap_capable")
int tp_cap_capable(struct trace_event_raw_cap_capable *ctx)
{
	return handle_check(ctx, ctx->target_ns, ctx->cap, ctx->ret, -1, 0);
}

static __always_inline int opts_audit(__u32 opts)
{
	return opts & CAP_OPT_NOAUDIT ? LMP_CAP_NOAUDIT : LMP_CAP_AUDIT;
}

SEC("fexit/cap_capable")
int BPF_PROG(fexit_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	return handle_check(ctx, ns, cap, ret, opts_audit(opts), !!(opts & CAP_OPT_INSETID));
}

SEC("kprobe/cap_capable")
int BPF_KPROBE(kprobe_cap_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	       unsigned int opts)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct entry en = { .ns = (__u64)ns, .cap = cap, .opts = opts };

	bpf_map_update_elem(&inflight, &tid, &en, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(kretprobe_cap_capable, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct entry *en = bpf_map_lookup_elem(&inflight, &tid);
	struct entry copy;

	if (!en)
		return 0;
	copy = *en;
	bpf_map_delete_elem(&inflight, &tid);
	return handle_check(ctx, (struct user_namespace *)copy.ns, copy.cap, ret,
			    opts_audit(copy.opts), !!(copy.opts & CAP_OPT_INSETID));
}

char LICENSE[] SEC("license") = "GPL";

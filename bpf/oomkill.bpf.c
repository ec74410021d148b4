// SPDX-License-Identifier: GPL-2.0-only
/*
 * oomkill: every OOM kill, reported for the victim (its pid, comm, cgroup, memory at the
 * kill, oom_score_adj), with the memory cgroup limit and usage that mattered, whether the
 * OOM was confined to a memory cgroup or machine-wide, and the task that triggered it.
 *
 * Hooks, best first (agent/probes/oomkill.c):
 *   victim: tp_btf/mark_victim (5.5+) > raw_tp/mark_victim (4.17+) >
 *           tracepoint oom/mark_victim (4.13+, tracefs) > fentry/oom_kill_process (5.5+) >
 *           kprobe/oom_kill_process
 * mark_victim is the stable ABI and fires exactly when a task is chosen and marked. Since
 * the kernel commit "mm: update mark_victim tracepoints fields" (v6.9) its first argument
 * is the victim's task_struct; before that it was only the victim's pid. For those kernels
 * the probe also watches signal/signal_generate (tp_btf or raw_tp, attached only there):
 * the OOM killer sends the victim SIGKILL from the same thread just before marking it, so
 * the task is remembered per sending thread and picked up by mark_victim.
 * The tracepoint (tracefs) variant has no task pointer at all; it reads the victim from the
 * current task when the victim triggered its own OOM, and otherwise reports what the
 * record carries (pid, comm, memory in kB) without a cgroup.
 * oom_kill_process (fentry/kprobe) hands over struct oom_control, which names the memcg
 * under OOM exactly; the tracepoints do not, so there the scope comes from the kernel stack
 * (is mem_cgroup_out_of_memory() a caller?) and the limit from a walk up the victim's
 * memory cgroups to the first one with a limit.
 * OOM kills are rare: each is streamed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/oomkill.h"
#include "lmp.bpf.h"

#define STACK_DEPTH 32	/* frames searched for mem_cgroup_out_of_memory() */
#define MEMCG_LEVELS 8	/* memcg ancestors searched for a limit */
#define SEND_SIG_PRIV 1 /* (struct kernel_siginfo *)1: a signal the kernel sends itself */

const volatile __u32 cfg_page_shift = 12;
/* text range of mem_cgroup_out_of_memory(), from kallsyms; 0 = unknown */
const volatile __u64 cfg_memcg_oom_start = 0;
const volatile __u64 cfg_memcg_oom_end = 0;

/* Pre-6.9 kernels: the task each thread last sent a kernel SIGKILL to. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024); /* threads killing at once; an OOM storm is a few dozen */
	__type(key, __u32);
	__type(value, __u64);
} sigkill_victim SEC(".maps");

LMP_KSTACK_SCRATCH(stack_buf, STACK_DEPTH);

/* struct mm_rss_stat, replaced by percpu_counter rss_stat[] in v6.2 by commit f1a7941243c1
 * ("mm: convert mm's rss stats into percpu_counter") */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

static __always_inline __u64 task_cgroup_v2(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

/* bytes of an mm counter (MM_FILEPAGES...), the kernel's own approximate reading */
static __always_inline __u64 mm_counter_bytes(struct mm_struct *mm, int member)
{
	long v = 0;

	if (member < 0 || member > 3)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		v = BPF_CORE_READ(old, rss_stat.count[member].counter);
	} else {
		v = BPF_CORE_READ(mm, rss_stat[member].count);
	}
	return v > 0 ? (__u64)v << cfg_page_shift : 0;
}

static __always_inline struct mem_cgroup *css_memcg(struct cgroup_subsys_state *css)
{
	return css ? (void *)css - bpf_core_field_offset(struct mem_cgroup, css) : NULL;
}

static __always_inline struct cgroup_subsys_state *task_memcg_css(struct task_struct *t)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cs;
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return NULL; /* CONFIG_MEMCG off */
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	cs = BPF_CORE_READ(t, cgroups);
	if (id < 0 || id >= 16 || !cs)
		return NULL;
	bpf_core_read(&css, sizeof(css), &cs->subsys[id]);
	return css;
}

/* The victim's memcg, then up to the first with a limit (or the one the OOM named). */
static __always_inline void fill_memcg(struct lmp_oomkill_event *e, struct task_struct *t,
				       struct mem_cgroup *oom_memcg)
{
	__u64 unlimited = (~0ULL >> 1) >> cfg_page_shift; /* PAGE_COUNTER_MAX */
	struct cgroup_subsys_state *css = task_memcg_css(t);
	struct mem_cgroup *m;
	__u64 max;

	e->memcg_limit_bytes = ~0ULL;
	if (!css)
		return;
	e->memcg_found = 1;
	e->victim_memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
	/* which hierarchy: the memory controller is on v2 when it shares the task's v2 root */
	e->memcg_v2 = BPF_CORE_READ(css, cgroup, root) == BPF_CORE_READ(t, cgroups, dfl_cgrp, root);
	if (oom_memcg) {
		m = oom_memcg;
		css = &oom_memcg->css;
	} else {
		for (int i = 0; i < MEMCG_LEVELS; i++) {
			struct cgroup_subsys_state *parent;

			m = css_memcg(css);
			max = BPF_CORE_READ(m, memory.max);
			if (max < unlimited)
				break;
			parent = BPF_CORE_READ(css, parent);
			if (!parent)
				break;
			css = parent;
			e->memcg_up++;
		}
	}
	m = css_memcg(css);
	max = BPF_CORE_READ(m, memory.max);
	e->memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
	e->memcg_usage_bytes = (__u64)BPF_CORE_READ(m, memory.usage.counter) << cfg_page_shift;
	if (max < unlimited)
		e->memcg_limit_bytes = max << cfg_page_shift;
}

/* memcg OOM when mem_cgroup_out_of_memory() is on the kernel stack */
static __always_inline __u32 stack_scope(void *ctx)
{
	int n;

	if (!cfg_memcg_oom_start)
		return LMP_OOM_SCOPE_UNKNOWN;
	n = lmp_kstack_calls(ctx, &stack_buf, STACK_DEPTH, &cfg_memcg_oom_start, &cfg_memcg_oom_end,
			     1);
	return n < 0 ? LMP_OOM_SCOPE_UNKNOWN : n ? LMP_OOM_SCOPE_MEMCG : LMP_OOM_SCOPE_GLOBAL;
}

static __always_inline void fill_trigger(struct lmp_oomkill_event *e)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	e->trigger_pid = id >> 32;
	e->trigger_tid = (__u32)id;
	e->trigger_cgroup_id = task_cgroup_v2(cur);
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
}

/*
 * One victim. t may be NULL (only pid known: tracefs variant when someone else triggered
 * the OOM). oom_memcg/scope come from oom_control where the hook has it.
 */
static __always_inline int handle_victim(void *ctx, struct task_struct *t, __u32 pid,
					 struct mem_cgroup *oom_memcg, __u32 scope, __u32 source)
{
	struct lmp_oomkill_event *e;
	struct mm_struct *mm;

	e = lmp_event_reserve(sizeof(*e), LMP_OOMKILL_KILL);
	if (!e)
		return 0;
	__builtin_memset((char *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	fill_trigger(e);
	e->source = source;
	e->scope = scope ?: stack_scope(ctx);
	e->memcg_limit_bytes = ~0ULL;
	/* the header names the victim, not whoever was allocating */
	if (!t) {
		e->hdr.pid = e->hdr.tid = pid;
		e->hdr.cgroup_id = 0;
		e->hdr.uid = 0;
		__builtin_memset(e->hdr.comm, 0, sizeof(e->hdr.comm));
		lmp_event_submit(e);
		return 0;
	}
	e->hdr.pid = BPF_CORE_READ(t, tgid);
	e->hdr.tid = BPF_CORE_READ(t, pid);
	e->hdr.uid = BPF_CORE_READ(t, real_cred, uid.val);
	e->hdr.cgroup_id = task_cgroup_v2(t);
	BPF_CORE_READ_STR_INTO(&e->hdr.comm, t, comm);
	e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	mm = BPF_CORE_READ(t, mm);
	if (mm) {
		e->total_vm_bytes = BPF_CORE_READ(mm, total_vm) << cfg_page_shift;
		e->file_rss_bytes = mm_counter_bytes(mm, MM_FILEPAGES);
		e->anon_rss_bytes = mm_counter_bytes(mm, MM_ANONPAGES);
		e->swap_bytes = mm_counter_bytes(mm, MM_SWAPENTS);
		e->shmem_rss_bytes = mm_counter_bytes(mm, MM_SHMEMPAGES);
		if (bpf_core_field_exists(mm->pgtables_bytes))
			e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	}
	fill_memcg(e, t, oom_memcg);
	lmp_event_submit(e);
	return 0;
}

/*
 * mark_victim's first argument: the task (v6.9+, the record then has a uid field) or the
 * victim's pid (older kernels), where the task is the current one or the one this thread
 * just sent SIGKILL.
 */
static __always_inline int handle_mark_victim(void *ctx, __u64 arg0)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *stashed;
	__u32 pid;

	if (bpf_core_field_exists(struct trace_event_raw_mark_victim, uid))
		return handle_victim(ctx, (struct task_struct *)arg0, 0, NULL, 0, LMP_OOM_SRC_TASK);
	pid = (__u32)arg0;
	if (BPF_CORE_READ(cur, pid) == pid)
		return handle_victim(ctx, cur, pid, NULL, 0, LMP_OOM_SRC_TASK);
	stashed = bpf_map_lookup_elem(&sigkill_victim, &tid);
	if (stashed) {
		struct task_struct *t = (struct task_struct *)*stashed;

		bpf_map_delete_elem(&sigkill_victim, &tid);
		if (BPF_CORE_READ(t, pid) == pid)
			return handle_victim(ctx, t, pid, NULL, 0, LMP_OOM_SRC_SIGNAL);
	}
	return handle_victim(ctx, NULL, pid, NULL, 0, LMP_OOM_SRC_PID);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(tp_btf_mark_victim, __u64 arg0)
{
	return handle_mark_victim(ctx, arg0);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(raw_tp_mark_victim, __u64 arg0)
{
	return handle_mark_victim(ctx, arg0);
}

/* The tracefs record of v6.9+, for the fields this variant reads when the task is unknown */
struct trace_event_raw_mark_victim___v69 {
	int pid;
	unsigned long total_vm, anon_rss, file_rss, shmem_rss, pgtables;
	uid_t uid;
	short oom_score_adj;
} __attribute__((preserve_access_index));

SEC("tp/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct trace_event_raw_mark_victim___v69 *r = (void *)ctx;
	struct lmp_oomkill_event *e;
	__u32 pid = BPF_CORE_READ(r, pid);
	unsigned int loc;

	if (BPF_CORE_READ(cur, pid) == pid)
		return handle_victim(ctx, cur, pid, NULL, 0, LMP_OOM_SRC_TASK);
	/* someone else's OOM: the record is all there is */
	e = lmp_event_reserve(sizeof(*e), LMP_OOMKILL_KILL);
	if (!e)
		return 0;
	__builtin_memset((char *)e + sizeof(e->hdr), 0, sizeof(*e) - sizeof(e->hdr));
	fill_trigger(e);
	e->source = LMP_OOM_SRC_PID;
	e->scope = stack_scope(ctx);
	e->memcg_limit_bytes = ~0ULL;
	e->hdr.pid = e->hdr.tid = pid;
	e->hdr.cgroup_id = 0;
	__builtin_memset(e->hdr.comm, 0, sizeof(e->hdr.comm));
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		loc = BPF_CORE_READ(ctx, __data_loc_comm) & 0xffff;
		bpf_probe_read_kernel_str(e->hdr.comm, sizeof(e->hdr.comm), (void *)ctx + loc);
	}
	if (bpf_core_field_exists(r->uid)) { /* kB in the record */
		e->hdr.uid = BPF_CORE_READ(r, uid);
		e->total_vm_bytes = (__u64)BPF_CORE_READ(r, total_vm) << 10;
		e->anon_rss_bytes = (__u64)BPF_CORE_READ(r, anon_rss) << 10;
		e->file_rss_bytes = (__u64)BPF_CORE_READ(r, file_rss) << 10;
		e->shmem_rss_bytes = (__u64)BPF_CORE_READ(r, shmem_rss) << 10;
		e->pgtables_bytes = (__u64)BPF_CORE_READ(r, pgtables) << 10;
		e->oom_score_adj = BPF_CORE_READ(r, oom_score_adj);
	}
	lmp_event_submit(e);
	return 0;
}

static __always_inline int handle_oom_kill_process(void *ctx, struct oom_control *oc)
{
	struct task_struct *t = BPF_CORE_READ(oc, chosen);
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);

	if (!t || (long)t == -1) /* -1: "abort", a victim is already dying */
		return 0;
	return handle_victim(ctx, t, 0, memcg, memcg ? LMP_OOM_SCOPE_MEMCG : LMP_OOM_SCOPE_GLOBAL,
			     LMP_OOM_SRC_TASK);
}

LMP_FENTRY_AND_KPROBE(oom_kill_process, handle_oom_kill_process(ctx, oc), struct oom_control *oc,
		      const char *message);

/* pre-6.9 helper: remember the task a kernel SIGKILL goes to, per sending thread */
static __always_inline int handle_sigkill(int sig, struct kernel_siginfo *info,
					  struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 t = (__u64)task;

	if (sig != 9 || (long)info != SEND_SIG_PRIV)
		return 0;
	bpf_map_update_elem(&sigkill_victim, &tid, &t, BPF_ANY);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(tp_btf_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	return handle_sigkill(sig, info, task);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(raw_tp_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	return handle_sigkill(sig, info, task);
}

char LICENSE[] SEC("license") = "GPL";

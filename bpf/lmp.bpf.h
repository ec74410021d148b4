/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers every lmp probe shares: the ring buffer of streamed events, the per-CPU counter
 * of events that did not fit, and the event header fill. Each probe is its own BPF object,
 * so each gets its own copy of these maps; the agent finds them by name.
 */
#ifndef LMP_BPF_H
#define LMP_BPF_H

#include "lmp/event.h"

/* The agent resizes this before load (--ringbuf-kb); 256 KiB holds ~1000 exec records. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* index 0: ring buffer reservations that failed; 1: map updates that failed (map full) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

#define LMP_DROP_RINGBUF 0
#define LMP_DROP_MAPFULL 1

/* The agent's own tgid: its reads, writes and opens would otherwise feed back into itself. */
const volatile __u32 cfg_self_pid = 0;

static __always_inline void lmp_count_drop(__u32 what)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &what);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* tgid is the agent's own process: for callers that already hold the task's tgid */
static __always_inline bool lmp_pid_is_self(__u32 tgid)
{
	return cfg_self_pid && tgid == cfg_self_pid;
}

static __always_inline bool lmp_is_self(void)
{
	/* cfg_self_pid first: without it the helper call is pruned */
	return cfg_self_pid && lmp_pid_is_self(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline void lmp_fill_hdr(struct lmp_event_hdr *h, __u16 type, __u16 size)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->type = type;
	h->size = size;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/*
 * Reserve a record of `size` bytes and fill its header from the current task. A failed
 * reservation is counted, never silently lost. Hand it over with lmp_event_submit().
 */
static __always_inline void *lmp_event_reserve(__u32 size, __u16 type)
{
	struct lmp_event_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		lmp_count_drop(LMP_DROP_RINGBUF);
		return NULL;
	}
	lmp_fill_hdr(h, type, size);
	return h;
}

/*
 * Submit a reserved record without waking the agent for it: the agent drains every ring on
 * a short timer (LMP_RINGBUF_POLL_MS in agent/core/agent.c) and is woken early only once a
 * quarter of the ring is waiting, so a burst cannot fill it between two polls. One wakeup
 * per record (the default) costs the traced task an irq_work and the agent a context
 * switch each; at 10k events/s those were most of the agent's CPU (docs/performance.md).
 */
static __always_inline void lmp_event_submit(void *rec)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(rec, avail >= size / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Insert-or-fail for aggregation maps: a full map is counted as loss. */
static __always_inline void *lmp_map_lookup_or_init(void *map, const void *key, const void *init)
{
	void *val = bpf_map_lookup_elem(map, key);
	long err;

	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU won the race */) {
		lmp_count_drop(LMP_DROP_MAPFULL);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* log2 slot of v, capped to the last slot */
static __always_inline __u32 lmp_log2_slot(__u64 v)
{
	__u32 r = 0;

#pragma unroll
	for (int i = 32; i > 0; i >>= 1) {
		if (v >= (1ULL << i)) {
			v >>= i;
			r += i;
		}
	}
	return r < LMP_HIST_SLOTS ? r : LMP_HIST_SLOTS - 1;
}

static __always_inline void lmp_hist_add(struct lmp_hist *h, __u64 v)
{
	__u32 slot = lmp_log2_slot(v);

	if (slot >= LMP_HIST_SLOTS) /* already capped; restated for the verifier */
		slot = LMP_HIST_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->sum, v);
	__sync_fetch_and_add(&h->count, 1);
}

/* The per-CPU scratch lmp_kstack_calls reads a stack of depth frames into */
#define LMP_KSTACK_SCRATCH(name, depth)                  \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, 1);                  \
		__type(key, __u32);                      \
		__type(value, __u64[depth]);             \
	} name SEC(".maps")

/*
 * Whether a return address among the first depth frames of the current kernel stack lies
 * in one of the n ranges [start[f], end[f]) ("called from mem_cgroup_out_of_memory()").
 * scratch: an LMP_KSTACK_SCRATCH map of that depth. 1 yes, 0 no, -1 no stack.
 */
static __always_inline int lmp_kstack_calls(void *ctx, void *scratch, int depth,
					    const volatile __u64 *start, const volatile __u64 *end,
					    int n)
{
	__u32 zero = 0;
	__u64 *buf = bpf_map_lookup_elem(scratch, &zero);
	long len;

	if (!buf)
		return -1;
	len = bpf_get_stack(ctx, buf, depth * sizeof(__u64), 0);
	if (len <= 0)
		return -1;
	for (int i = 0; i < depth; i++) {
		if (i * (long)sizeof(__u64) >= len)
			break;
		for (int f = 0; f < n; f++)
			if (buf[i] >= start[f] && buf[i] < end[f])
				return 1;
	}
	return 0;
}

/*
 * One body on tp_btf and on raw_tp, whose programs take the same arguments: the programs
 * tp_btf_<name> and raw_tp_<name> on tracepoint tp; body is an expression of ctx and args.
 */
#define LMP_TP_BTF_AND_RAW(name, tp, body, args...) \
	SEC("tp_btf/" tp)                           \
	int BPF_PROG(tp_btf_##name, args)           \
	{                                           \
		return body;                        \
	}                                           \
	SEC("raw_tp/" tp)                           \
	int BPF_PROG(raw_tp_##name, args)           \
	{                                           \
		return body;                        \
	}                                           \
	extern int lmp_tp_btf_and_raw_##name /* so that a ';' may follow */

/* One body on fentry and on kprobe of function fn: the programs fentry_<fn>, kprobe_<fn>. */
#define LMP_FENTRY_AND_KPROBE(fn, body, args...) \
	SEC("fentry/" #fn)                       \
	int BPF_PROG(fentry_##fn, args)          \
	{                                        \
		return body;                     \
	}                                        \
	SEC("kprobe/" #fn)                       \
	int BPF_KPROBE(kprobe_##fn, args)        \
	{                                        \
		return body;                     \
	}                                        \
	extern int lmp_fentry_and_kprobe_##fn /* so that a ';' may follow */

/* cgroup id -> histogram, per CPU, allocated on insert: the per-interval map of the probes
 * that keep one latency histogram per cgroup (drained and emptied every interval) */
#define LMP_CGROUP_HISTS(name, entries)                 \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH); \
		__uint(map_flags, BPF_F_NO_PREALLOC);   \
		__uint(max_entries, entries);           \
		__type(key, __u64);                     \
		__type(value, struct lmp_hist);         \
	} name SEC(".maps")

/* the same into a per-CPU value, when the program cannot nest in itself on a CPU */
static __always_inline void lmp_hist_add_cpu(struct lmp_hist *h, __u64 v)
{
	__u32 slot = lmp_log2_slot(v);

	if (slot >= LMP_HIST_SLOTS)
		slot = LMP_HIST_SLOTS - 1;
	h->slots[slot]++;
	h->sum += v;
	h->count++;
}

#endif /* LMP_BPF_H */

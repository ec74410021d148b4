/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Request tracking shared by the block I/O probes (biolatency, biopattern, biosnoop,
 * bitesize). Life of a request as these probes see it, keyed by its `struct request *`:
 *   start: the request is created from a bio (block_io_start, 6.5+) or, on older kernels,
 *          accounted (blk_account_io_start via fentry/kprobe) or inserted into a queue
 *          (block_rq_insert: misses requests issued directly, which then start at issue).
 *          The cgroup and the submitter are recorded here, while the submitting task is
 *          current.
 *   issue: handed to the driver (block_rq_issue). Sector, size and flags are read here:
 *          merges before issue can still grow the request after its start.
 *   done:  the device completed it (block_rq_complete; blk_account_io_done via
 *          fentry/kprobe as a last resort). Partial completions are skipped until the
 *          last byte.
 *
 * One map for all of them. Each probe is its own object, but the agent creates one
 * blkio_inflight map and every block probe's object reuses it (agent/probes/lib/blkio.c); only
 * the first block probe to start keeps its start programs attached, and only the first of
 * those that read requests at completion (biolatency, biosnoop) keeps its issue programs
 * that record issue time, disk, sector and flags. So a request costs one start program and
 * one map entry however many block probes run, not one of each per probe.
 *
 * Who deletes an entry: programs of one tracepoint run in an order that differs between
 * hook kinds (tracepoints in attach order, kprobes and trampolines newest first), so no
 * probe can count on running last. Instead a request's entry carries the number of probes
 * that will let go of it (refs, from the blkio_users map the agent keeps): bitesize and
 * biopattern let go at issue, biolatency and biosnoop at completion, and whoever lets go
 * last deletes it. The phases of one request never overlap in time (a request is issued
 * after its start and completes after its issue), and the programs of one tracepoint run
 * one after another on one CPU, so refs needs no atomic operation. A request whose start
 * was not seen gets its entry at issue, counted only for the completion readers: the issue
 * readers may have run before it existed, so they never let go of an entry they did not
 * see started. While the agent is still attaching probes a few requests can be counted for
 * a probe not yet running: their entries are overwritten when the struct request is reused
 * or evicted (LRU), as are those of requests merged away before issue.
 *
 * Only raw-pointer hooks are offered (tp_btf, raw_tp, fentry, kprobe): the classic
 * tracepoint records of the block events carry dev/sector but not the request pointer, and
 * raw_tp (4.17) is older than the ring buffer (5.8) lmp needs anyway, so a tp/ variant
 * would never be chosen.
 *
 * Attribution (DESIGN.md rule 2, lmp_rq_charge_cgroup in lmp_request.bpf.h): I/O is charged to the bio's blkcg when that cgroup lives
 * in the v2 hierarchy and the submitting task is not inside it (writeback by a flusher
 * thread, I/O a kworker issues on a cgroup's behalf). When the submitter is inside the
 * blkcg's subtree, its own v2 cgroup is the same answer, only more precise (the io
 * controller is often enabled down to the pod, not the container). When the blkcg belongs
 * to a v1 blkio hierarchy (hybrid hosts like the dev machines) its id is not a v2 id, and
 * the submitting task's v2 cgroup is used instead.
 */
#ifndef LMP_BLKIO_BPF_H
#define LMP_BLKIO_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/blkio.h"
#include "lmp.bpf.h"
#include "lmp_request.bpf.h"

#ifndef LMP_BLKIO_ME
#error "define LMP_BLKIO_ME, the probe's enum lmp_blkio_user, before including blkio.bpf.h"
#endif

/* more than the requests a node keeps in flight; LRU so a missed completion cannot leak */
#define LMP_BLKIO_INFLIGHT 10240
/* (cgroup, disk) pairs seen in one interval, drained each interval: containers x busy disks
 * of a node fit with room; beyond, updates fail and are counted as map-full */
#define LMP_BLKIO_AGG_ENTRIES 4096

/* A probe's map by (cgroup, disk) of one interval */
#define LMP_BLKIO_AGG_MAP(name, value_type)                 \
	struct {                                            \
		__uint(type, BPF_MAP_TYPE_HASH);            \
		__uint(max_entries, LMP_BLKIO_AGG_ENTRIES); \
		__type(key, struct lmp_blkio_key);          \
		__type(value, value_type);                  \
	} name SEC(".maps")

/*
 * 0 when the agent found the io controller outside cgroup v2 (hybrid hosts: v1 blkio):
 * every blkcg is then a v1 cgroup, and reading it per request would only cost time.
 */
const volatile __u32 cfg_blkcg_v2 = 1;

/* lmp_blkio_rq.flags bit: the agent's own I/O, tracked only so that it is not re-created */
#define LMP_BLKIO_F_SKIP (1U << 25)

/* created by the agent and shared by every block probe's object (bpf_map__reuse_fd) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LMP_BLKIO_INFLIGHT);
	__type(key, __u64); /* struct request * */
	__type(value, struct lmp_blkio_rq);
} blkio_inflight SEC(".maps");

/* shared the same way; one value, written by the agent as block probes start and stop */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lmp_blkio_users);
} blkio_users SEC(".maps");

static __always_inline struct lmp_blkio_users *blkio_users_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&blkio_users, &zero);
}

/* one kernel REQ_* modifier, located through CO-RE because its bit moves between releases */
#define BLKIO_REQ_FLAG(opf, name, ours)                                                         \
	(bpf_core_enum_value_exists(enum req_flag_bits, __REQ_##name) &&                        \
			 ((opf) >> bpf_core_enum_value(enum req_flag_bits, __REQ_##name)) & 1 ? \
		 (ours) :                                                                       \
		 0)

static __always_inline __u32 blkio_flags(struct request *rq)
{
	__u32 opf = BPF_CORE_READ(rq, cmd_flags);
	__u32 op = opf & LMP_BLKIO_OP_MASK, f;

	switch (op) {
	case LMP_BLKIO_OP_READ:
	case LMP_BLKIO_OP_WRITE:
	case LMP_BLKIO_OP_FLUSH:
	case LMP_BLKIO_OP_DISCARD:
	case LMP_BLKIO_OP_SECURE_ERASE:
	case LMP_BLKIO_OP_WRITE_ZEROES:
		f = op;
		break;
	default:
		f = LMP_BLKIO_OP_OTHER;
	}
	f |= BLKIO_REQ_FLAG(opf, SYNC, LMP_BLKIO_F_SYNC);
	f |= BLKIO_REQ_FLAG(opf, META, LMP_BLKIO_F_META);
	f |= BLKIO_REQ_FLAG(opf, PRIO, LMP_BLKIO_F_PRIO);
	f |= BLKIO_REQ_FLAG(opf, FUA, LMP_BLKIO_F_FUA);
	f |= BLKIO_REQ_FLAG(opf, PREFLUSH, LMP_BLKIO_F_PREFLUSH);
	f |= BLKIO_REQ_FLAG(opf, RAHEAD, LMP_BLKIO_F_RAHEAD);
	f |= BLKIO_REQ_FLAG(opf, BACKGROUND, LMP_BLKIO_F_BACKGROUND);
	f |= BLKIO_REQ_FLAG(opf, NOWAIT, LMP_BLKIO_F_NOWAIT);
	return f;
}

static __always_inline void blkio_fill(struct lmp_blkio_rq *r, struct request *rq, __u64 now,
				       __u32 flags, const struct lmp_blkio_users *u)
{
	r->start_ns = now;
	r->cgroup_id = cfg_blkcg_v2 ? lmp_rq_charge_cgroup(rq) : bpf_get_current_cgroup_id();
	r->flags = flags;
	if (u && u->want_task) {
		__u64 id = bpf_get_current_pid_tgid();

		r->pid = id >> 32;
		r->tid = (__u32)id;
		r->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(r->comm, sizeof(r->comm));
	}
}

/*
 * This probe is finished with the entry: the last of the probes counted in refs deletes it.
 * r must not be used afterwards.
 */
static __always_inline void blkio_release(__u64 key, struct lmp_blkio_rq *r)
{
	if (r->flags & LMP_BLKIO_F_RELEASED(LMP_BLKIO_ME))
		return; /* a requeued request issued again: this probe let go of it already */
	r->flags |= LMP_BLKIO_F_RELEASED(LMP_BLKIO_ME);
	if (r->refs > 1)
		r->refs--;
	else
		bpf_map_delete_elem(&blkio_inflight, &key);
}

/* start: a new request (or a recycled struct request) begins; replaces any stale entry */
static __always_inline int blkio_start(struct request *rq)
{
	const struct lmp_blkio_users *u = blkio_users_get();
	struct lmp_blkio_rq r = {};
	__u64 key = (__u64)rq;

	if (lmp_is_self())
		r.flags = LMP_BLKIO_F_STARTED | LMP_BLKIO_F_SKIP;
	else
		blkio_fill(&r, rq, bpf_ktime_get_ns(), LMP_BLKIO_F_STARTED, u);
	r.refs = u ? u->at_issue + u->at_done : 0;
	if (bpf_map_update_elem(&blkio_inflight, &key, &r, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

/*
 * issue, attached for the probes that read requests at completion (only in the first of
 * them: it serves them all): record issue time and disk, and sector, size and flags when a
 * probe reports them; create the entry when the start was not seen.
 */
static __always_inline void blkio_issue_track(struct request *rq)
{
	const struct lmp_blkio_users *u = blkio_users_get();
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&blkio_inflight, &key);

	if (!r) {
		struct lmp_blkio_rq init = {};

		if (lmp_is_self())
			return;
		blkio_fill(&init, rq, now, 0, u);
		init.refs = u ? u->at_done : 0; /* the issue readers never let go of it */
		if (bpf_map_update_elem(&blkio_inflight, &key, &init, BPF_ANY)) {
			lmp_count_drop(LMP_DROP_MAPFULL);
			return;
		}
		r = bpf_map_lookup_elem(&blkio_inflight, &key);
		if (!r)
			return;
	}
	if (r->flags & LMP_BLKIO_F_SKIP)
		return;
	r->issue_ns = now;
	r->dev = lmp_rq_dev(rq, LMP_BLKIO_MINORBITS);
	if (u && u->want_task) { /* only biosnoop reports them: spare the others the reads */
		r->sector = BPF_CORE_READ(rq, __sector);
		r->bytes = BPF_CORE_READ(rq, __data_len);
		r->flags = (r->flags & ~LMP_BLKIO_F_REQ_MASK) | blkio_flags(rq);
	}
}

/*
 * issue, for the probes that need nothing after it (bitesize, biopattern): fill *out with
 * the cgroup, sector, size and disk (not the op flags: they do not use them) and let go of
 * the request. Returns false for the agent's own I/O.
 */
static __always_inline bool blkio_issue_once(struct request *rq, struct lmp_blkio_rq *out)
{
	__u64 key = (__u64)rq;
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&blkio_inflight, &key);

	if (r) {
		__u32 flags = r->flags;

		out->start_ns = r->start_ns;
		out->cgroup_id = r->cgroup_id;
		out->flags = flags & LMP_BLKIO_F_STARTED;
		/* an entry made at issue is counted for the completion readers only */
		if (flags & LMP_BLKIO_F_STARTED)
			blkio_release(key, r);
		if (flags & LMP_BLKIO_F_SKIP)
			return false;
	} else {
		if (lmp_is_self())
			return false;
		blkio_fill(out, rq, bpf_ktime_get_ns(), 0, NULL);
	}
	out->sector = BPF_CORE_READ(rq, __sector);
	out->bytes = BPF_CORE_READ(rq, __data_len);
	out->dev = lmp_rq_dev(rq, LMP_BLKIO_MINORBITS);
	return true;
}

/*
 * done: the issued request's entry once its last byte completed, else NULL. nr_bytes is what
 * this completion covers (block_rq_complete, which fires before the request's remaining
 * size is reduced); all_done says the hook only fires for whole requests. The caller lets go
 * of the entry with blkio_release() when finished with it.
 */
static __always_inline struct lmp_blkio_rq *blkio_done(struct request *rq, __u32 nr_bytes,
						       bool all_done)
{
	__u64 key = (__u64)rq;
	struct lmp_blkio_rq *r = bpf_map_lookup_elem(&blkio_inflight, &key);

	if (!r)
		return NULL;
	if (!all_done && nr_bytes < BPF_CORE_READ(rq, __data_len))
		return NULL; /* partial completion: the rest follows */
	if (!r->issue_ns || (r->flags & LMP_BLKIO_F_SKIP)) {
		blkio_release(key, r);
		return NULL; /* never issued while we watched, or the agent's own */
	}
	return r;
}

/*
 * The hook wrappers, identical in every block probe; the agent side lists them in the same
 * order (agent/probes/lib/blkio.h). Alternatives per group, best first:
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start
 *          (before 6.5, when the function is not inlined) > tp_btf/raw_tp block_rq_insert
 *   issue: tp_btf/raw_tp block_rq_issue
 * block_rq_insert and block_rq_issue took (struct request_queue *, struct request *) until
 * a54895fa057c ("block: remove the request_queue to argument request based tracepoints",
 * 5.11): each has a program per layout (the _q ones for the old), and the agent picks by
 * the arguments of the kernel's btf_trace_<tracepoint> (struct lmp_hook.args). One program
 * choosing at run time cannot be written: the verifier refuses a ctx read at a computed
 * offset ("dereference of modified ctx ptr"), which is what the compiler makes of it.
 *   done:  tp_btf/raw_tp block_rq_complete > fentry/kprobe blk_account_io_done
 * ISSUE and DONE call the probe's own on_issue(rq) / on_done(rq, status, nr_bytes, all_done).
 */
#define LMP_BLKIO_START_PROGS                                                               \
	SEC("tp_btf/block_io_start")                                                        \
	int BPF_PROG(tp_btf_block_io_start, struct request *rq)                             \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("raw_tp/block_io_start")                                                        \
	int BPF_PROG(raw_tp_block_io_start, struct request *rq)                             \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("fentry/blk_account_io_start")                                                  \
	int BPF_PROG(fentry_blk_account_io_start, struct request *rq)                       \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("kprobe/blk_account_io_start")                                                  \
	int BPF_KPROBE(kprobe_blk_account_io_start, struct request *rq)                     \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("tp_btf/block_rq_insert")                                                       \
	int BPF_PROG(tp_btf_block_rq_insert, struct request *rq)                            \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("raw_tp/block_rq_insert")                                                       \
	int BPF_PROG(raw_tp_block_rq_insert, struct request *rq)                            \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("tp_btf/block_rq_insert")                                                       \
	int BPF_PROG(tp_btf_block_rq_insert_q, struct request_queue *q, struct request *rq) \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}                                                                                   \
	SEC("raw_tp/block_rq_insert")                                                       \
	int BPF_PROG(raw_tp_block_rq_insert_q, struct request_queue *q, struct request *rq) \
	{                                                                                   \
		return blkio_start(rq);                                                     \
	}

#define LMP_BLKIO_ISSUE_PROGS                                                              \
	SEC("tp_btf/block_rq_issue")                                                       \
	int BPF_PROG(tp_btf_block_rq_issue, struct request *rq)                            \
	{                                                                                  \
		return on_issue(rq);                                                       \
	}                                                                                  \
	SEC("raw_tp/block_rq_issue")                                                       \
	int BPF_PROG(raw_tp_block_rq_issue, struct request *rq)                            \
	{                                                                                  \
		return on_issue(rq);                                                       \
	}                                                                                  \
	SEC("tp_btf/block_rq_issue")                                                       \
	int BPF_PROG(tp_btf_block_rq_issue_q, struct request_queue *q, struct request *rq) \
	{                                                                                  \
		return on_issue(rq);                                                       \
	}                                                                                  \
	SEC("raw_tp/block_rq_issue")                                                       \
	int BPF_PROG(raw_tp_block_rq_issue_q, struct request_queue *q, struct request *rq) \
	{                                                                                  \
		return on_issue(rq);                                                       \
	}

#define LMP_BLKIO_DONE_PROGS                                                   \
	SEC("tp_btf/block_rq_complete")                                        \
	int BPF_PROG(tp_btf_block_rq_complete, struct request *rq, int status, \
		     unsigned int nr_bytes)                                    \
	{                                                                      \
		return on_done(rq, status & 0xff, nr_bytes, false);            \
	}                                                                      \
	SEC("raw_tp/block_rq_complete")                                        \
	int BPF_PROG(raw_tp_block_rq_complete, struct request *rq, int status, \
		     unsigned int nr_bytes)                                    \
	{                                                                      \
		return on_done(rq, status & 0xff, nr_bytes, false);            \
	}                                                                      \
	SEC("fentry/blk_account_io_done")                                      \
	int BPF_PROG(fentry_blk_account_io_done, struct request *rq)           \
	{                                                                      \
		return on_done(rq, 0, 0, true);                                \
	}                                                                      \
	SEC("kprobe/blk_account_io_done")                                      \
	int BPF_KPROBE(kprobe_blk_account_io_done, struct request *rq)         \
	{                                                                      \
		return on_done(rq, 0, 0, true);                                \
	}

/* the programs of a probe that reads requests at completion (biolatency, biosnoop) */
#define LMP_BLKIO_COMPLETION_PROGS \
	LMP_BLKIO_START_PROGS      \
	LMP_BLKIO_ISSUE_PROGS      \
	LMP_BLKIO_DONE_PROGS

#endif /* LMP_BLKIO_BPF_H */

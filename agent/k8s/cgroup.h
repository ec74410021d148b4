/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2 id -> path, with a bounded cache. The id BPF reports (bpf_get_current_cgroup_id)
 * is the kernfs node id of the cgroup's directory, which is also its inode number in the v2
 * hierarchy. A miss is resolved by opening that directory by file handle on the v2 mount and
 * reading the fd's path back: two syscalls, no tree walk. Where file handles are refused
 * (no CAP_DAC_READ_SEARCH, a root that is not a cgroup2 mount) a bounded walk of the tree
 * builds an inode index, at most once per second, and misses are answered from it.
 *
 * Nothing here waits: a lookup answers from what is known (path, "gone", or "pending" while
 * the background walker looks), so the event loop that calls it never blocks on identity.
 * Ids proven gone are kept in a bounded negative cache of their own (ids are never reused
 * within a boot), so a churn of short-lived cgroups costs one resolve per cgroup, and
 * cannot evict the paths of live ones.
 */
#ifndef LMP_CGROUP_H
#define LMP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "k8s/cgmount.h" /* lmp_cgroup_find_v2, lmp_cgroup_id_of */
#include "k8s/podpath.h"

struct lmp_cgroup;

struct lmp_cgroup_entry {
	__u64 id;
	char *path; /* relative to the v2 root, "/" for the root; NULL: not found (negative) */
	struct lmp_podpath pp; /* parsed once, when the entry is made */
	/* scratch for the owner (identity): memo of the kubelet join, miss bookkeeping */
	uint64_t memo_gen;
	int32_t memo_pod, memo_ctr;
	uint64_t first_miss_ms, miss_sync;
	uint32_t miss_refreshes;
	/* private */
	uint64_t neg_until_ms; /* unproven negative: believed until; pending: given up at */
	uint64_t need_walk;    /* pending: the background walk that answers it (0: none) */
	bool ref;
};

struct lmp_cgroup_stats {
	uint64_t hits, misses, evictions, forgotten, not_found, walks;
	uint64_t pending;	 /* misses handed to the background walker */
	uint64_t walk_errors;	 /* background walks that failed (out of memory, root gone) */
	uint64_t partial_walks;	 /* background walks of the recently busy subtrees only */
	uint64_t pending_hits;	 /* lookups answered "not yet": the walker is looking */
	uint64_t gone;		 /* ids proven gone, put in the negative cache */
	uint64_t gone_hits;	 /* lookups answered by the negative cache */
	uint64_t gone_evictions; /* gone ids pushed out of the full negative cache */
	uint64_t by_pid;	 /* cgroups named from /proc/<pid>/cgroup (lmp_cgroup_get_pid) */
	size_t entries, max_entries;
	size_t gone_entries, gone_max;
	bool handles; /* open_by_handle_at in use (else the walk fallback) */
};

/*
 * root: the cgroup v2 mount, or NULL/"" to detect it from /proc/self/mountinfo.
 * max_entries bounds the cache (least recently used go first; 0 = 4096).
 */
int lmp_cgroup_new(const char *root, size_t max_entries, struct lmp_cgroup **out);
void lmp_cgroup_free(struct lmp_cgroup *cg);
const char *lmp_cgroup_root(const struct lmp_cgroup *cg);

/*
 * Cached lookup, never blocking. NULL when the id names no cgroup (gone, or never in this
 * hierarchy: remembered in the negative cache, 8192 ids, the older of two in a bucket
 * evicted first) or when it is not known yet (lmp_cgroup_pending). The entry stays valid
 * until the next lmp_cgroup_get/prune/forget/free.
 */
struct lmp_cgroup_entry *lmp_cgroup_get(struct lmp_cgroup *cg, __u64 id);
/*
 * lmp_cgroup_get with a process of the cgroup (the event's tgid, 0: none): where the walker
 * would be asked (no file handles), a cgroup not named yet is first looked up in
 * /proc/<pid>/cgroup, checked against id, so an event of a live process has its path at
 * once, not after a walk. One open and read per new cgroup, no wait.
 */
struct lmp_cgroup_entry *lmp_cgroup_get_pid(struct lmp_cgroup *cg, __u64 id, __u32 pid);
/*
 * Drop entries whose cgroup was removed (into the negative cache) and expired negatives;
 * returns how many. One fstatat per cached cgroup.
 */
int lmp_cgroup_prune(struct lmp_cgroup *cg);
/* Forget all about id, negative cache included. */
void lmp_cgroup_forget(struct lmp_cgroup *cg, __u64 id);
void lmp_cgroup_stats(const struct lmp_cgroup *cg, struct lmp_cgroup_stats *out);

/*
 * Uncached id -> path relative to the root. -ENOENT when gone (proven: the handle is stale,
 * or a walk made now did not find it), -EAGAIN when the index at hand does not have it but
 * may be older than the cgroup, -ENAMETOOLONG, ...
 */
int lmp_cgroup_resolve(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len);
/*
 * Move tree walks off the caller's thread (the agent's event loop: a walk of a node with
 * thousands of cgroups outlasts a busy ring buffer; cgwalker.h). Returns an
 * eventfd that becomes readable when a walk has finished; the owner then calls
 * lmp_cgroup_adopt. From then on a miss the index cannot answer returns NULL at once and
 * lmp_cgroup_pending(id) is true until the walk that started after it is adopted (at most
 * ~2.5 s), when lmp_cgroup_get answers it for good. The thread is started on the first
 * walk, with no capabilities and every signal blocked. Only where file handles fail.
 */
int lmp_cgroup_async(struct lmp_cgroup *cg);
/* Take a finished background walk's index; true if there was one. Cheap, non-blocking. */
bool lmp_cgroup_adopt(struct lmp_cgroup *cg);
/* True while id waits for a background walk (its events are worth holding back). */
bool lmp_cgroup_pending(struct lmp_cgroup *cg, __u64 id);
/*
 * For callers that cannot hold what they report (interval summaries, metric rows): ask the
 * walker for a walk of the whole tree now, past its one-a-second limit, so that cgroups
 * made before it are named when the summary comes. Returns at once; false when there is no
 * walker (file handles answer every lookup directly) or it cannot start.
 */
bool lmp_cgroup_refresh(struct lmp_cgroup *cg);
/* Tests: force the tree-walk fallback even where file handles work. */
void lmp_cgroup_disable_handles(struct lmp_cgroup *cg);

#endif /* LMP_CGROUP_H */

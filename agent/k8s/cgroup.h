/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2 id -> path, with a bounded cache: by file handle, else from a walk of the tree.
 * Nothing here blocks: a lookup answers path, gone or pending (docs/architecture.md,
 * "Identity"). Gone ids have a negative cache of their own so that churn cannot evict the
 * paths of live cgroups.
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
	char *path; /* relative to the v2 root; NULL: negative */
	struct lmp_podpath pp;
	/* the owner's (identity's) scratch */
	uint64_t memo_gen;
	int32_t memo_pod, memo_ctr;
	uint64_t first_miss_ms, miss_sync;
	uint32_t miss_refreshes;
	/* private */
	uint64_t neg_until_ms;
	uint64_t need_walk;
	bool ref;
};

struct lmp_cgroup_stats {
	uint64_t hits, misses, evictions, forgotten, not_found, walks;
	uint64_t pending;
	uint64_t walk_errors;
	uint64_t partial_walks; /* of the recently busy subtrees only */
	uint64_t pending_hits;
	uint64_t gone;
	uint64_t gone_hits;
	uint64_t gone_evictions;
	uint64_t by_pid;
	size_t entries, max_entries;
	size_t gone_entries, gone_max;
	bool handles; /* else the walk fallback */
};

/* root NULL or "": detected. max_entries 0: 4096 (LRU). */
int lmp_cgroup_new(const char *root, size_t max_entries, struct lmp_cgroup **out);
void lmp_cgroup_free(struct lmp_cgroup *cg);
const char *lmp_cgroup_root(const struct lmp_cgroup *cg);

/*
 * Never blocks. NULL when gone or not known yet (lmp_cgroup_pending). The entry is valid
 * until the next get/prune/forget/free.
 */
struct lmp_cgroup_entry *lmp_cgroup_get(struct lmp_cgroup *cg, __u64 id);
/*
 * With a process of the cgroup (0: none): without file handles, a new cgroup is first
 * named from /proc/<pid>/cgroup, so a live process's event need not wait for a walk.
 */
struct lmp_cgroup_entry *lmp_cgroup_get_pid(struct lmp_cgroup *cg, __u64 id, __u32 pid);
/* drops removed cgroups and expired negatives; returns how many */
int lmp_cgroup_prune(struct lmp_cgroup *cg);
/* negative cache included */
void lmp_cgroup_forget(struct lmp_cgroup *cg, __u64 id);
void lmp_cgroup_stats(const struct lmp_cgroup *cg, struct lmp_cgroup_stats *out);

/*
 * Uncached. -ENOENT when proven gone, -EAGAIN when the index may be older than the cgroup,
 * -ENAMETOOLONG, ...
 */
int lmp_cgroup_resolve(struct lmp_cgroup *cg, __u64 id, char *buf, size_t len);
/*
 * Moves tree walks to a thread (cgwalker.h), since a big walk outlasts a busy ring buffer.
 * Returns an eventfd, readable when a walk has finished: then call lmp_cgroup_adopt. From
 * then on an unanswered miss is pending until the next walk is adopted.
 */
int lmp_cgroup_async(struct lmp_cgroup *cg);
/* non-blocking; true if a walk had finished */
bool lmp_cgroup_adopt(struct lmp_cgroup *cg);
bool lmp_cgroup_pending(struct lmp_cgroup *cg, __u64 id);
/*
 * A whole-tree walk now, past the rate limit, for callers that cannot hold what they
 * report (summaries). Returns at once; false when there is no walker or it cannot start.
 */
bool lmp_cgroup_refresh(struct lmp_cgroup *cg);
/* tests */
void lmp_cgroup_disable_handles(struct lmp_cgroup *cg);

#endif /* LMP_CGROUP_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who caused an event: cgroup id -> path -> namespace, pod, container. The one lookup for
 * event fields and metric labels alike; how ids are named and held: docs/architecture.md,
 * "Identity".
 */
#ifndef LMP_IDENTITY_H
#define LMP_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct lmp_config;
struct lmp_loop;
struct lmp_ident;

struct lmp_identity {
	__u64 cgroup_id;
	const char *cgroup; /* relative to the v2 root, NULL if gone */
	/* all NULL unless the cgroup belongs to a pod */
	const char *namespace;
	const char *pod;
	const char *container; /* NULL for a pod-level cgroup */
	const char *pod_uid;
	const char *container_id;
};

int lmp_ident_new(const struct lmp_config *cfg, struct lmp_loop *loop, struct lmp_ident **out);
void lmp_ident_free(struct lmp_ident *ic);

/*
 * Never fails, never waits: an unknown cgroup yields cgroup = NULL and no pod. The strings
 * stay valid until the next lmp_ident_* call or the loop's next turn.
 */
void lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out);
/*
 * For a second cgroup an event names (a signal's target), with a process in it (0: none):
 * the event was held for its own cgroup only, so this one is tried via /proc/<pid>/cgroup.
 */
void lmp_ident_lookup_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid,
			  struct lmp_identity *out);

/* outside Kubernetes at once, else after the first good /pods sync (GET /readyz) */
bool lmp_ident_ready(struct lmp_ident *ic);

/*
 * True while the event is worth holding back: the walker has yet to name the cgroup, or
 * its pod is not listed yet and a /pods refresh (started by asking) is due. Bounded in
 * time; false at once while the kubelet fails.
 */
bool lmp_ident_pending(struct lmp_ident *ic, __u64 cgroup_id);
/* with the event's tgid, so a live process's events need not wait for the walker */
bool lmp_ident_pending_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid);

/*
 * After each round of summaries: identity has the tree walked shortly before the next, so
 * the summaries name new cgroups without waiting.
 */
void lmp_ident_interval(struct lmp_ident *ic, unsigned interval_ms);

/* fn(ctx) runs on the loop after every kubelet request (NULL: none) */
void lmp_ident_on_sync(struct lmp_ident *ic, void (*fn)(void *ctx), void *ctx);

/*
 * Keeps a copy of rec and calls fn from the loop after the next sync or when the hold runs
 * out; the replay goes through the same path (and may hold again, within the bound).
 * -ENOSPC when the held bytes are at their limit: handle the event now. lmp_ident_flush
 * replays everything at once (before shutdown); lmp_ident_free drops it.
 */
typedef void (*lmp_ident_replay_fn)(void *ctx, const void *rec, size_t len);
int lmp_ident_hold(struct lmp_ident *ic, __u64 cgroup_id, const void *rec, size_t len,
		   lmp_ident_replay_fn fn, void *ctx);
void lmp_ident_flush(struct lmp_ident *ic);

/* -ENOENT without a v2 hierarchy */
struct lmp_cgroup_stats;
int lmp_ident_cgroup_stats(const struct lmp_ident *ic, struct lmp_cgroup_stats *out);

#endif /* LMP_IDENTITY_H */

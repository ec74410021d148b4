/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who caused an event: cgroup id -> cgroup path -> (when the cgroup belongs to a pod)
 * namespace, pod, container. The one lookup the rest of the agent calls, for event fields
 * and for metric labels alike.
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
	const char *cgroup; /* path relative to the v2 root ("/kubepods.slice/..."), NULL if gone */
	/* all NULL unless the cgroup belongs to a pod */
	const char *namespace;
	const char *pod;
	const char *container; /* NULL for a pod-level cgroup with no container */
	const char *pod_uid;
	const char *container_id;
};

int lmp_ident_new(const struct lmp_config *cfg, struct lmp_loop *loop, struct lmp_ident **out);
void lmp_ident_free(struct lmp_ident *ic);

/*
 * Fill *out for cgroup_id. Never fails, never waits: an unknown cgroup (gone, or not named
 * yet by the background walker: lmp_ident_pending) yields cgroup = NULL and no pod.
 * The strings stay valid until the next lmp_ident_* call or the loop's next turn.
 */
void lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out);
/*
 * The same for a cgroup an event names besides its own (a signal's target, an OOM
 * trigger), with a process in it (pid, 0: none): the event was held for its own cgroup
 * only, so a second cgroup not named yet is looked up through /proc/<pid>/cgroup.
 */
void lmp_ident_lookup_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid,
			  struct lmp_identity *out);

/*
 * True once identity is usable: outside Kubernetes at once; with a kubelet, after the first
 * successful /pods sync. Feeds GET /readyz.
 */
bool lmp_ident_ready(struct lmp_ident *ic);

/*
 * Hold-briefly support for new cgroups and pods. True when
 *  - cgroup_id is a cgroup the background tree walk has yet to name (no file handles,
 *    the DaemonSet's case: see lmp_cgroup_async); the walk's end replays held events;
 *    pending turns false when the walk is adopted, or after ~2 s if it is stuck; or
 *  - cgroup_id belongs to a pod (or container) the last kubelet reply did not list, a
 *    /pods refresh for it is in flight or about to start, and the cgroup was first seen
 *    less than a second ago; pending turns false by itself after one second, or at once
 *    when the kubelet is failing, so nothing is held for longer. Asking starts the refresh.
 * The caller may keep the event back and look it up again after the next sync
 * (lmp_ident_on_sync) or when its own timer fires.
 */
bool lmp_ident_pending(struct lmp_ident *ic, __u64 cgroup_id);
/*
 * The same for an event of process pid (its tgid): a cgroup not named yet is first looked
 * up through /proc/<pid>/cgroup (lmp_cgroup_get_pid), so the events of a live process
 * need not wait for the walker at all.
 */
bool lmp_ident_pending_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid);

/*
 * The owner calls this after each round of interval summaries, interval_ms before the next:
 * identity then has the cgroup tree walked (off the loop, where there are no file handles)
 * shortly before it, so the summaries name cgroups made since the last walk without any
 * lookup having to wait.
 */
void lmp_ident_interval(struct lmp_ident *ic, unsigned interval_ms);

/* fn(ctx) runs on the loop after every kubelet request, good or failed (NULL: none). */
void lmp_ident_on_sync(struct lmp_ident *ic, void (*fn)(void *ctx), void *ctx);

/*
 * The holding itself, for the event path: keep a copy of rec (len bytes) and call
 * fn(ctx, rec, len) from the loop after the next kubelet sync, or within 100 ms after the
 * hold ran out, whichever is first. The replay is meant to go through the same path again,
 * which looks the cgroup up anew (and may hold once more, never past the 1 s bound):
 *
 *	if (lmp_ident_pending(ic, h->cgroup_id) &&
 *	    lmp_ident_hold(ic, h->cgroup_id, data, len, replay, p) == 0)
 *		return 0;
 *
 * -ENOSPC when 4 MiB are already held: handle the event now. lmp_ident_flush replays every
 * held event at once, unconditionally (before shutdown); lmp_ident_free drops them.
 */
typedef void (*lmp_ident_replay_fn)(void *ctx, const void *rec, size_t len);
int lmp_ident_hold(struct lmp_ident *ic, __u64 cgroup_id, const void *rec, size_t len,
		   lmp_ident_replay_fn fn, void *ctx);
void lmp_ident_flush(struct lmp_ident *ic);

/* The cgroup resolver's counters (lmp_cgroup_stats); -ENOENT without a v2 hierarchy. */
struct lmp_cgroup_stats;
int lmp_ident_cgroup_stats(const struct lmp_ident *ic, struct lmp_cgroup_stats *out);

#endif /* LMP_IDENTITY_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup walker thread: tree walks off the event loop's thread (a walk of a node with
 * thousands of cgroups outlasts a busy ring buffer). The owner asks for ids; the thread
 * walks the subtrees where recent ids appeared, or the whole tree (at most once per
 * LMP_CGWALK_MIN_INTERVAL_MS unless refreshed), and signals an eventfd when a walk is
 * done. It starts on the first request, with no capabilities and every signal blocked.
 */
#ifndef LMP_CGWALKER_H
#define LMP_CGWALKER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "k8s/cgwalk.h"

struct lmp_cgwalker;

/* A finished walk, handed to the owner. */
struct lmp_cgwalk_done {
	struct lmp_cgwalk w; /* sorted; the owner's to keep or free */
	uint64_t gen;	     /* the walk's generation (lmp_cgwalker_request) */
	bool partial;	     /* the hot subtrees only: merge into the index, do not replace it */
	bool failed;	     /* answers nothing (out of memory, root gone); w is empty */
};

/* root_fd is borrowed: it must stay open until lmp_cgwalker_free. */
int lmp_cgwalker_new(int root_fd, struct lmp_cgwalker **out);
/* Joins the thread. */
void lmp_cgwalker_free(struct lmp_cgwalker *wk);
/* Readable when a walk has finished. */
int lmp_cgwalker_fd(const struct lmp_cgwalker *wk);
/* Ask for a walk that starts after now and finds id: its generation, 0 if none can run. */
uint64_t lmp_cgwalker_request(struct lmp_cgwalker *wk, __u64 id);
/* A whole-tree walk now, past the rate limit; false if the thread cannot start. */
bool lmp_cgwalker_refresh(struct lmp_cgwalker *wk);
/* A finished walk waits (one atomic load: cheap enough per event). */
bool lmp_cgwalker_has_done(const struct lmp_cgwalker *wk);
/* Take the finished walk, if any; drains the eventfd. */
bool lmp_cgwalker_take(struct lmp_cgwalker *wk, struct lmp_cgwalk_done *out);

#endif /* LMP_CGWALKER_H */

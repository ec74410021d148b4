/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup walker thread, since a big walk outlasts a busy ring buffer. It walks the
 * subtrees where recent ids appeared, or the whole tree, rate-limited, and signals an
 * eventfd. Starts on the first request, with no capabilities and every signal blocked.
 */
#ifndef LMP_CGWALKER_H
#define LMP_CGWALKER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "k8s/cgwalk.h"

struct lmp_cgwalker;

struct lmp_cgwalk_done {
	struct lmp_cgwalk w; /* sorted; the owner's */
	uint64_t gen;
	bool partial; /* merge, do not replace */
	bool failed;  /* w is empty */
};

/* root_fd must stay open until lmp_cgwalker_free */
int lmp_cgwalker_new(int root_fd, struct lmp_cgwalker **out);
void lmp_cgwalker_free(struct lmp_cgwalker *wk);
int lmp_cgwalker_fd(const struct lmp_cgwalker *wk);
/* a walk that starts after now: its generation, 0 if none can run */
uint64_t lmp_cgwalker_request(struct lmp_cgwalker *wk, __u64 id);
/* past the rate limit */
bool lmp_cgwalker_refresh(struct lmp_cgwalker *wk);
/* one atomic load: cheap per event */
bool lmp_cgwalker_has_done(const struct lmp_cgwalker *wk);
/* drains the eventfd */
bool lmp_cgwalker_take(struct lmp_cgwalker *wk, struct lmp_cgwalk_done *out);

#endif /* LMP_CGWALKER_H */

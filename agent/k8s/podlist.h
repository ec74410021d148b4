/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A /pods reply boiled down to what identity needs, one immutable table per reply (a
 * refresh swaps in a new one). Pure: no I/O, no logging.
 */
#ifndef LMP_PODLIST_H
#define LMP_PODLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s/podpath.h"

enum lmp_ctr_kind {
	LMP_CTR_REGULAR,
	LMP_CTR_INIT,
	LMP_CTR_EPHEMERAL,
	_LMP_CTR_KIND_MAX,
};

struct lmp_pod {
	const char *namespace;
	const char *name;
	const char *uid;
	enum lmp_qos qos; /* LMP_QOS_NONE: not said */
	uint32_t first_ctr, n_ctrs;
};

struct lmp_pod_ctr {
	const char *name;
	const char *id; /* "" while being created */
	uint32_t pod;
	enum lmp_ctr_kind kind;
	bool previous; /* lastState.terminated */
};

struct lmp_podlist_stats {
	uint32_t null_items;
	uint32_t no_uid; /* skipped */
	uint32_t ctrs_no_id;
	uint32_t bad_ids; /* ignored */
	uint32_t n_init;
	uint32_t n_ephemeral;
	uint32_t n_previous;
};

struct lmp_podlist {
	struct lmp_pod *pods;
	size_t n_pods;
	struct lmp_pod_ctr *ctrs;
	size_t n_ctrs;
	struct lmp_podlist_stats stats;
	size_t mem;
	/* private */
	char *arena;
	uint32_t *by_uid, *by_cid;
	size_t mask;
};

/* wanted values above which a reply is refused unparsed (docs/hardening.md) */
#define LMP_PODLIST_MAX_VALUES 250000

/*
 * Missing fields and nulls are fine; not a PodList: -EINVAL, too many values: -E2BIG, each
 * with a one-line reason in err. Only the members needed become a tree. Thread-safe.
 */
int lmp_podlist_parse(const char *json, size_t len, struct lmp_podlist **out, char *err,
		      size_t errlen);
void lmp_podlist_free(struct lmp_podlist *pl);

/* NULL when absent */
const struct lmp_pod *lmp_podlist_find_pod(const struct lmp_podlist *pl, const char *uid);
const struct lmp_pod_ctr *lmp_podlist_find_ctr(const struct lmp_podlist *pl, const char *id);

#endif /* LMP_PODLIST_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kubelet's /pods reply (a v1 PodList) boiled down to what identity needs: per pod its
 * namespace, name, UID and QoS class; per container (regular, init, ephemeral) its name and
 * bare runtime ID. One immutable table per reply with hash indexes by pod UID and container
 * ID; a refresh builds a new table and swaps it in. Pure: no I/O, no logging.
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
	enum lmp_qos qos; /* LMP_QOS_NONE when the kubelet did not say (old or pending pods) */
	uint32_t first_ctr, n_ctrs; /* this pod's rows in lmp_podlist.ctrs */
};

struct lmp_pod_ctr {
	const char *name;
	const char *id; /* bare ID; "" while the container is being created */
	uint32_t pod;	/* index into lmp_podlist.pods */
	enum lmp_ctr_kind kind;
	bool previous; /* the ID of an earlier, terminated instance (lastState.terminated) */
};

struct lmp_podlist_stats {
	uint32_t null_items;  /* items[] entries that were null or not objects */
	uint32_t no_uid;      /* pods without metadata.uid: skipped */
	uint32_t ctrs_no_id;  /* containers still being created */
	uint32_t bad_ids;     /* containerID values that are not container IDs: ignored */
	uint32_t n_init;      /* init containers among ctrs (current instances) */
	uint32_t n_ephemeral; /* ephemeral containers among ctrs (current instances) */
	uint32_t n_previous;  /* rows that are earlier instances */
};

struct lmp_podlist {
	struct lmp_pod *pods;
	size_t n_pods;
	struct lmp_pod_ctr *ctrs;
	size_t n_ctrs;
	struct lmp_podlist_stats stats;
	size_t mem; /* bytes held by this table, for the memory benchmark */
	/* private */
	char *arena;
	uint32_t *by_uid, *by_cid;
	size_t mask;
};

/*
 * Values of a reply that the table needs (pods, their names, containers and IDs: ~12 per
 * pod in real replies) above which a reply is refused before any tree is built: ~20,000
 * pods, far more than a kubelet runs (110 by default), and at most ~50 MB of parse tree.
 */
#define LMP_PODLIST_MAX_VALUES 250000

/*
 * Parse a PodList. Missing fields, nulls, empty lists and containers without IDs are fine;
 * what is not a PodList (not JSON, cut short, a Status object, no items
 * array, a top-level member a List does not have) is -EINVAL, more than
 * LMP_PODLIST_MAX_VALUES wanted values -E2BIG, each with a one-line reason in err. Only
 * the members the table needs are parsed into a tree; the rest is skipped in the text.
 * Thread-safe: no global state.
 */
int lmp_podlist_parse(const char *json, size_t len, struct lmp_podlist **out, char *err,
		      size_t errlen);
void lmp_podlist_free(struct lmp_podlist *pl);

/* NULL when absent */
const struct lmp_pod *lmp_podlist_find_pod(const struct lmp_podlist *pl, const char *uid);
const struct lmp_pod_ctr *lmp_podlist_find_ctr(const struct lmp_podlist *pl, const char *id);

#endif /* LMP_PODLIST_H */

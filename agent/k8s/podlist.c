// SPDX-License-Identifier: Apache-2.0
/*
 * PodList JSON -> compact table. A filter (podfilter.c) first copies the members the table
 * needs out of the text (bounded: at most LMP_PODLIST_MAX_VALUES values), jansson parses
 * that copy, and two passes over the tree follow: the first counts pods, containers and
 * string bytes, the second fills exactly-sized arrays and one string arena, so a table is three allocations plus its two indexes, and nothing ever reallocates under
 * a pointer handed out. Real replies carry nulls, missing fields, empty lists and
 * containers not yet created; each is skipped or recorded empty, and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <jansson.h>

#include "k8s/podfilter.h"
#include "k8s/podlist.h"

struct build {
	bool dry; /* counting pass */
	size_t n_pods, n_ctrs, bytes;
	struct lmp_podlist *pl;
	char *ap; /* arena write position */
};

static const char *jstr(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key)); /* NULL-safe at every step */
}

static const char *put_str(struct build *b, const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *d = b->ap;

	if (b->dry) {
		b->bytes += n;
		return "";
	}
	memcpy(d, s ? s : "", n);
	b->ap += n;
	return d;
}

static void add_ctr(struct build *b, const char *name, const char *id, enum lmp_ctr_kind kind,
		    bool previous)
{
	struct lmp_pod_ctr *c;

	if (!b->dry) {
		c = &b->pl->ctrs[b->n_ctrs];
		*c = (struct lmp_pod_ctr){
			.name = name, .pod = b->n_pods, .kind = kind, .previous = previous
		};
		c->id = put_str(b, id);
		b->pl->stats.n_previous += previous;
		b->pl->stats.n_init += !previous && kind == LMP_CTR_INIT;
		b->pl->stats.n_ephemeral += !previous && kind == LMP_CTR_EPHEMERAL;
	} else {
		put_str(b, id);
	}
	b->n_ctrs++;
}

static void walk_statuses(struct build *b, json_t *list, enum lmp_ctr_kind kind,
			  struct lmp_podlist_stats *st)
{
	size_t i;
	json_t *c;

	if (!json_is_array(list))
		return;
	json_array_foreach(list, i, c) {
		char id[LMP_CONTAINER_ID_LEN] = "", prev[LMP_CONTAINER_ID_LEN] = "";
		const char *cid = jstr(c, "containerID"), *name;
		const char *pid =
			jstr(json_object_get(json_object_get(c, "lastState"), "terminated"),
			     "containerID");

		if (!json_is_object(c))
			continue;
		if (!cid || !*cid)
			st->ctrs_no_id++;
		else if (lmp_podpath_bare_id(cid, id, sizeof(id)) < 0)
			st->bad_ids++;
		if (pid && *pid && lmp_podpath_bare_id(pid, prev, sizeof(prev)) < 0)
			st->bad_ids++;
		name = put_str(b, jstr(c, "name"));
		add_ctr(b, name, id, kind, false);
		/* a restarted container's exit event may still come from the old instance */
		if (prev[0] && strcmp(prev, id))
			add_ctr(b, name, prev, kind, true);
	}
}

static void walk(struct build *b, json_t *items)
{
	static const struct {
		const char *key;
		enum lmp_ctr_kind kind;
	} lists[] = {
		{ "containerStatuses", LMP_CTR_REGULAR },
		{ "initContainerStatuses", LMP_CTR_INIT },
		{ "ephemeralContainerStatuses", LMP_CTR_EPHEMERAL },
	};
	struct lmp_podlist_stats scratch = { 0 }, *st = b->dry ? &scratch : &b->pl->stats;
	size_t i;
	json_t *pod;

	json_array_foreach(items, i, pod) {
		json_t *md = json_object_get(pod, "metadata"), *status;
		const char *uid = jstr(md, "uid");
		struct lmp_pod *p = b->dry ? NULL : &b->pl->pods[b->n_pods];
		uint32_t first = b->n_ctrs;

		if (!json_is_object(pod)) {
			st->null_items++;
			continue;
		}
		if (!uid || !*uid) {
			st->no_uid++;
			continue;
		}
		status = json_object_get(pod, "status");
		if (p) {
			p->uid = put_str(b, uid);
			p->namespace = put_str(b, jstr(md, "namespace"));
			p->name = put_str(b, jstr(md, "name"));
			p->qos = lmp_qos_parse(jstr(status, "qosClass"));
		} else {
			put_str(b, uid);
			put_str(b, jstr(md, "namespace"));
			put_str(b, jstr(md, "name"));
		}
		for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
			walk_statuses(b, json_object_get(status, lists[k].key), lists[k].kind, st);
		if (p) {
			p->first_ctr = first;
			p->n_ctrs = b->n_ctrs - first;
		}
		b->n_pods++;
	}
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

/* open addressing, linear probing; slots hold index + 1, 0 is empty; first entry wins */
static void index_put(uint32_t *tab, size_t mask, const char *key, uint32_t idx,
		      const char *(*key_of)(const struct lmp_podlist *, uint32_t),
		      const struct lmp_podlist *pl)
{
	for (size_t h = hash_str(key) & mask;; h = (h + 1) & mask) {
		if (!tab[h]) {
			tab[h] = idx + 1;
			return;
		}
		if (!strcmp(key_of(pl, tab[h] - 1), key))
			return;
	}
}

static const char *pod_key(const struct lmp_podlist *pl, uint32_t i)
{
	return pl->pods[i].uid;
}

static const char *ctr_key(const struct lmp_podlist *pl, uint32_t i)
{
	return pl->ctrs[i].id;
}

static uint32_t index_get(const uint32_t *tab, size_t mask, const char *key,
			  const char *(*key_of)(const struct lmp_podlist *, uint32_t),
			  const struct lmp_podlist *pl)
{
	for (size_t h = hash_str(key) & mask; tab[h]; h = (h + 1) & mask)
		if (!strcmp(key_of(pl, tab[h] - 1), key))
			return tab[h];
	return 0;
}

static int build_index(struct lmp_podlist *pl)
{
	size_t want = 2 * (pl->n_pods > pl->n_ctrs ? pl->n_pods : pl->n_ctrs), cap = 16;

	while (cap < want)
		cap <<= 1;
	pl->mask = cap - 1;
	pl->by_uid = calloc(cap, sizeof(*pl->by_uid));
	pl->by_cid = calloc(cap, sizeof(*pl->by_cid));
	if (!pl->by_uid || !pl->by_cid)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n_pods; i++)
		index_put(pl->by_uid, pl->mask, pl->pods[i].uid, i, pod_key, pl);
	/* current instances first, so an ID listed as both current and previous maps to current */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < pl->n_ctrs; i++)
			if (pl->ctrs[i].id[0] && pl->ctrs[i].previous == pass)
				index_put(pl->by_cid, pl->mask, pl->ctrs[i].id, i, ctr_key, pl);
	pl->mem += sizeof(*pl) + 2 * cap * sizeof(uint32_t);
	return 0;
}

int lmp_podlist_parse(const char *json, size_t len, struct lmp_podlist **out, char *err,
		      size_t errlen)
{
	struct build b = { .dry = true };
	struct lmp_podfilter f = { .in = json,
				   .len = json ? len : 0,
				   .max_values = LMP_PODLIST_MAX_VALUES };
	struct lmp_podlist *pl = NULL;
	json_error_t jerr;
	json_t *root = NULL, *items;
	const char *kind;
	int r = -EINVAL;

	*out = NULL;
	f.out = malloc(f.len + 1);
	if (!f.out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = lmp_podfilter_run(&f);
	if (r == 0) {
		root = json_loadb(f.out, f.o, 0, &jerr);
		if (!root)
			snprintf(err, errlen, "not JSON: %s", jerr.text);
	} else if (f.values > f.max_values) {
		snprintf(err, errlen,
			 "more than %zu values in the pods' names and containers: "
			 "refused unparsed",
			 f.max_values);
		r = -E2BIG;
	} else {
		int line = 1, col = 1;

		for (size_t i = 0; i < f.i && i < f.len; i++, col++)
			if (json[i] == '\n')
				line++, col = 0;
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", f.err, f.len ? line : 0,
			 f.len ? col : 0);
	}
	free(f.out);
	if (!root) {
		/* jansson quotes the reply near the error: no control characters into a log line
		 * (found by tests/fuzz/fuzz_podlist.c) */
		for (char *c = err; errlen && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		return r ? r : -EINVAL;
	}
	r = -EINVAL;
	kind = jstr(root, "kind");
	items = json_object_get(root, "items");
	if (!json_is_object(root) || (kind && !strcmp(kind, "Status"))) {
		snprintf(err, errlen, "not a PodList: %s%s", kind ? "kind " : "a JSON ",
			 kind		      ? kind :
			 json_is_object(root) ? "object without kind" :
						"non-object");
		for (char *c = err; errlen && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		goto out;
	}
	if (!items || !(json_is_array(items) || json_is_null(items))) {
		snprintf(err, errlen, "not a PodList: %s",
			 items ? "items is not an array" : "no items");
		goto out;
	}
	if (f.unknown[0]) {
		/* a List has kind, apiVersion, metadata and items, nothing else */
		snprintf(err, errlen, "not a PodList: unexpected member \"%s\"", f.unknown);
		goto out;
	}
	walk(&b, items); /* Go encodes an empty list as null: walk() sees no elements */
	r = -ENOMEM;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		goto out;
	pl->pods = calloc(b.n_pods + 1, sizeof(*pl->pods));
	pl->ctrs = calloc(b.n_ctrs + 1, sizeof(*pl->ctrs));
	pl->arena = malloc(b.bytes + 1);
	if (!pl->pods || !pl->ctrs || !pl->arena)
		goto out;
	pl->mem = b.n_pods * sizeof(*pl->pods) + b.n_ctrs * sizeof(*pl->ctrs) + b.bytes;
	pl->n_pods = b.n_pods;
	pl->n_ctrs = b.n_ctrs;
	b = (struct build){ .pl = pl, .ap = pl->arena };
	walk(&b, items);
	r = build_index(pl);
	if (r < 0)
		goto out;
	*out = pl;
	pl = NULL;
out:
	lmp_podlist_free(pl);
	json_decref(root);
	return r;
}

void lmp_podlist_free(struct lmp_podlist *pl)
{
	if (!pl)
		return;
	free(pl->pods);
	free(pl->ctrs);
	free(pl->arena);
	free(pl->by_uid);
	free(pl->by_cid);
	free(pl);
}

const struct lmp_pod *lmp_podlist_find_pod(const struct lmp_podlist *pl, const char *uid)
{
	uint32_t i = pl && uid ? index_get(pl->by_uid, pl->mask, uid, pod_key, pl) : 0;

	return i ? &pl->pods[i - 1] : NULL;
}

const struct lmp_pod_ctr *lmp_podlist_find_ctr(const struct lmp_podlist *pl, const char *id)
{
	uint32_t i = pl && id && *id ? index_get(pl->by_cid, pl->mask, id, ctr_key, pl) : 0;

	return i ? &pl->ctrs[i - 1] : NULL;
}

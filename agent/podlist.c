// SPDX-License-Identifier: Apache-2.0
/*
 * PodList JSON -> compact table. Two passes over the parsed tree: the first counts pods,
 * containers and string bytes, the second fills exactly-sized arrays and one string arena,
 * so a table is three allocations plus its two indexes, and nothing ever reallocates under
 * a pointer handed out. Real replies carry nulls, missing fields, empty lists and
 * containers not yet created; each is skipped or recorded empty, and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "podlist.h"

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
		*c = (struct lmp_pod_ctr){ .name = name, .pod = b->n_pods, .kind = kind,
					   .previous = previous };
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
		const char *pid = jstr(json_object_get(json_object_get(c, "lastState"), "terminated"),
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

/*
 * Members no lookup needs, dropped from the text before jansson builds its tree: the pod
 * spec and the bulky metadata are ~70% of a real reply, and building them dominated the
 * parse. A plain scan (strings and nesting only); anything odd, e.g. a reply cut short,
 * returns -EINVAL and jansson gets the original text and reports the error.
 */
static const char *const drop_keys[] = { "spec",	   "managedFields", "annotations",
					 "labels",	   "ownerReferences", "conditions" };

static size_t skip_string(const char *in, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (in[i] == '\\')
			i++;
		else if (in[i] == '"')
			return i + 1;
	}
	return 0;
}

/* end of the value that starts at in[i] (after blanks); 0 if cut short */
static size_t skip_value(const char *in, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = in[i];

		if (c == '"') {
			i = skip_string(in, len, i);
			if (!i || depth == 0)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0) /* a scalar ended by its container */
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (c == ',' && depth == 0) {
			return i;
		}
		i++;
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static bool dropped(const char *key, size_t n)
{
	for (size_t k = 0; k < sizeof(drop_keys) / sizeof(drop_keys[0]); k++)
		if (strlen(drop_keys[k]) == n && !memcmp(key, drop_keys[k], n))
			return true;
	return false;
}

static int prune(const char *in, size_t len, char *out, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < len) {
		const char *q = memchr(in + i, '"', len - i);
		size_t s = q ? (size_t)(q - in) : len, e, j;

		memcpy(out + o, in + i, s - i);
		o += s - i;
		if (s == len)
			break;
		e = skip_string(in, len, s);
		if (!e)
			return -EINVAL;
		for (j = e; j < len && is_blank(in[j]); j++)
			;
		if (j < len && in[j] == ':' && dropped(in + s + 1, e - s - 2)) {
			size_t v = skip_value(in, len, j + 1), k;

			if (!v)
				return -EINVAL;
			for (k = v; k < len && is_blank(in[k]); k++)
				;
			if (k < len && in[k] == ',') { /* drop the member and its comma */
				i = k + 1;
			} else { /* the last member: drop the comma before it */
				while (o > 0 && is_blank(out[o - 1]))
					o--;
				if (o > 0 && out[o - 1] == ',')
					o--;
				i = v;
			}
			continue;
		}
		memcpy(out + o, in + s, e - s);
		o += e - s;
		i = e;
	}
	*outlen = o;
	return 0;
}

int lmp_podlist_parse(const char *json, size_t len, struct lmp_podlist **out, char *err,
		      size_t errlen)
{
	struct build b = { .dry = true };
	struct lmp_podlist *pl = NULL;
	json_error_t jerr;
	json_t *root, *items;
	char *slim;
	size_t slen;
	const char *kind;
	int r = -EINVAL;

	*out = NULL;
	slim = json && len ? malloc(len) : NULL;
	root = slim && prune(json, len, slim, &slen) == 0 ? json_loadb(slim, slen, 0, &jerr) : NULL;
	if (!root && json && len) /* again on the original: errors point into what was sent */
		root = json_loadb(json, len, 0, &jerr);
	free(slim);
	if (!root) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)",
			 json && len ? jerr.text : "empty body", json && len ? jerr.line : 0,
			 json && len ? jerr.column : 0);
		/* jansson quotes the reply near the error: no control characters into a log line
		 * (found by tests/fuzz/fuzz_podlist.c) */
		for (char *c = err; errlen && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		return -EINVAL;
	}
	kind = jstr(root, "kind");
	items = json_object_get(root, "items");
	if (!json_is_object(root) || (kind && !strcmp(kind, "Status"))) {
		snprintf(err, errlen, "not a PodList: %s%s", kind ? "kind " : "a JSON ",
			 kind ? kind : json_is_object(root) ? "object without kind" : "non-object");
		goto out;
	}
	if (!items || !(json_is_array(items) || json_is_null(items))) {
		snprintf(err, errlen, "not a PodList: %s", items ? "items is not an array"
							       : "no items");
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

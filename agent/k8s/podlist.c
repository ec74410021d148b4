// SPDX-License-Identifier: Apache-2.0
/*
 * PodList JSON -> compact table. A filter first copies the members the table needs out of
 * the text (bounded: at most LMP_PODLIST_MAX_VALUES values), jansson parses that copy, and
 * two passes over the tree follow: the first counts pods,
 * containers and string bytes, the second fills exactly-sized arrays and one string arena,
 * so a table is three allocations plus its two indexes, and nothing ever reallocates under
 * a pointer handed out. Real replies carry nulls, missing fields, empty lists and
 * containers not yet created; each is skipped or recorded empty, and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <jansson.h>

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

/*
 * What of a reply the table needs, as a schema the filter below follows: every other member
 * is skipped in the text, before jansson builds a tree, so the tree's size depends on the
 * pods and containers listed and not on what else a reply carries (the pod spec, managed
 * fields, annotations: ~90% of a real reply; or 20 million empty objects in an unknown
 * member, which jansson alone turned into 4.7 GB).
 */
enum shape {
	S_SCALAR, /* a string, number, bool or null; a container here is copied empty */
	S_ROOT,
	S_PODS,
	S_POD,
	S_META,
	S_STATUS,
	S_CTRS,
	S_CTR,
	S_LAST,
	S_TERM,
};

static const struct member {
	enum shape in;
	const char *key;
	enum shape shape;
} members[] = {
	{ S_ROOT, "kind", S_SCALAR },
	{ S_ROOT, "items", S_PODS },
	{ S_POD, "metadata", S_META },
	{ S_POD, "status", S_STATUS },
	{ S_META, "uid", S_SCALAR },
	{ S_META, "namespace", S_SCALAR },
	{ S_META, "name", S_SCALAR },
	{ S_STATUS, "qosClass", S_SCALAR },
	{ S_STATUS, "containerStatuses", S_CTRS },
	{ S_STATUS, "initContainerStatuses", S_CTRS },
	{ S_STATUS, "ephemeralContainerStatuses", S_CTRS },
	{ S_CTR, "name", S_SCALAR },
	{ S_CTR, "containerID", S_SCALAR },
	{ S_CTR, "lastState", S_LAST },
	{ S_LAST, "terminated", S_TERM },
	{ S_TERM, "containerID", S_SCALAR },
};

/* the other members of a List; anything else at the top is not a PodList */
static const char *const root_skipped[] = { "apiVersion", "metadata" };

struct filter {
	const char *in;
	size_t len, i;
	char *out;
	size_t o;
	size_t values; /* values copied, i.e. jansson nodes to come */
	size_t max_values;
	char unknown[40]; /* first unexpected top-level member */
	const char *err;  /* why the text was refused */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static void blanks(struct filter *f)
{
	while (f->i < f->len && is_blank(f->in[f->i]))
		f->i++;
}

static void emit(struct filter *f, const char *s, size_t n)
{
	memcpy(f->out + f->o, s, n);
	f->o += n;
}

/* f->i at a '"': past its closing quote, or false if cut short */
static bool skip_string(struct filter *f)
{
	const char *q;

	for (f->i++; (q = memchr(f->in + f->i, '"', f->len - f->i)); f->i = q - f->in + 1) {
		size_t bs = 0;

		while (q - bs > f->in + f->i && q[-1 - (ssize_t)bs] == '\\')
			bs++;
		if (!(bs & 1)) {
			f->i = q - f->in + 1;
			return true;
		}
	}
	f->i = f->len;
	f->err = "cut short in a string";
	return false;
}

/* a number or literal: up to the next delimiter */
static bool skip_scalar(struct filter *f)
{
	size_t s = f->i;

	while (f->i < f->len && !strchr(",]}: \t\r\n\"{[", f->in[f->i]))
		f->i++;
	if (f->i == s)
		f->err = "unexpected character";
	else if (f->i == f->len)
		f->err = "cut short";
	return f->i > s && f->i < f->len;
}

/* Skip one value, iteratively: nesting depth costs nothing here. */
static bool skip_value(struct filter *f)
{
	size_t depth = 0;

	do {
		char c;

		blanks(f);
		if (f->i >= f->len) {
			f->err = "cut short";
			return false;
		}
		c = f->in[f->i];
		if (c == '"') {
			if (!skip_string(f))
				return false;
		} else if (c == '{' || c == '[') {
			depth++;
			f->i++;
		} else if (c == '}' || c == ']') {
			if (!depth) {
				f->err = "unexpected character";
				return false;
			}
			depth--;
			f->i++;
		} else if (c == ',' || c == ':') {
			if (!depth) {
				f->err = "unexpected character";
				return false;
			}
			f->i++;
		} else if (!skip_scalar(f)) {
			return false;
		}
	} while (depth);
	return true;
}

static bool copy(struct filter *f, enum shape sh);

static const struct member *find_member(enum shape in, const char *key, size_t n)
{
	for (size_t k = 0; k < sizeof(members) / sizeof(members[0]); k++)
		if (members[k].in == in && strlen(members[k].key) == n &&
		    !memcmp(members[k].key, key, n))
			return &members[k];
	return NULL;
}

static bool root_member(const char *key, size_t n)
{
	for (size_t k = 0; k < sizeof(root_skipped) / sizeof(root_skipped[0]); k++)
		if (strlen(root_skipped[k]) == n && !memcmp(root_skipped[k], key, n))
			return true;
	return false;
}

static void note_unknown(struct filter *f, const char *key, size_t n)
{
	size_t k;

	if (f->unknown[0])
		return;
	for (k = 0; k < n && k < sizeof(f->unknown) - 4; k++)
		f->unknown[k] = (unsigned char)key[k] < 0x20 || key[k] == 0x7f ? '?' : key[k];
	if (k < n)
		memcpy(f->unknown + k, "...", 3), k += 3;
	f->unknown[k] = '\0';
}

static bool expect(struct filter *f, char c)
{
	blanks(f);
	if (f->i < f->len && f->in[f->i] == c) {
		f->i++;
		return true;
	}
	f->err = f->i < f->len ? "unexpected character" : "cut short";
	return false;
}

static bool copy_object(struct filter *f, enum shape sh)
{
	bool first = true;

	f->i++;
	emit(f, "{", 1);
	blanks(f);
	if (f->i < f->len && f->in[f->i] == '}') {
		f->i++;
		emit(f, "}", 1);
		return true;
	}
	for (;;) {
		const struct member *m;
		size_t ks;

		blanks(f);
		ks = f->i;
		if (f->i >= f->len || f->in[f->i] != '"') {
			f->err = f->i < f->len ? "expected a member name" : "cut short";
			return false;
		}
		if (!skip_string(f))
			return false;
		/* the key is in[ks + 1, f->i - 1), as sent (an escaped name matches nothing) */
		m = find_member(sh, f->in + ks + 1, f->i - ks - 2);
		if (!m && sh == S_ROOT && !root_member(f->in + ks + 1, f->i - ks - 2))
			note_unknown(f, f->in + ks + 1, f->i - ks - 2);
		if (m) {
			if (!first)
				emit(f, ",", 1);
			first = false;
			emit(f, f->in + ks, f->i - ks);
			emit(f, ":", 1);
		}
		if (!expect(f, ':'))
			return false;
		if (m ? !copy(f, m->shape) : !skip_value(f))
			return false;
		blanks(f);
		if (f->i < f->len && f->in[f->i] == ',') {
			f->i++;
			continue;
		}
		if (!expect(f, '}'))
			return false;
		emit(f, "}", 1);
		return true;
	}
}

static bool copy_array(struct filter *f, enum shape elem)
{
	f->i++;
	emit(f, "[", 1);
	blanks(f);
	if (f->i < f->len && f->in[f->i] == ']') {
		f->i++;
		emit(f, "]", 1);
		return true;
	}
	for (bool first = true;; first = false) {
		if (!first)
			emit(f, ",", 1);
		if (!copy(f, elem))
			return false;
		blanks(f);
		if (f->i < f->len && f->in[f->i] == ',') {
			f->i++;
			continue;
		}
		if (!expect(f, ']'))
			return false;
		emit(f, "]", 1);
		return true;
	}
}

/* Copy the value at f->i as the schema wants it; a container of the wrong kind is copied
 * empty, so the checks after parsing see the type that was sent. */
static bool copy(struct filter *f, enum shape sh)
{
	bool want_array = sh == S_PODS || sh == S_CTRS;
	size_t s;
	char c;

	blanks(f);
	if (f->i >= f->len) {
		f->err = "cut short";
		return false;
	}
	if (++f->values > f->max_values) {
		f->err = "too many values";
		return false;
	}
	c = f->in[f->i];
	if (c == '{' || c == '[') {
		if (sh != S_SCALAR && (c == '[') == want_array)
			return c == '[' ? copy_array(f, sh == S_PODS ? S_POD : S_CTR) :
					  copy_object(f, sh);
		/* never longer than what it replaces: the copy fits in len bytes */
		if (!skip_value(f))
			return false;
		emit(f, c == '{' ? "{}" : "[]", 2);
		return true;
	}
	s = f->i;
	if (c == '"' ? !skip_string(f) : !skip_scalar(f))
		return false;
	emit(f, f->in + s, f->i - s);
	return true;
}

/* 0, or -EINVAL with f->err set; f->out holds what jansson is to parse */
static int filter(struct filter *f)
{
	blanks(f);
	if (f->i >= f->len) {
		f->err = "empty body";
		return -EINVAL;
	}
	if (!copy(f, f->in[f->i] == '{' ? S_ROOT : S_SCALAR))
		return -EINVAL;
	blanks(f);
	if (f->i < f->len) {
		f->err = "text after the value";
		return -EINVAL;
	}
	return 0;
}

int lmp_podlist_parse(const char *json, size_t len, struct lmp_podlist **out, char *err,
		      size_t errlen)
{
	struct build b = { .dry = true };
	struct filter f = { .in = json,
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
	r = filter(&f);
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

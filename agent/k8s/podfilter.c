// SPDX-License-Identifier: Apache-2.0
/* The PodList filter; see podfilter.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "k8s/podfilter.h"

/*
 * What of a reply the table needs, as a schema the filter below follows: every other member
 * is skipped in the text, before jansson builds a tree, so the tree's size depends on the
 * pods and containers listed and not on what else a reply carries (the pod spec, managed
 * fields, annotations; or a flood of empty objects in an unknown member). What that saves:
 * docs/performance.md.
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

static bool is_blank(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static void blanks(struct lmp_podfilter *f)
{
	while (f->i < f->len && is_blank(f->in[f->i]))
		f->i++;
}

static void emit(struct lmp_podfilter *f, const char *s, size_t n)
{
	memcpy(f->out + f->o, s, n);
	f->o += n;
}

/* f->i at a '"': past its closing quote, or false if cut short */
static bool skip_string(struct lmp_podfilter *f)
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
static bool skip_scalar(struct lmp_podfilter *f)
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
static bool skip_value(struct lmp_podfilter *f)
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

static bool copy(struct lmp_podfilter *f, enum shape sh);

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

static void note_unknown(struct lmp_podfilter *f, const char *key, size_t n)
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

static bool expect(struct lmp_podfilter *f, char c)
{
	blanks(f);
	if (f->i < f->len && f->in[f->i] == c) {
		f->i++;
		return true;
	}
	f->err = f->i < f->len ? "unexpected character" : "cut short";
	return false;
}

static bool copy_object(struct lmp_podfilter *f, enum shape sh)
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

static bool copy_array(struct lmp_podfilter *f, enum shape elem)
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
static bool copy(struct lmp_podfilter *f, enum shape sh)
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

int lmp_podfilter_run(struct lmp_podfilter *f)
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

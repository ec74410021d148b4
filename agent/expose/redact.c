// SPDX-License-Identifier: Apache-2.0
/*
 * argv redaction (see redact.h for the rules). Over-redaction is the safe error: an operator
 * who misses a flag value can turn redaction off (--no-redact) on a node where nobody passes
 * secrets in argv, while a leaked token cannot be taken back from a log pipeline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expose/redact.h"

struct lmp_redact {
	size_t n;
	size_t len[LMP_REDACT_MAX_PATTERNS];
	char pat[LMP_REDACT_MAX_PATTERNS][LMP_REDACT_MAX_PATTERN_LEN + 1]; /* normalised */
};

static bool is_sep(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       is_sep(c);
}

/* add one pattern text [s, s + n) in normalised form */
static int add_pattern(struct lmp_redact *r, const char *s, size_t n, char *err, size_t errlen)
{
	size_t k = 0;

	if (r->n >= LMP_REDACT_MAX_PATTERNS) {
		snprintf(err, errlen, "more than %d patterns", LMP_REDACT_MAX_PATTERNS);
		return -EINVAL;
	}
	if (n > LMP_REDACT_MAX_PATTERN_LEN) {
		snprintf(err, errlen, "pattern '%.*s...' longer than %d characters", 16, s,
			 LMP_REDACT_MAX_PATTERN_LEN);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(s[i])) {
			snprintf(
				err, errlen,
				"pattern '%.*s': only letters, digits, '-', '_' and '.' are allowed",
				(int)n, s);
			return -EINVAL;
		}
		if (!is_sep(s[i]))
			r->pat[r->n][k++] = lower(s[i]);
	}
	if (!k) {
		snprintf(err, errlen, "empty pattern in the list");
		return -EINVAL;
	}
	r->pat[r->n][k] = 0;
	r->len[r->n++] = k;
	return 0;
}

static int add_list(struct lmp_redact *r, const char *list, char *err, size_t errlen)
{
	for (const char *p = list;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int e;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		e = add_pattern(r, p, n, err, errlen);
		if (e < 0)
			return e;
		if (!end)
			return 0;
		p = end + 1;
	}
}

int lmp_redact_new(const char *patterns, struct lmp_redact **out, char *err, size_t errlen)
{
	struct lmp_redact *r;
	char dummy[8];
	int e = 0;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (!patterns || !*patterns || *patterns == '+')
		e = add_list(r, LMP_REDACT_DEFAULT, err, errlen);
	if (!e && patterns && *patterns == '+' && patterns[1])
		e = add_list(r, patterns + 1, err, errlen);
	else if (!e && patterns && *patterns && *patterns != '+')
		e = add_list(r, patterns, err, errlen);
	if (e < 0) {
		free(r);
		return e;
	}
	*out = r;
	return 0;
}

void lmp_redact_free(struct lmp_redact *r)
{
	free(r);
}

int lmp_redact_check(const char *patterns, char *err, size_t errlen)
{
	struct lmp_redact *r;
	int e = lmp_redact_new(patterns, &r, err, errlen);

	lmp_redact_free(r);
	return e;
}

/* does the normalised pattern occur in name[0..n), separators in the name skipped? */
static bool contains(const char *name, size_t n, const char *pat, size_t plen)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i, k = 0;

		if (is_sep(name[i]))
			continue;
		while (j < n && k < plen) {
			if (is_sep(name[j])) {
				j++;
				continue;
			}
			if (lower(name[j]) != pat[k])
				break;
			j++;
			k++;
		}
		if (k == plen)
			return true;
	}
	return false;
}

/* does the normalised name end in suffix? */
static bool ends_with(const char *name, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	while (n && k) {
		if (is_sep(name[n - 1])) {
			n--;
			continue;
		}
		if (lower(name[n - 1]) != suffix[k - 1])
			return false;
		n--;
		k--;
	}
	return k == 0;
}

bool lmp_redact_name_is_secret(const struct lmp_redact *r, const char *name, size_t len)
{
	while (len && *name == '-') {
		name++;
		len--;
	}
	if (!r || !len || ends_with(name, len, "file") || ends_with(name, len, "path") ||
	    ends_with(name, len, "dir"))
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (contains(name, len, r->pat[i], r->len[i]))
			return true;
	return false;
}

struct sink {
	char *buf;
	size_t cap, used;
};

static void put(struct sink *s, const char *p, size_t n)
{
	size_t room = s->cap - s->used;

	if (n > room)
		n = room;
	memcpy(s->buf + s->used, p, n);
	s->used += n;
}

static void put_mark(struct sink *s, unsigned *count)
{
	put(s, LMP_REDACT_MARK, sizeof(LMP_REDACT_MARK) - 1);
	(*count)++;
}

/* spans of one argument to replace by the mark, found by the detectors below */
#define MAX_SPANS 64

struct spans {
	size_t n;
	size_t at[MAX_SPANS][2]; /* [start, end) */
};

static void span_add(struct spans *sp, size_t from, size_t to)
{
	if (to > from && sp->n < MAX_SPANS) {
		sp->at[sp->n][0] = from;
		sp->at[sp->n][1] = to;
		sp->n++;
	}
}

/* scheme://user:PASSWORD@host: the PASSWORD, whatever the patterns */
static void find_url_passwords(const char *a, size_t n, struct spans *sp)
{
	size_t i = 0;

	while (i < n) {
		const char *scheme = memmem(a + i, n - i, "://", 3);
		size_t auth, end, at = 0, colon = 0;

		if (!scheme)
			return;
		auth = scheme - a + 3;
		for (end = auth; end < n && a[end] != '/' && a[end] != '?' && a[end] != '#' &&
				 a[end] != ' ' && a[end] != ',';
		     end++)
			if (a[end] == '@')
				at = end; /* the last '@': a password may hold one */
		for (size_t k = auth; at && k < at; k++)
			if (a[k] == ':') {
				colon = k;
				break;
			}
		if (at && colon)
			span_add(sp, colon + 1, at);
		i = end > i ? end : i + 1;
	}
}

/* the end of a quoted string that opens at a[i] (the index of its closing quote, or n) */
static size_t quoted_end(const char *a, size_t n, size_t i)
{
	for (size_t k = i + 1; k < n; k++) {
		if (a[k] == '\\')
			k++;
		else if (a[k] == a[i])
			return k;
	}
	return n;
}

/*
 * JSON (or a Python dict) in an argument: "NAME": VALUE where NAME is a secret name; a
 * quoted VALUE loses what is between its quotes, a bare one (number, true) up to the next
 * ',', '}', ']' or space.
 */
static void find_json_secrets(const struct lmp_redact *r, const char *a, size_t n, struct spans *sp)
{
	for (size_t i = 0; i < n; i++) {
		size_t kend, v, vend;

		if (a[i] != '"' && a[i] != '\'')
			continue;
		kend = quoted_end(a, n, i);
		if (kend >= n)
			return;
		for (v = kend + 1; v < n && (a[v] == ' ' || a[v] == '\t'); v++)
			;
		if (v >= n || a[v] != ':' ||
		    !lmp_redact_name_is_secret(r, a + i + 1, kend - i - 1)) {
			i = kend; /* a string value, or a key that is no secret's */
			continue;
		}
		for (v++; v < n && (a[v] == ' ' || a[v] == '\t'); v++)
			;
		if (v < n && (a[v] == '"' || a[v] == '\'')) {
			vend = quoted_end(a, n, v);
			span_add(sp, v + 1, vend);
		} else {
			for (vend = v; vend < n && !strchr(",}] \t", a[vend]); vend++)
				;
			if (vend > v && !(a[v] == '{' || a[v] == '['))
				span_add(sp, v, vend);
		}
		i = vend < n ? vend : n;
	}
}

/*
 * NAME=VALUE inside an argument, after a space, ',', ';', '&' or '?' ("host=db
 * password=x", "a=1,token=x", "?user=u&token=x"): the VALUE, to the next of those.
 */
static void find_inner_pairs(const struct lmp_redact *r, const char *a, size_t n, struct spans *sp)
{
	for (size_t i = 1; i < n; i++) {
		size_t b = i, e;

		if (a[i] != '=')
			continue;
		while (b > 0 && is_name_char(a[b - 1]))
			b--;
		if (b == i || b == 0 || !strchr(" \t,;&?", a[b - 1]) ||
		    !lmp_redact_name_is_secret(r, a + b, i - b))
			continue;
		for (e = i + 1; e < n && !strchr(" \t,;&#", a[e]); e++)
			;
		span_add(sp, i + 1, e);
		i = e;
	}
}

static int cmp_span(const void *x, const void *y)
{
	const size_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* a[0..n) with every secret found inside it replaced (the spans may overlap) */
static void put_inner(const struct lmp_redact *r, struct sink *s, const char *a, size_t n,
		      unsigned *count)
{
	struct spans sp = { 0 };
	size_t done = 0;

	find_url_passwords(a, n, &sp);
	find_json_secrets(r, a, n, &sp);
	find_inner_pairs(r, a, n, &sp);
	qsort(sp.at, sp.n, sizeof(sp.at[0]), cmp_span);
	for (size_t k = 0; k < sp.n; k++) {
		if (sp.at[k][1] <= done)
			continue; /* inside a span already replaced */
		if (sp.at[k][0] >= done) {
			put(s, a + done, sp.at[k][0] - done);
			put_mark(s, count);
		}
		done = sp.at[k][1];
	}
	put(s, a + done, n - done);
}

/*
 * Short options whose value is a password, by program: mysql -pSECRET. Only for these
 * programs: elsewhere -p is a port (-p8080:80), a strip count (patch -p1), a flag (gcc
 * -pthread), and redacting it would hide the command line for nothing. "glued": -pVALUE;
 * "apart": -p VALUE (mysql's -p VALUE prompts and takes VALUE as the database).
 */
static const struct {
	const char *prog; /* basename, or a prefix of it when it ends in '*' */
	char opt;
	bool glued, apart;
} short_secrets[] = {
	{ "mysql*", 'p', true, false },	  { "mariadb*", 'p', true, false },
	{ "sshpass", 'p', true, true },	  { "7z", 'p', true, false },
	{ "7za", 'p', true, false },	  { "7zr", 'p', true, false },
	{ "redis-cli", 'a', true, true }, { "zip", 'P', true, true },
	{ "unzip", 'P', true, true },	  { "curl", 'u', true, true },
};

static bool prog_is(const char *prog, size_t len, const char *want)
{
	size_t w = strlen(want);

	if (w && want[w - 1] == '*')
		return len >= w - 1 && strncmp(prog, want, w - 1) == 0;
	return len == w && strncmp(prog, want, w) == 0;
}

/* 1: -XVALUE redacted here; 2: -X whose value is the next argument; 0: neither */
static int short_secret(const char *prog, size_t plen, const char *a, size_t n)
{
	if (n < 2 || a[0] != '-' || a[1] == '-')
		return 0;
	for (size_t i = 0; i < sizeof(short_secrets) / sizeof(short_secrets[0]); i++) {
		if (a[1] != short_secrets[i].opt || !prog_is(prog, plen, short_secrets[i].prog))
			continue;
		if (n > 2 && short_secrets[i].glued)
			return 1;
		if (n == 2 && short_secrets[i].apart)
			return 2;
	}
	return 0;
}

/*
 * One argument a[0..n) of program prog. Returns true when it is a flag whose value is the
 * next argument (--password VALUE).
 */
static bool redact_one(const struct lmp_redact *r, struct sink *s, const char *a, size_t n,
		       const char *prog, size_t plen, unsigned *count)
{
	size_t i = 0, v;
	int sh;

	while (i < n && is_name_char(a[i]))
		i++;
	/* NAME=VALUE, --NAME=VALUE */
	if (i < n && a[i] == '=' && i > 0) {
		if (lmp_redact_name_is_secret(r, a, i)) {
			put(s, a, i + 1);
			if (i + 1 < n)
				put_mark(s, count);
			return false;
		}
		put(s, a, i + 1);
		put_inner(r, s, a + i + 1, n - i - 1, count);
		return false;
	}
	/* Name: value (a header), but not scheme://... */
	if (i < n && a[i] == ':' && i > 0 && a[0] != '-' &&
	    !(i + 2 < n && a[i + 1] == '/' && a[i + 2] == '/')) {
		if (lmp_redact_name_is_secret(r, a, i)) {
			for (v = i + 1; v < n && (a[v] == ' ' || a[v] == '\t'); v++)
				;
			put(s, a, v);
			if (v < n)
				put_mark(s, count);
			return false;
		}
	}
	sh = prog ? short_secret(prog, plen, a, n) : 0;
	if (sh == 1) {
		put(s, a, 2);
		put_mark(s, count);
		return false;
	}
	put_inner(r, s, a, n, count);
	/* --NAME or -NAME alone: the value follows */
	return prog &&
	       (sh == 2 || (i == n && n > 1 && a[0] == '-' && lmp_redact_name_is_secret(r, a, n)));
}

size_t lmp_redact_args(const struct lmp_redact *r, const char *in, size_t len, char *out,
		       size_t cap, unsigned *n_redacted)
{
	struct sink s = { out, cap, 0 };
	unsigned count = 0;
	bool value_next = false;
	const char *prog = NULL; /* the basename of argv[0], once it has been seen */
	size_t i = 0, plen = 0;

	while (i < len) {
		const char *a = in + i;
		const char *nul = memchr(a, 0, len - i);
		size_t n = nul ? (size_t)(nul - a) : len - i;

		if (value_next && n && !(n >= 2 && a[0] == '-' && a[1] == '-')) {
			put_mark(&s, &count);
			value_next = false;
		} else {
			value_next = redact_one(r, &s, a, n, prog, plen, &count);
		}
		if (nul)
			put(&s, "", 1);
		if (!prog) {
			const char *slash = memrchr(a, '/', n);

			prog = slash ? slash + 1 : a;
			plen = n - (prog - a);
		}
		i += n + 1;
	}
	if (n_redacted)
		*n_redacted = count;
	return s.used;
}

size_t lmp_redact_argv(const char *patterns, const char *in, size_t len, char *out, size_t cap,
		       unsigned *n_redacted)
{
	/* the agent is single-threaded: one compiled set, rebuilt when the text changes */
	static struct lmp_redact *cached;
	static char *cached_text;
	const char *text = patterns ? patterns : "";

	if (!cached || !cached_text || strcmp(cached_text, text) != 0) {
		struct lmp_redact *r = NULL;
		char *t = strdup(text);

		if (lmp_redact_new(text, &r, NULL, 0) < 0)
			lmp_redact_new(NULL, &r, NULL, 0);
		if (r && t) {
			lmp_redact_free(cached);
			free(cached_text);
			cached = r;
			cached_text = t;
		} else {
			lmp_redact_free(r);
			free(t);
		}
	}
	if (!cached) { /* out of memory: print no argv rather than one that may hold a secret */
		if (n_redacted)
			*n_redacted = len ? 1 : 0;
		return 0;
	}
	return lmp_redact_args(cached, in, len, out, cap, n_redacted);
}

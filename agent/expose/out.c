// SPDX-License-Identifier: Apache-2.0
/*
 * JSON and text rendering without building trees per event: values are appended to one
 * growing buffer as they come, which is what lets one core sustain millions of events per
 * second. Strings from the kernel are arbitrary bytes; JSON output stays valid UTF-8 by
 * escaping control characters and replacing invalid sequences with U+FFFD.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lmp/event.h"
#include "k8s/identity.h"
#include "base/array.h"
#include "expose/fmt.h"
#include "expose/out.h"

#define FLUSH_AT (64 * 1024) /* flush early past this; the loop flushes when idle anyway */
#define MAX_DEPTH 8

struct lmp_out {
	enum lmp_output fmt;
	int fd;
	char *node;
	char *buf;
	size_t len, cap;
	bool oom;  /* a line was lost to allocation failure; reported by flush */
	bool skip; /* drop the current line at lmp_out_end (filtered) */
	size_t line_start;
	int depth;
	bool first[MAX_DEPTH]; /* no separator needed before the next value at this depth */
	__s64 boot_to_real_ns;
	time_t cached_sec;
	char cached_prefix[24]; /* "YYYY-MM-DDTHH:MM:SS." of cached_sec */
};

static void sync_clock(struct lmp_out *o)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	o->boot_to_real_ns = (rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec);
}

void lmp_out_sync_clock(struct lmp_out *o)
{
	sync_clock(o);
}

int lmp_out_new(enum lmp_output fmt, int fd, const char *node, struct lmp_out **out)
{
	struct lmp_out *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->fmt = fmt;
	o->fd = fd;
	o->node = strdup(node ? node : "");
	o->cap = 2 * FLUSH_AT;
	o->buf = malloc(o->cap);
	o->cached_sec = -1;
	if (!o->node || !o->buf) {
		lmp_out_free(o);
		return -ENOMEM;
	}
	sync_clock(o);
	*out = o;
	return 0;
}

void lmp_out_free(struct lmp_out *o)
{
	if (!o)
		return;
	free(o->node);
	free(o->buf);
	free(o);
}

static bool reserve(struct lmp_out *o, size_t n)
{
	if (o->len + n <= o->cap || lmp_array_reserve(&o->buf, &o->cap, o->len + n, 1, FLUSH_AT))
		return true;
	o->oom = true;
	return false;
}

static void put(struct lmp_out *o, const char *s, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline __attribute__((always_inline)) void putc_(struct lmp_out *o, char c)
{
	if (__builtin_expect(o->len < o->cap, 1) || reserve(o, 1))
		o->buf[o->len++] = c;
}

/* length of a valid UTF-8 sequence at s (at most n bytes), or 0 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	need = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (need > n)
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	cp = need == 2 ? (s[0] & 0x1f) << 6 | (s[1] & 0x3f) :
	     need == 3 ? (s[0] & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f) :
			 (s[0] & 0x07) << 18 | (s[1] & 0x3f) << 12 | (s[2] & 0x3f) << 6 |
				 (s[3] & 0x3f);
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

static void put_json_string(struct lmp_out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	putc_(o, '"');
	while (i < n && p[i]) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		put(o, (const char *)p + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', c };

			put(o, e, 2);
			i++;
		} else if (c < 0x20) {
			char e[8];

			snprintf(e, sizeof(e), "\\u%04x", c);
			put(o, e, 6);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);

			if (l) {
				put(o, (const char *)p + i, l);
				i += l;
			} else {
				put(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				i++;
			}
		}
	}
	put(o, (const char *)p + i - run, run);
	putc_(o, '"');
}

/* code points a terminal must not get raw: C1 controls, bidi overrides, zero-width marks */
static bool unicode_hidden(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static unsigned utf8_cp(const unsigned char *s, size_t l)
{
	return l == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3f) :
	       l == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f) :
			(s[0] & 0x07u) << 18 | (s[1] & 0x3f) << 12 | (s[2] & 0x3f) << 6 |
				(s[3] & 0x3f);
}

/*
 * One step of lmp_text_escape: what stands for the bytes at s in esc (NUL-terminated),
 * and how many bytes of s it consumed.
 */
static size_t escape_step(const unsigned char *s, size_t n, char space_as, char esc[16])
{
	unsigned char c = s[0];
	size_t l;

	if (c == '\\') {
		strcpy(esc, "\\\\");
		return 1;
	}
	if (c == ' ' && space_as) {
		esc[0] = space_as;
		esc[1] = 0;
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(esc, 16, "\\x%02x", c);
		return 1;
	}
	if (c < 0x80) {
		esc[0] = c;
		esc[1] = 0;
		return 1;
	}
	l = utf8_len(s, n);
	if (!l) {
		snprintf(esc, 16, "\\x%02x", c);
		return 1;
	}
	if (unicode_hidden(utf8_cp(s, l)))
		snprintf(esc, 16, "\\u{%04x}", utf8_cp(s, l));
	else {
		memcpy(esc, s, l);
		esc[l] = 0;
	}
	return l;
}

size_t lmp_text_escape(const char *s, size_t n, char space_as, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len = 0;
	char esc[16];

	if (!cap)
		return 0;
	while (i < n && p[i]) {
		size_t used = escape_step(p + i, n - i, space_as, esc), el = strlen(esc);

		if (len + el >= cap)
			break; /* never half an escape */
		memcpy(buf + len, esc, el);
		len += el;
		i += used;
	}
	buf[len] = 0;
	return len;
}

/*
 * Text mode: nothing a process or a pod can name reaches the terminal raw (escape
 * sequences, a newline forging a second event, invalid UTF-8); spaces become '_' so the
 * key=value columns stay split on spaces.
 */
static void put_text_string(struct lmp_out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	char esc[16];

	while (i < n && p[i]) {
		i += escape_step(p + i, n - i, '_', esc);
		put(o, esc, strlen(esc));
	}
}

static void key(struct lmp_out *o, const char *k)
{
	bool *first = &o->first[o->depth < MAX_DEPTH ? o->depth : MAX_DEPTH - 1];

	if (o->fmt == LMP_OUTPUT_JSON) {
		if (!*first)
			putc_(o, ',');
		if (k) { /* keys are lmp's own ASCII identifiers: nothing to escape */
			size_t n = strlen(k);

			if (reserve(o, n + 3)) {
				o->buf[o->len++] = '"';
				memcpy(o->buf + o->len, k, n);
				o->len += n;
				o->buf[o->len++] = '"';
				o->buf[o->len++] = ':';
			}
		}
	} else {
		if (!*first || o->depth == 0)
			putc_(o, o->depth ? ',' : ' ');
		if (k) {
			put(o, k, strlen(k));
			putc_(o, '=');
		}
	}
	*first = false;
}

void lmp_out_strn(struct lmp_out *o, const char *k, const char *val, size_t n)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	if (o->fmt == LMP_OUTPUT_JSON)
		put_json_string(o, val, n);
	else
		put_text_string(o, val, n);
}

void lmp_out_str(struct lmp_out *o, const char *k, const char *val)
{
	if (!val)
		lmp_out_null(o, k);
	else
		lmp_out_strn(o, k, val, strlen(val));
}

/* exactly `width` digits, zero-padded */
static void put_digits(struct lmp_out *o, __u64 v, int width)
{
	char tmp[24];

	for (int i = width - 1; i >= 0; i--, v /= 10)
		tmp[i] = '0' + v % 10;
	put(o, tmp, width);
}

static void put_u64(struct lmp_out *o, __u64 v)
{
	char tmp[24];

	put(o, tmp, lmp_fmt_u64(tmp, v) - tmp);
}

void lmp_out_u64(struct lmp_out *o, const char *k, __u64 val)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	/* jansson, Go's int64, Java and Elasticsearch's long reject more; no field of a probe
	 * means anything there (the "none" sentinels are printed as null by the probes) */
	if (val > INT64_MAX && o->fmt == LMP_OUTPUT_JSON)
		put(o, "null", 4);
	else
		put_u64(o, val);
}

void lmp_out_s64(struct lmp_out *o, const char *k, __s64 val)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	if (val < 0) {
		putc_(o, '-');
		put_u64(o, -(__u64)val);
	} else {
		put_u64(o, val);
	}
}

void lmp_out_double(struct lmp_out *o, const char *k, double val)
{
	char tmp[40];
	int n;

	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	if (val != val || val > 1e300 || val < -1e300) { /* NaN/Inf are not JSON */
		put(o, "null", 4);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.9g", val);
	/* a whole value keeps a fraction: log pipelines that type a field by its first value
	 * (Elasticsearch dynamic mapping) would otherwise take it for an integer */
	if (!strpbrk(tmp, ".e"))
		n += snprintf(tmp + n, sizeof(tmp) - n, ".0");
	put(o, tmp, n);
}

void lmp_out_ns_as_s(struct lmp_out *o, const char *k, __u64 ns)
{
	__u64 frac = ns % 1000000000ULL;
	int width = 9;

	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	/* printf("%.9f") without printf: it is on the per-event path */
	put_u64(o, ns / 1000000000ULL);
	if (!frac) {
		put(o, ".0", 2); /* a number with a fraction, always: see lmp_out_double */
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		width--;
	}
	putc_(o, '.');
	put_digits(o, frac, width);
}

void lmp_out_bool(struct lmp_out *o, const char *k, bool val)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	put(o, val ? "true" : "false", val ? 4 : 5);
}

void lmp_out_null(struct lmp_out *o, const char *k)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	put(o, o->fmt == LMP_OUTPUT_JSON ? "null" : "-", o->fmt == LMP_OUTPUT_JSON ? 4 : 1);
}

static void open_nest(struct lmp_out *o, const char *k, char c)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	key(o, k);
	putc_(o, o->fmt == LMP_OUTPUT_JSON ? c : (c == '{' ? '{' : '['));
	if (o->depth < MAX_DEPTH - 1)
		o->depth++;
	o->first[o->depth] = true;
}

static void close_nest(struct lmp_out *o, char c)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	if (o->depth > 0)
		o->depth--;
	putc_(o, c);
}

void lmp_out_object_begin(struct lmp_out *o, const char *k)
{
	open_nest(o, k, '{');
}

void lmp_out_object_end(struct lmp_out *o)
{
	close_nest(o, '}');
}

void lmp_out_array_begin(struct lmp_out *o, const char *k)
{
	open_nest(o, k, '[');
}

void lmp_out_array_end(struct lmp_out *o)
{
	close_nest(o, ']');
}

void lmp_out_format_ts(struct lmp_out *o, __u64 boot_ns, char buf[40])
{
	__s64 real = (__s64)boot_ns + o->boot_to_real_ns;
	time_t sec = real / 1000000000LL;

	if (sec != o->cached_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(o->cached_prefix, sizeof(o->cached_prefix), "%Y-%m-%dT%H:%M:%S.", &tm);
		o->cached_sec = sec;
	}
	long long ns = real % 1000000000LL;

	memcpy(buf, o->cached_prefix, 20);
	for (int i = 28; i >= 20; i--, ns /= 10)
		buf[i] = '0' + ns % 10;
	buf[29] = 'Z';
	buf[30] = 0;
}

void lmp_out_identity(struct lmp_out *o, const char *k, const struct lmp_identity *id)
{
	if (!id || !id->namespace)
		return;
	lmp_out_object_begin(o, k);
	lmp_out_str(o, "namespace", id->namespace);
	lmp_out_str(o, "pod", id->pod);
	lmp_out_str(o, "container", id->container);
	lmp_out_str(o, "pod_uid", id->pod_uid);
	lmp_out_str(o, "container_id", id->container_id);
	lmp_out_object_end(o);
}

void lmp_out_begin(struct lmp_out *o, const char *probe, const char *event,
		   const struct lmp_event_hdr *h, const struct lmp_identity *id)
{
	char ts[40];

	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	o->line_start = o->len;
	o->depth = 0;
	o->first[0] = true;
	lmp_out_format_ts(o, h->ts_ns, ts);
	if (o->fmt == LMP_OUTPUT_TEXT) {
		char cols[160], comm[4 * 16 + 8];
		const char *who = id && id->namespace ? id->pod :
				  id && id->cgroup    ? id->cgroup :
							"-";
		int n;

		lmp_text_escape(h->comm, sizeof(h->comm), '_', comm, sizeof(comm));
		n = snprintf(cols, sizeof(cols), "%.23s %-10s %-8s %7u %-16s ", ts + 11, probe,
			     event, h->pid, comm);
		put(o, cols, n < (int)sizeof(cols) ? n : (int)sizeof(cols) - 1);
		if (id && id->namespace) {
			put_text_string(o, id->namespace, strlen(id->namespace));
			putc_(o, '/');
		}
		put_text_string(o, who, strlen(who));
		if (id && id->namespace && id->container) {
			putc_(o, '/');
			put_text_string(o, id->container, strlen(id->container));
		}
		return;
	}
	putc_(o, '{');
	lmp_out_str(o, "ts", ts);
	lmp_out_str(o, "node", o->node);
	lmp_out_str(o, "probe", probe);
	lmp_out_str(o, "event", event);
	lmp_out_u64(o, "pid", h->pid);
	lmp_out_u64(o, "tid", h->tid);
	lmp_out_u64(o, "uid", h->uid);
	lmp_out_strn(o, "comm", h->comm, sizeof(h->comm));
	lmp_out_u64(o, "cgroup_id", h->cgroup_id);
	if (id && id->cgroup)
		lmp_out_str(o, "cgroup", id->cgroup);
	lmp_out_identity(o, "k8s", id);
}

void lmp_out_skip(struct lmp_out *o)
{
	o->skip = true;
}

void lmp_out_end(struct lmp_out *o)
{
	if (o->fmt == LMP_OUTPUT_NONE)
		return;
	if (o->fmt == LMP_OUTPUT_JSON)
		putc_(o, '}');
	putc_(o, '\n');
	if (o->oom || o->skip) { /* never emit a partial (broken) or filtered line */
		o->len = o->line_start;
		o->skip = false;
		return;
	}
	if (o->len >= FLUSH_AT)
		lmp_out_flush(o);
}

int lmp_out_flush(struct lmp_out *o)
{
	size_t off = 0;
	int err = 0;

	while (off < o->len) {
		ssize_t n = write(o->fd, o->buf + off, o->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno; /* EAGAIN included: a stuck reader must not stall the loop */
			break;
		}
		off += n;
	}
	o->len = 0;
	if (!err && o->oom) {
		o->oom = false;
		err = -ENOMEM;
	}
	return err;
}

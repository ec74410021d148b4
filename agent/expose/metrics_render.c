// SPDX-License-Identifier: Apache-2.0
/*
 * Prometheus text exposition format 0.0.4. A scrape of a node with a thousand
 * containers is a few hundred thousand lines, so the hot path is memcpy of
 * pre-rendered label sets and integer formatting; floating point formatting is
 * only used where a value is not integral.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "expose/fmt.h"
#include "expose/metrics.h"
#include "expose/metrics_int.h"

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static bool sb_reserve(struct sb *b, size_t n)
{
	if (!b->oom && b->len + n + 1 > b->cap &&
	    !lmp_array_reserve(&b->p, &b->cap, b->len + n + 1, 1, 4096))
		b->oom = true;
	return !b->oom;
}

static void sb_put(struct sb *b, const char *s, size_t n)
{
	if (!n || !sb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_u64(struct sb *b, uint64_t v)
{
	char tmp[24];

	sb_put(b, tmp, lmp_fmt_u64(tmp, v) - tmp);
}

/* shortest of %.15g..%.17g that reads back as the same double */
static void sb_double(struct sb *b, double v)
{
	char tmp[40];

	if (isnan(v)) {
		sb_str(b, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_str(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v >= 0 && v < 1e15 && v == floor(v)) {
		sb_u64(b, (uint64_t)v);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	sb_str(b, tmp);
}

/* label values: backslash, double quote and line feed are escaped (exposition
 * format) */
static void sb_label_value(struct sb *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		const char *start = p;

		while (*p && *p != '\\' && *p != '"' && *p != '\n')
			p++;
		sb_put(b, start, p - start);
		if (!*p)
			break;
		sb_str(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
	}
}

/* HELP text: only backslash and line feed are escaped */
static void sb_help(struct sb *b, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			sb_str(b, "\\\\");
		else if (*p == '\n')
			sb_str(b, "\\n");
		else
			sb_put(b, p, 1);
	}
}

static void sb_label(struct sb *b, const char *name, const char *value)
{
	if (b->len)
		sb_put(b, ",", 1);
	sb_str(b, name);
	sb_put(b, "=\"", 2);
	sb_label_value(b, value);
	sb_put(b, "\"", 1);
}

int lmp_metrics_format_labels(struct lmp_series *s)
{
	struct sb b = { 0 };

	if (*s->ns)
		sb_label(&b, "namespace", s->ns);
	if (*s->pod)
		sb_label(&b, "pod", s->pod);
	if (*s->container)
		sb_label(&b, "container", s->container);
	for (int i = 0; i < s->fam->nlabels; i++)
		sb_label(&b, s->fam->label_names[i], s->extra[i]);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	/* the builder starts at 4 KiB; keep only what the series needs (NULL: no labels) */
	s->labels = b.p ? realloc(b.p, b.len + 1) : NULL;
	if (b.p && !s->labels)
		s->labels = b.p;
	s->labels_len = b.len;
	return 0;
}

static const char *type_name(enum lmp_metric_type t)
{
	switch (t) {
	case LMP_METRIC_COUNTER:
		return "counter";
	case LMP_METRIC_GAUGE:
		return "gauge";
	case LMP_METRIC_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

static void header(struct sb *b, const char *name, const char *help, const char *type)
{
	sb_str(b, "# HELP ");
	sb_str(b, name);
	sb_put(b, " ", 1);
	sb_help(b, help);
	sb_str(b, "\n# TYPE ");
	sb_str(b, name);
	sb_put(b, " ", 1);
	sb_str(b, type);
	sb_put(b, "\n", 1);
}

/* room for one sample line beyond its name, labels and le: value, separators, newline */
#define LINE_SLACK 96

static inline char *put(char *p, const void *s, size_t n)
{
	if (n) /* s may be NULL for an empty label value; memcpy(p, NULL, 0) is undefined */
		memcpy(p, s, n);
	return p + n;
}

/*
 * name[suffix]{labels[,le="x"]} — written straight into the buffer after one reservation;
 * this runs for every line of a scrape. Returns where the value goes, or NULL when out of
 * memory.
 */
static char *sample_head(struct sb *b, const struct lmp_family *f, const char *suffix, size_t slen,
			 const struct lmp_series *s, const char *le, size_t lelen)
{
	char *p;

	if (!sb_reserve(b, f->name_len + slen + s->labels_len + lelen + LINE_SLACK))
		return NULL;
	p = put(b->p + b->len, f->d->name, f->name_len);
	p = put(p, suffix, slen);
	if (!s->labels_len && !le)
		return put(p, " ", 1);
	p = put(p, "{", 1);
	p = put(p, s->labels, s->labels_len);
	if (le) {
		if (s->labels_len)
			p = put(p, ",", 1);
		p = put(p, "le=\"", 4);
		p = put(p, le, lelen);
		p = put(p, "\"", 1);
	}
	return put(p, "} ", 2);
}

static void sample_u64(struct sb *b, const struct lmp_family *f, const char *suffix, size_t slen,
		       const struct lmp_series *s, const char *le, size_t lelen, uint64_t v)
{
	char *p = sample_head(b, f, suffix, slen, s, le, lelen);

	if (!p)
		return;
	p = lmp_fmt_u64(p, v);
	*p++ = '\n';
	*p = '\0';
	b->len = p - b->p;
}

static void sample_double(struct sb *b, const struct lmp_family *f, const char *suffix, size_t slen,
			  const struct lmp_series *s, double v)
{
	char *p = sample_head(b, f, suffix, slen, s, NULL, 0);

	if (!p)
		return;
	b->len = p - b->p;
	sb_double(b, v);
	sb_put(b, "\n", 1);
}

#define SUFFIX(s) s, sizeof(s) - 1

static void render_hist(struct sb *b, const struct lmp_family *f, const struct lmp_series *s)
{
	const struct lmp_hist_state *h = s->hist;
	uint64_t cum = 0;

	/* a zero bucket just below the lowest slot used: histogram_quantile() takes 0 as the lower
	 * bound of the first bucket, and would otherwise interpolate over [0, 2^(lo+1)) */
	if (h->lo > 0 && h->lo <= h->hi)
		sample_u64(b, f, SUFFIX("_bucket"), s, f->le[h->lo - 1], f->le_len[h->lo - 1], 0);
	for (int i = h->lo; i <= h->hi; i++) {
		cum += lmp_hist_slot(h, i);
		sample_u64(b, f, SUFFIX("_bucket"), s, f->le[i], f->le_len[i], cum);
	}
	sample_u64(b, f, SUFFIX("_bucket"), s, SUFFIX("+Inf"), h->count);
	sample_double(b, f, SUFFIX("_sum"), s, lmp_family_scale(f, (double)h->sum));
	sample_u64(b, f, SUFFIX("_count"), s, NULL, 0, h->count);
}

static void internal(struct sb *b, const char *name, const char *type, const char *help, double v)
{
	header(b, name, help, type);
	sb_str(b, name);
	sb_put(b, " ", 1);
	sb_double(b, v);
	sb_put(b, "\n", 1);
}

int lmp_metrics_render(struct lmp_metrics *m, char **out, size_t *len)
{
	struct sb b = { .p = m ? m->spare : NULL, .cap = m ? m->spare_cap : 0 };

	if (!m || !out)
		return -EINVAL;
	m->spare = NULL;
	m->spare_cap = 0;
	/* start at the size of the last scrape: one allocation in the steady state */
	if (m->last_render_len)
		sb_reserve(&b, m->last_render_len + m->last_render_len / 8);
	for (const struct lmp_family *f = m->families; f; f = f->next) {
		const struct lmp_metric_desc *d = f->d;

		header(&b, d->name, d->help, type_name(d->type));
		for (const struct lmp_series *s = f->head; s; s = s->fnext) {
			if (d->type == LMP_METRIC_HISTOGRAM) {
				render_hist(&b, f, s);
				continue;
			}
			sample_double(&b, f, "", 0, s, lmp_family_scale(f, s->value));
		}
	}
	internal(&b, "lmp_metrics_series", "gauge", "Metric series currently held",
		 (double)m->nseries);
	internal(&b, "lmp_metrics_series_limit", "gauge",
		 "Cap on per-pod metric series (--metrics-max-series, 0 = none)",
		 (double)m->max_series);
	internal(&b, "lmp_metrics_series_dropped_total", "counter",
		 "Updates dropped because the per-pod series cap was reached", (double)m->dropped);
	internal(&b, "lmp_metrics_series_expired_total", "counter",
		 "Series removed because their pod was gone for the grace period",
		 (double)m->expired);
	internal(&b, "lmp_metrics_invalid_updates_total", "counter",
		 "Updates to a metric family with a malformed description", (double)m->invalid);
	internal(&b, "lmp_agent_cpu_seconds_total", "counter",
		 "CPU time (user and system) the agent process used", m->self_cpu);
	internal(&b, "lmp_agent_resident_memory_bytes", "gauge",
		 "Resident memory of the agent process", m->self_rss);
	internal(&b, "lmp_agent_start_time_seconds", "gauge",
		 "When the agent started, seconds since the Unix epoch", m->start_time);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	m->last_render_len = b.len;
	m->out_buf = b.p;
	m->out_cap = b.cap;
	*out = b.p;
	if (len)
		*len = b.len;
	return 0;
}

void lmp_metrics_render_done(struct lmp_metrics *m, char *buf)
{
	if (m && buf && buf == m->out_buf && !m->spare) {
		m->spare = buf;
		m->spare_cap = m->out_cap;
		m->out_buf = NULL;
		return;
	}
	free(buf);
}

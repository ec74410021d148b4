// SPDX-License-Identifier: Apache-2.0
/*
 * Metrics registry. Series live in one hash table keyed by (family, namespace,
 * pod, container, extra label values) and, per family, in a list kept in
 * insertion order so that rendering groups a family's samples under one
 * HELP/TYPE header without sorting.
 *
 * Per-pod series point at a shared pod entry that records when the pod was last
 * seen; expiry drops the series of pods not seen for a grace period. Histograms
 * keep the snapshot taken at the last interval mark so that /api/v1/pods can
 * report quantiles of the last interval. Rendering lives in metrics_render.c,
 * the pods view in metrics_pods.c. Over 600 lines as one file: what is left is the one
 * series table and its lifecycle (add, set, expire).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "k8s/identity.h"
#include "base/clock.h"
#include "expose/metrics.h"
#include "k8s/nsfilter.h"
#include "expose/metrics_int.h"

#define INITIAL_BUCKETS 1024

const struct lmp_metric_desc lmp_metric_probe_up = {
	.name = "lmp_probe_up",
	.help = "1 when the probe is attached, 0 when it could not attach on this node",
	.type = LMP_METRIC_GAUGE,
	.label = "probe,attach",
	.scale = 1,
};

const struct lmp_metric_desc lmp_metric_events_total = {
	.name = "lmp_events_total",
	.help = "Events the probe delivered to the agent",
	.type = LMP_METRIC_COUNTER,
	.label = "probe",
	.scale = 1,
};

const struct lmp_metric_desc lmp_metric_events_lost_total = {
	.name = "lmp_events_lost_total",
	.help = "Events the probe lost (ring buffer full, map full)",
	.type = LMP_METRIC_COUNTER,
	.label = "probe",
	.scale = 1,
};

double lmp_metrics_clock(void)
{
	return lmp_now_s();
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int lmp_metrics_new(size_t max_series, struct lmp_metrics **out)
{
	struct lmp_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->nbuckets = INITIAL_BUCKETS;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	m->npod_buckets = 256;
	m->pod_buckets = calloc(m->npod_buckets, sizeof(*m->pod_buckets));
	if (!m->buckets || !m->pod_buckets) {
		lmp_metrics_free(m);
		return -ENOMEM;
	}
	m->max_series = max_series;
	m->now = lmp_metrics_clock();
	m->mark_time = m->now;
	m->interval = 0;
	m->start_time = (double)time(NULL);
	*out = m;
	return 0;
}

static void series_free(struct lmp_series *s)
{
	if (!s)
		return;
	free(s->hist);
	free(s->labels);
	free(s);
}

void lmp_metrics_free(struct lmp_metrics *m)
{
	struct lmp_family *f, *fn;

	if (!m)
		return;
	for (f = m->families; f; f = fn) {
		struct lmp_series *s, *sn;

		fn = f->next;
		for (s = f->head; s; s = sn) {
			sn = s->fnext;
			series_free(s);
		}
		for (int i = 0; i < LMP_HIST_SLOTS; i++)
			free(f->le[i]);
		free(f);
	}
	for (size_t i = 0; i < m->npod_buckets; i++) {
		struct lmp_pod *p, *pn;

		for (p = m->pod_buckets[i]; p; p = pn) {
			pn = p->next;
			free(p);
		}
	}
	free(m->pod_buckets);
	free(m->buckets);
	free(m->spare);
	free(m);
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i > 0 && c >= '0' && c <= '9') || (c == ':' && i > 0)))
			return false;
	}
	return true;
}

/* "probe,attach" -> two label names; -EINVAL for more than
 * LMP_METRICS_MAX_LABELS or bad names */
static int parse_label_names(struct lmp_family *f, const char *spec)
{
	const char *p = spec;

	f->nlabels = 0;
	if (!spec || !*spec)
		return 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (f->nlabels == LMP_METRICS_MAX_LABELS || n >= sizeof(f->label_names[0]) ||
		    !valid_name(p, n))
			return -EINVAL;
		memcpy(f->label_names[f->nlabels], p, n);
		f->label_names[f->nlabels][n] = '\0';
		f->nlabels++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static struct lmp_family *family_get(struct lmp_metrics *m, const struct lmp_metric_desc *d)
{
	struct lmp_family *f, **tail = &m->families;

	for (f = m->families; f; f = f->next)
		if (f->d == d)
			return f;
	/* a second desc object for the same name (two translation units) shares the
   * family */
	for (f = m->families; f; f = f->next) {
		tail = &f->next;
		if (strcmp(f->d->name, d->name) == 0)
			return f->d->type == d->type ? f : NULL;
	}
	if (!d->name || !valid_name(d->name, strlen(d->name)) || !(d->scale > 0))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->d = d;
	f->name_len = strlen(d->name);
	if (d->scale < 1 && fabs(round(1 / d->scale) * d->scale - 1) < 1e-12)
		f->div = round(1 / d->scale);
	if (parse_label_names(f, d->label) < 0) {
		free(f);
		return NULL;
	}
	if (d->type == LMP_METRIC_HISTOGRAM) {
		for (int i = 0; i < LMP_HIST_SLOTS; i++) {
			char buf[64];

			/* slot i holds [2^i, 2^(i+1)) raw units: its upper bound, scaled */
			snprintf(buf, sizeof(buf), "%.15g", lmp_family_scale(f, ldexp(1.0, i + 1)));
			f->le[i] = strdup(buf);
			if (!f->le[i])
				goto fail;
			f->le_len[i] = strlen(buf);
		}
	}
	f->idx = m->nfamilies++;
	*tail = f;
	return f;
fail:
	for (int i = 0; i < LMP_HIST_SLOTS; i++)
		free(f->le[i]);
	free(f);
	return NULL;
}

int lmp_metrics_declare(struct lmp_metrics *m, const struct lmp_metric_desc *d)
{
	return family_get(m, d) ? 0 : -EINVAL;
}

/* Copy v into the key, cut at LMP_METRICS_VALUE_MAX bytes on a UTF-8 character
 * boundary. */
static size_t key_put(char *key, size_t off, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n > LMP_METRICS_VALUE_MAX) {
		n = LMP_METRICS_VALUE_MAX;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(key + off, v, n);
	key[off + n] = '\0';
	return off + n + 1;
}

static size_t build_key(const struct lmp_family *f, const struct lmp_identity *id,
			const char *const *values, char *key)
{
	bool pod = f->d->per_pod && id && id->pod;
	size_t off = 0;

	off = key_put(key, off, pod ? id->namespace : NULL);
	off = key_put(key, off, pod ? id->pod : NULL);
	off = key_put(key, off, pod ? id->container : NULL);
	for (int i = 0; i < f->nlabels; i++)
		off = key_put(key, off, values ? values[i] : NULL);
	return off;
}

static struct lmp_pod *pod_get(struct lmp_metrics *m, const char *ns, const char *name, bool create)
{
	uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, ns, strlen(ns) + 1), name, strlen(name));
	struct lmp_pod *p;
	size_t nl = strlen(ns) + 1;

	for (p = m->pod_buckets[h % m->npod_buckets]; p; p = p->next)
		if (!strcmp(p->key, ns) && !strcmp(p->key + nl, name))
			return p;
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p) + nl + strlen(name) + 1);
	if (!p)
		return NULL;
	memcpy(p->key, ns, nl);
	strcpy(p->key + nl, name);
	p->hash = h;
	p->seen = m->now;
	p->next = m->pod_buckets[h % m->npod_buckets];
	m->pod_buckets[h % m->npod_buckets] = p;
	return p;
}

static void pod_put(struct lmp_metrics *m, struct lmp_pod *p)
{
	struct lmp_pod **pp;

	if (!p || --p->refs > 0)
		return;
	for (pp = &m->pod_buckets[p->hash % m->npod_buckets]; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			free(p);
			return;
		}
	}
}

static void rehash(struct lmp_metrics *m)
{
	size_t n = m->nbuckets * 2;
	struct lmp_series **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* keep the longer chains; still correct */
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct lmp_series *s, *sn;

		for (s = m->buckets[i]; s; s = sn) {
			sn = s->hnext;
			s->hnext = b[s->hash % n];
			b[s->hash % n] = s;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

static struct lmp_series *series_new(struct lmp_metrics *m, struct lmp_family *f, const char *key,
				     size_t klen, uint64_t h)
{
	struct lmp_series *s = calloc(1, sizeof(*s) + klen);
	const char *v[3 + LMP_METRICS_MAX_LABELS] = { 0 };
	const char *p;
	int i;

	if (!s)
		return NULL;
	memcpy(s->key, key, klen);
	s->key_len = klen;
	s->hash = h;
	s->fam = f;
	for (i = 0, p = s->key; i < 3 + f->nlabels; i++, p += strlen(p) + 1)
		v[i] = p;
	s->ns = v[0];
	s->pod = v[1];
	s->container = v[2];
	for (i = 0; i < f->nlabels; i++)
		s->extra[i] = v[3 + i];
	if (f->d->type == LMP_METRIC_HISTOGRAM) {
		s->hist = calloc(1, sizeof(*s->hist));
		if (!s->hist)
			goto fail;
		s->hist->lo = LMP_HIST_SLOTS;
		s->hist->hi = -1;
	}
	if (lmp_metrics_format_labels(s) < 0)
		goto fail;
	if (*s->pod) {
		s->podref = pod_get(m, s->ns, s->pod, true);
		if (!s->podref)
			goto fail;
		s->podref->refs++;
	}
	return s;
fail:
	series_free(s);
	return NULL;
}

static struct lmp_series *series_get(struct lmp_metrics *m, const struct lmp_metric_desc *d,
				     const struct lmp_identity *id, const char *const *values)
{
	char key[(3 + LMP_METRICS_MAX_LABELS) * (LMP_METRICS_VALUE_MAX + 1)];
	struct lmp_family *f = family_get(m, d);
	struct lmp_series *s;
	size_t klen;
	uint64_t h;

	if (!f) {
		m->invalid++;
		return NULL;
	}
	if (d->per_pod && !lmp_identity_wanted(m->ns_include, m->ns_exclude, id))
		return NULL; /* filtered out by the operator: not a loss */
	klen = build_key(f, id, values, key);
	h = fnv1a(fnv1a(0xcbf29ce484222325ULL, &f, sizeof(f)), key, klen);
	for (s = m->buckets[h % m->nbuckets]; s; s = s->hnext)
		if (s->hash == h && s->fam == f && s->key_len == klen && !memcmp(s->key, key, klen))
			goto found;
	/* node-level families are bounded by the code (probes, syscalls); the cap is
   * for pods */
	if (d->per_pod && m->max_series && m->npod_series >= m->max_series) {
		m->dropped++;
		return NULL;
	}
	s = series_new(m, f, key, klen, h);
	if (!s) {
		m->dropped++;
		return NULL;
	}
	s->hnext = m->buckets[h % m->nbuckets];
	m->buckets[h % m->nbuckets] = s;
	if (f->tail)
		f->tail->fnext = s;
	else
		f->head = s;
	f->tail = s;
	f->n++;
	m->nseries++;
	if (d->per_pod)
		m->npod_series++;
	if (m->nseries > m->nbuckets)
		rehash(m);
found:
	if (s->podref)
		s->podref->seen = m->now;
	return s;
}

static void update(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		   const struct lmp_identity *id, const char *const *values, double v, bool set)
{
	struct lmp_series *s;

	if (!m || !d || d->type == LMP_METRIC_HISTOGRAM)
		return;
	/* counters only go up; a negative or NaN delta is a caller bug, not data */
	if (!set && d->type == LMP_METRIC_COUNTER && !(v >= 0))
		return;
	s = series_get(m, d, id, values);
	if (!s)
		return;
	s->value = set ? v : s->value + v;
}

void lmp_metrics_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double delta)
{
	const char *v[LMP_METRICS_MAX_LABELS] = { label_value };

	update(m, d, id, v, delta, false);
}

void lmp_metrics_set(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		     const struct lmp_identity *id, const char *label_value, double value)
{
	const char *v[LMP_METRICS_MAX_LABELS] = { label_value };

	update(m, d, id, v, value, true);
}

void lmp_metrics_add2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double delta)
{
	const char *v[LMP_METRICS_MAX_LABELS] = { v1, v2 };

	update(m, d, id, v, delta, false);
}

void lmp_metrics_set2(struct lmp_metrics *m, const struct lmp_metric_desc *d,
		      const struct lmp_identity *id, const char *v1, const char *v2, double value)
{
	const char *v[LMP_METRICS_MAX_LABELS] = { v1, v2 };

	update(m, d, id, v, value, true);
}

/* h grown to slots lo..hi (a superset of its range): a new block, h freed; NULL if no memory */
static struct lmp_hist_state *hist_widen(struct lmp_hist_state *h, int lo, int hi)
{
	int ow = lmp_hist_width(h), w = hi - lo + 1;
	struct lmp_hist_state *n = calloc(1, sizeof(*n) + 3 * w * sizeof(n->v[0]));

	if (!n)
		return NULL;
	*n = *h;
	n->lo = lo;
	n->hi = hi;
	for (int r = 0; r < 3; r++) /* cumulative, mark, delta rows */
		for (int k = 0; k < ow; k++)
			n->v[r * w + h->lo - lo + k] = h->v[r * ow + k];
	free(h);
	return n;
}

void lmp_metrics_hist_add(struct lmp_metrics *m, const struct lmp_metric_desc *d,
			  const struct lmp_identity *id, const char *label_value,
			  const struct lmp_hist *delta)
{
	const char *v[LMP_METRICS_MAX_LABELS] = { label_value };
	int lo = LMP_HIST_SLOTS, hi = -1;
	struct lmp_series *s;
	struct lmp_hist_state *h;

	if (!m || !d || !delta || d->type != LMP_METRIC_HISTOGRAM)
		return;
	s = series_get(m, d, id, v);
	if (!s)
		return;
	h = s->hist;
	for (int i = 0; i < LMP_HIST_SLOTS; i++) {
		if (delta->slots[i] && i < lo)
			lo = i;
		if (delta->slots[i] && i > hi)
			hi = i;
	}
	if (lo < h->lo || hi > h->hi) {
		h = hist_widen(h, lo < h->lo ? lo : h->lo, hi > h->hi ? hi : h->hi);
		if (!h) { /* out of memory: this delta is lost, the series keeps its state */
			m->dropped++;
			return;
		}
		s->hist = h;
	}
	for (int i = h->lo; i <= h->hi; i++) {
		h->v[i - h->lo] += delta->slots[i];
		/* _count is the sum of the slots so that it always equals the +Inf bucket */
		h->count += delta->slots[i];
	}
	h->sum += delta->sum;
}

void lmp_metrics_set_now(struct lmp_metrics *m, double now)
{
	m->now = now;
}

void lmp_metrics_touch_pod(struct lmp_metrics *m, const char *ns, const char *pod)
{
	struct lmp_pod *p;

	if (!m || !ns || !pod)
		return;
	p = pod_get(m, ns, pod, false);
	if (p)
		p->seen = m->now;
}

static void series_unlink_hash(struct lmp_metrics *m, struct lmp_series *s)
{
	struct lmp_series **pp;

	for (pp = &m->buckets[s->hash % m->nbuckets]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			return;
		}
	}
}

int lmp_metrics_expire(struct lmp_metrics *m, double now, double grace)
{
	int removed = 0;

	if (!m)
		return 0;
	if (now > m->now)
		m->now = now;
	for (struct lmp_family *f = m->families; f; f = f->next) {
		struct lmp_series **pp = &f->head, *last = NULL;

		while (*pp) {
			struct lmp_series *s = *pp;

			if (!s->podref || s->podref->seen + grace >= now) {
				last = s;
				pp = &s->fnext;
				continue;
			}
			*pp = s->fnext;
			series_unlink_hash(m, s);
			pod_put(m, s->podref);
			f->n--;
			m->nseries--;
			if (f->d->per_pod)
				m->npod_series--;
			series_free(s);
			removed++;
		}
		f->tail = last;
	}
	m->expired += removed;
	return removed;
}

void lmp_metrics_interval_mark(struct lmp_metrics *m)
{
	double now = lmp_metrics_clock();

	if (!m)
		return;
	m->interval = now - m->mark_time;
	m->mark_time = now;
	if (now > m->now)
		m->now = now;
	for (struct lmp_family *f = m->families; f; f = f->next) {
		for (struct lmp_series *s = f->head; s; s = s->fnext) {
			struct lmp_hist_state *h = s->hist;
			int w;

			s->delta = s->value - s->mark;
			s->mark = s->value;
			if (!h)
				continue;
			w = lmp_hist_width(h);
			for (int k = 0; k < w; k++) {
				h->v[2 * w + k] = h->v[k] - h->v[w + k];
				h->v[w + k] = h->v[k];
			}
			h->delta_sum = h->sum - h->mark_sum;
			h->mark_sum = h->sum;
			h->delta_count = h->count - h->mark_count;
			h->mark_count = h->count;
		}
	}
}

size_t lmp_metrics_series_count(const struct lmp_metrics *m)
{
	return m ? m->nseries : 0;
}

uint64_t lmp_metrics_dropped(const struct lmp_metrics *m)
{
	return m ? m->dropped : 0;
}

void lmp_metrics_update_self(struct lmp_metrics *m)
{
	struct rusage ru;
	unsigned long size, resident;
	FILE *f;

	if (!m)
		return;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		m->self_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	/* statm: sizes in pages; resident is the second field */
	f = fopen("/proc/self/statm", "re");
	if (!f)
		return;
	if (fscanf(f, "%lu %lu", &size, &resident) == 2)
		m->self_rss = (double)resident * (double)sysconf(_SC_PAGESIZE);
	fclose(f);
}

void lmp_metrics_set_ns_filter(struct lmp_metrics *m, const char *include, const char *exclude)
{
	m->ns_include = include;
	m->ns_exclude = exclude;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * syscount: per-cgroup, per-syscall counts, latency histograms and errors by errno
 * (bpf/syscount.bpf.c). Every interval the agent drains the maps, prints one summary line
 * for each of the --top busiest cgroups (their --top busiest syscalls, and every errno seen)
 * and feeds lmp_syscall_latency_seconds{syscall} and lmp_syscall_errors_total{errno} for
 * every cgroup, shown or not.
 *
 * --syscount-latency=false counts only: the sys_enter programs are not loaded, the rows
 * carry no latency fields, and lmp_syscall_calls_total{syscall} replaces the histogram as
 * the per-pod call count (in latency mode it is the histogram's _count).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/syscount.h"
#include "syscount.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"
#include "sym/syscalls.h"

LMP_DEFINE_SKEL_OPS(syscount);

static const struct lmp_hook syscount_hooks[] = {
	LMP_HOOKS_TP("enter", "sys_enter", "raw_syscalls"),
	LMP_HOOKS_TP("exit", "sys_exit", "raw_syscalls"),
};

struct syscount_options {
	bool latency; /* latency (sys_enter + sys_exit); false: counts */
};

static const struct lmp_option syscount_options[] = {
	LMP_OPTION_BOOL(
		struct syscount_options, latency, "syscount-latency", "LMP_SYSCOUNT_LATENCY",
		"true",
		"syscount probe: latency histograms (hooks sys_enter too); =false: counts, errors only"),
};

static const struct lmp_metric_desc latency_seconds = {
	"lmp_syscall_latency_seconds",
	"System call latency from entry to exit, per container and syscall name.",
	LMP_METRIC_HISTOGRAM,
	"syscall",
	1e-9,
	true,
};
static const struct lmp_metric_desc errors_total = {
	"lmp_syscall_errors_total",
	"System calls that returned an error, per container and errno.",
	LMP_METRIC_COUNTER,
	"errno",
	1,
	true,
};
/* only when counting: with latency the histogram's _count is the same number, and a second
 * series per (pod, syscall) would only cost memory */
static const struct lmp_metric_desc calls_total = {
	"lmp_syscall_calls_total",
	"System calls that returned, per container and syscall name (syscount counting only).",
	LMP_METRIC_COUNTER,
	"syscall",
	1,
	true,
};

struct row {
	struct lmp_syscount_key k;
	struct lmp_syscount_val v;
};

struct err_row {
	struct lmp_syscount_err_key k;
	__u64 n;
};

/* one cgroup's rows in both sorted arrays */
struct group {
	__u64 cgroup_id;
	size_t first, n;   /* rows */
	size_t efirst, en; /* err_rows */
	__u64 calls, errors;
};

struct syscount_priv {
	bool latency; /* --syscount-latency: rows carry histograms */
	struct row *rows;
	size_t n, cap;
	struct err_row *errs;
	size_t en, ecap;
	bool oom; /* rows lost to a failed allocation this interval */
};

/* grow *arr (elements of size sz) to hold one more; false when memory ran out */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap ? *cap * 2 : 256;
	void *p;

	if (n < *cap)
		return true;
	p = realloc(*arr, c * sz);
	if (!p)
		return false;
	*arr = p;
	*cap = c;
	return true;
}

static void collect(void *ctx, const void *key, const void *value)
{
	struct syscount_priv *priv = ctx;

	if (!grow((void **)&priv->rows, &priv->cap, priv->n, sizeof(*priv->rows))) {
		priv->oom = true;
		return;
	}
	memcpy(&priv->rows[priv->n].k, key, sizeof(struct lmp_syscount_key));
	memcpy(&priv->rows[priv->n].v, value, sizeof(struct lmp_syscount_val));
	priv->n++;
}

/* a count-only entry as a row without histogram: the rest of the code serves both modes */
static void collect_cnt(void *ctx, const void *key, const void *value)
{
	struct syscount_priv *priv = ctx;
	const struct lmp_syscount_cnt *c = value;
	struct row *r;

	if (!grow((void **)&priv->rows, &priv->cap, priv->n, sizeof(*priv->rows))) {
		priv->oom = true;
		return;
	}
	r = &priv->rows[priv->n++];
	memset(r, 0, sizeof(*r));
	memcpy(&r->k, key, sizeof(struct lmp_syscount_key));
	r->v.lat.count = c->calls;
	r->v.errors = c->errors;
}

static void collect_err(void *ctx, const void *key, const void *value)
{
	struct syscount_priv *priv = ctx;

	if (!grow((void **)&priv->errs, &priv->ecap, priv->en, sizeof(*priv->errs))) {
		priv->oom = true;
		return;
	}
	memcpy(&priv->errs[priv->en].k, key, sizeof(struct lmp_syscount_err_key));
	memcpy(&priv->errs[priv->en].n, value, sizeof(__u64));
	priv->en++;
}

static int cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

/* by cgroup, then busiest syscall first */
static int cmp_row(const void *a_, const void *b_)
{
	const struct row *a = a_, *b = b_;
	int c;

	if ((c = cmp_u64(a->k.cgroup_id, b->k.cgroup_id)) ||
	    (c = cmp_u64(b->v.lat.count, a->v.lat.count)))
		return c;
	return cmp_u64(a->k.nr, b->k.nr);
}

static int cmp_err(const void *a_, const void *b_)
{
	const struct err_row *a = a_, *b = b_;
	int c;

	if ((c = cmp_u64(a->k.cgroup_id, b->k.cgroup_id)) || (c = cmp_u64(b->n, a->n)))
		return c;
	return cmp_u64(a->k.err, b->k.err);
}

static int cmp_group(const void *a_, const void *b_)
{
	const struct group *a = a_, *b = b_;

	return cmp_u64(b->calls, a->calls) ?: cmp_u64(a->cgroup_id, b->cgroup_id);
}

static const char *syscall_label(__u32 nr, char buf[16])
{
	const char *name = nr == LMP_SYSCOUNT_NR_OTHER ? "other" : lmp_syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, 16, "%u", nr);
	return buf;
}

/* user-space names for errno values, and the kernel-internal restart codes a syscall
 * interrupted by a signal returns at sys_exit before the kernel restarts it */
static const char *errno_label(__u32 err, char buf[16])
{
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND",
					       "ENOIOCTLCMD", "ERESTART_RESTARTBLOCK" };
	const char *name = lmp_errno_name(err);

	if (name)
		return name;
	if (err >= 512 && err < 512 + ARRAY_SIZE(restart))
		return restart[err - 512];
	snprintf(buf, 16, "E%u", err);
	return buf;
}

static void feed_metrics(struct syscount_priv *priv, const struct group *g, struct lmp_rt *rt)
{
	struct lmp_identity id;
	char buf[16];

	lmp_ident_lookup(rt->ident, g->cgroup_id, &id);
	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct row *r = &priv->rows[i];

		if (priv->latency)
			lmp_metrics_hist_add(rt->metrics, &latency_seconds, &id,
					     syscall_label(r->k.nr, buf), &r->v.lat);
		else
			lmp_metrics_add(rt->metrics, &calls_total, &id, syscall_label(r->k.nr, buf),
					r->v.lat.count);
	}
	for (size_t i = g->efirst; i < g->efirst + g->en; i++) {
		const struct err_row *e = &priv->errs[i];

		lmp_metrics_add(rt->metrics, &errors_total, &id, errno_label(e->k.err, buf), e->n);
	}
}

static void put_row(struct lmp_out *o, const struct row *r, bool latency)
{
	const struct lmp_syscount_val *v = &r->v;
	char buf[16];

	lmp_out_str(o, "syscall", syscall_label(r->k.nr, buf));
	lmp_out_u64(o, "nr", r->k.nr);
	lmp_out_u64(o, "count", v->lat.count);
	lmp_out_u64(o, "errors", v->errors);
	if (!latency)
		return; /* counting only: no latency was measured, so no field claims one */
	lmp_out_double(o, "total_s", v->lat.sum / 1e9);
	lmp_out_double(o, "avg_s", v->lat.count ? v->lat.sum / 1e9 / v->lat.count : 0);
	lmp_out_double(o, "p50_s", lmp_hist_quantile(&v->lat, 0.5) / 1e9);
	lmp_out_double(o, "p99_s", lmp_hist_quantile(&v->lat, 0.99) / 1e9);
}

/*
 * JSON: one line per cgroup with its top syscalls in an array. Text: the cgroup's line, then
 * one "syscall" line per top syscall, the rows of libbpf-tools syscount's table.
 */
static void print_group(struct lmp_probe *p, struct lmp_rt *rt, const struct group *g)
{
	const struct syscount_priv *priv = p->priv;
	size_t n = g->n < rt->cfg->top ? g->n : rt->cfg->top;
	bool text = rt->cfg->output == LMP_OUTPUT_TEXT;
	char buf[16];

	lmp_probe_summary_begin(p, rt, "summary", g->cgroup_id, 0, NULL);
	lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
	lmp_out_u64(rt->out, "calls", g->calls);
	lmp_out_u64(rt->out, "errors", g->errors);
	lmp_out_u64(rt->out, "distinct_syscalls", g->n);
	if (!text) {
		lmp_out_array_begin(rt->out, "syscalls");
		for (size_t i = g->first; i < g->first + n; i++) {
			lmp_out_object_begin(rt->out, NULL);
			put_row(rt->out, &priv->rows[i], priv->latency);
			lmp_out_object_end(rt->out);
		}
		lmp_out_array_end(rt->out);
	}
	/* errno values are few (the failing calls of one cgroup): all of them */
	lmp_out_object_begin(rt->out, "errnos");
	for (size_t i = g->efirst; i < g->efirst + g->en; i++)
		lmp_out_u64(rt->out, errno_label(priv->errs[i].k.err, buf), priv->errs[i].n);
	lmp_out_object_end(rt->out);
	lmp_out_end(rt->out);
	for (size_t i = g->first; text && i < g->first + n; i++) {
		lmp_probe_summary_begin(p, rt, "syscall", g->cgroup_id, 0, NULL);
		put_row(rt->out, &priv->rows[i], priv->latency);
		lmp_out_end(rt->out);
	}
}

/* walk both sorted arrays together: one group per cgroup present in either */
static size_t make_groups(const struct syscount_priv *priv, struct group *gs)
{
	size_t i = 0, e = 0, ng = 0;

	while (i < priv->n || e < priv->en) {
		__u64 cg = i < priv->n ? priv->rows[i].k.cgroup_id : ~0ULL;
		struct group *g = &gs[ng++];

		if (e < priv->en && priv->errs[e].k.cgroup_id < cg)
			cg = priv->errs[e].k.cgroup_id;
		*g = (struct group){ .cgroup_id = cg, .first = i, .efirst = e };
		for (; i < priv->n && priv->rows[i].k.cgroup_id == cg; i++, g->n++) {
			g->calls += priv->rows[i].v.lat.count;
			g->errors += priv->rows[i].v.errors;
		}
		for (; e < priv->en && priv->errs[e].k.cgroup_id == cg; e++)
			g->en++;
	}
	return ng;
}

static void syscount_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct syscount_bpf *skel = skel_;
	struct syscount_priv *priv = p->priv;
	struct group *gs;
	size_t ng;
	int r;

	priv->n = priv->en = 0;
	priv->oom = false;
	if (priv->latency)
		r = lmp_map_drain(bpf_map__fd(skel->maps.sys_cg_hist),
				  sizeof(struct lmp_syscount_key), sizeof(struct lmp_syscount_val),
				  true, collect, priv);
	else
		r = lmp_map_drain(bpf_map__fd(skel->maps.sys_cg_counts),
				  sizeof(struct lmp_syscount_key), sizeof(struct lmp_syscount_cnt),
				  true, collect_cnt, priv);
	if (r >= 0)
		r = lmp_map_drain(bpf_map__fd(skel->maps.sys_cg_errnos),
				  sizeof(struct lmp_syscount_err_key), sizeof(__u64), true,
				  collect_err, priv);
	if (r < 0 || priv->oom)
		p->decode_errors++; /* counted; what is left is read next interval */
	if (!priv->n && !priv->en)
		return;
	qsort(priv->rows, priv->n, sizeof(*priv->rows), cmp_row);
	qsort(priv->errs, priv->en, sizeof(*priv->errs), cmp_err);
	gs = calloc(priv->n + priv->en, sizeof(*gs));
	if (!gs) {
		p->decode_errors++;
		return;
	}
	ng = make_groups(priv, gs);
	for (size_t i = 0; rt->metrics && i < ng; i++)
		feed_metrics(priv, &gs[i], rt);
	qsort(gs, ng, sizeof(*gs), cmp_group);
	for (size_t i = 0; i < ng && i < rt->cfg->top; i++)
		print_group(p, rt, &gs[i]);
	free(gs);
}

static int syscount_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	const struct syscount_options *o = lmp_probe_options(p, cfg);
	struct syscount_bpf *skel = skel_;
	struct syscount_priv *priv = calloc(1, sizeof(*priv));
	struct lmp_sys_want want = { .exit = true };
	char *exit_part;
	int err;

	if (!priv)
		return -ENOMEM;
	p->priv = priv;
	priv->latency = o->latency;
	/*
	 * Counting only needs the exit side: alone, every syscall pays for one program run,
	 * not two (as libbpf-tools syscount without -L).
	 */
	want.enter = priv->latency;
	want.users.cg_hist = priv->latency;
	want.users.cg_count = !priv->latency;
	err = lmp_sys_join(p, skel->obj, cfg, &want, NULL);
	if (err < 0 || priv->latency)
		return err;
	/* and say so in the "attached (...)" line and lmp_probe_up's attach label */
	exit_part = strstr(p->attach, "exit=");
	if (exit_part)
		memmove(p->attach, exit_part, strlen(exit_part) + 1);
	return 0;
}

static void syscount_cleanup(struct lmp_probe *p)
{
	struct syscount_priv *priv = p->priv;

	lmp_sys_leave(p);
	if (priv) {
		free(priv->rows);
		free(priv->errs);
	}
	free(priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_syscount = {
	.name = "syscount",
	.summary = "per-cgroup syscall counts, latency histograms and errors by errno",
	.skel = &syscount_skel_ops,
	.hooks = syscount_hooks,
	.n_hooks = ARRAY_SIZE(syscount_hooks),
	.configure = syscount_configure,
	.interval = syscount_interval,
	.attach = lmp_sys_attach,
	.cleanup = syscount_cleanup,
	.options = LMP_OPTIONS(struct syscount_options, syscount_options),
};

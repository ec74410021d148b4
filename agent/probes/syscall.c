// SPDX-License-Identifier: Apache-2.0
/*
 * syscall: per-cgroup, per-process, per-syscall counts (bpf/syscall.bpf.c). Every interval
 * the agent drains the per-CPU counters, prints one summary line for each of the --top
 * busiest processes (their --top busiest syscalls by name) and feeds
 * lmp_syscalls_total{syscall} for every process, shown or not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/syscall.h"
#include "syscall.skel.h"
#include "probes/lib/map_rows.h"
#include "probes/lib/proc.h"
#include "base/clock.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"
#include "sym/syscalls.h"

LMP_DEFINE_SKEL_OPS(syscall);

static const struct lmp_hook syscall_hooks[] = {
	LMP_HOOKS_TP("enter", "sys_enter", "raw_syscalls"),
	LMP_HOOKS_TP("exit", "sys_exit", "raw_syscalls"),
};

static const struct lmp_option syscall_options[] = {
	LMP_OPTION_BOOL(struct lmp_syscall_options, latency, "syscall-latency",
			"LMP_SYSCALL_LATENCY", "false",
			"syscall probe: also count errors and mean latency (hooks sys_exit)"),
	LMP_OPTION_UINT(
		struct lmp_syscall_options, max_keys, "syscall-max-keys", "LMP_SYSCALL_MAX_KEYS",
		"10240", 64, 1048576,
		"syscall probe: (cgroup, process, syscall) counters per interval (excess is counted)"),
};

static const struct lmp_metric_desc syscalls_total = {
	"lmp_syscalls_total",
	"System calls entered, per container and syscall name.",
	LMP_METRIC_COUNTER,
	"syscall",
	1,
	true,
};

struct row {
	struct lmp_syscall_key k;
	struct lmp_syscall_val v;
};

struct proc {
	size_t first, n; /* its rows in the sorted row array */
	__u64 total;
	__u64 cgroup_id;
	char comm[LMP_COMM_LEN];
};

_Static_assert(sizeof(struct row) ==
		       sizeof(struct lmp_syscall_key) + sizeof(struct lmp_syscall_val),
	       "rows are read as lmp_map_rows_drain() lays them out");

struct syscall_priv {
	struct lmp_map_rows buf;
	const struct row *rows; /* buf's, as rows */
	size_t n;
	bool latency;
	double last;	 /* CLOCK_MONOTONIC seconds of the previous drain (or of the start) */
	double interval; /* seconds the drained counts cover */
};

static int syscall_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	const struct lmp_syscall_options *o = lmp_probe_options(p, cfg);
	struct syscall_bpf *skel = skel_;
	struct syscall_priv *priv = calloc(1, sizeof(*priv));
	struct lmp_sys_want want = { .enter = true, .users.pid_count = 1 };
	char *exit_part;
	int err;

	if (!priv)
		return -ENOMEM;
	p->priv = priv;
	priv->last = lmp_now_s();
	priv->latency = o->latency;
	/* counting needs only the entry side: without --syscall-latency no exit program runs
	 * for this probe, so alone every syscall pays for one program, not two */
	want.exit = priv->latency;
	want.users.pid_latency = priv->latency;
	/* the dispatcher maps are sized from o->max_keys by lmp_sys_join() */
	err = lmp_sys_join(p, skel->obj, cfg, &want, NULL);
	if (err < 0)
		return err;
	if (!priv->latency) {
		/* and say so in the "attached (...)" line */
		exit_part = strstr(p->attach, ",exit=");
		if (exit_part)
			*exit_part = 0;
	}
	return 0;
}

/* by process, then busiest syscall first */
static int cmp_row(const void *a_, const void *b_)
{
	const struct row *a = a_, *b = b_;
	int c;

	if ((c = lmp_cmp_u64(a->k.pid, b->k.pid)) || (c = lmp_cmp_u64(b->v.count, a->v.count)))
		return c;
	return lmp_cmp_u64(a->k.nr, b->k.nr);
}

static int cmp_proc(const void *a_, const void *b_)
{
	const struct proc *a = a_, *b = b_;

	return lmp_cmp_u64(b->total, a->total);
}

static const char *syscall_label(__u32 nr, char buf[16])
{
	const char *name = lmp_syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, 16, "%u", nr);
	return buf;
}

/*
 * Who pid is, as the BPF side recorded it. When the LRU lost it (more processes than
 * --syscall-max-keys in one interval), the name comes from /proc and the cgroup is unknown
 * (0): returns false so the caller counts the degradation.
 */
static bool proc_info(int procs_fd, __u32 pid, struct proc *pr)
{
	struct lmp_syscall_proc info;

	memset(pr->comm, 0, sizeof(pr->comm));
	if (bpf_map_lookup_elem(procs_fd, &pid, &info) == 0) {
		pr->cgroup_id = info.cgroup_id;
		memcpy(pr->comm, info.comm, sizeof(pr->comm) - 1);
		return true;
	}
	pr->cgroup_id = 0;
	lmp_proc_comm(pid, pr->comm, sizeof(pr->comm));
	return false;
}

static void feed_metrics(const struct syscall_priv *priv, const struct proc *pr, struct lmp_rt *rt)
{
	struct lmp_identity id;
	char buf[16];

	lmp_ident_lookup(rt->ident, pr->cgroup_id, &id);
	for (size_t i = pr->first; i < pr->first + pr->n; i++)
		lmp_metrics_add(rt->metrics, &syscalls_total, &id,
				syscall_label(priv->rows[i].k.nr, buf), priv->rows[i].v.count);
}

static void print_proc(struct lmp_probe *p, struct lmp_rt *rt, const struct proc *pr)
{
	const struct syscall_priv *priv = p->priv;
	const struct row *first = &priv->rows[pr->first];
	size_t n = pr->n < rt->cfg->top ? pr->n : rt->cfg->top;
	char buf[16];

	lmp_probe_summary_begin(p, rt, "summary", pr->cgroup_id, first->k.pid, pr->comm);
	lmp_out_double(rt->out, "interval_s", priv->interval);
	lmp_out_u64(rt->out, "syscalls_total", pr->total);
	lmp_out_u64(rt->out, "distinct_syscalls", pr->n);
	lmp_out_array_begin(rt->out, "syscalls");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &first[i];

		lmp_out_object_begin(rt->out, NULL);
		lmp_out_str(rt->out, "syscall", syscall_label(r->k.nr, buf));
		lmp_out_u64(rt->out, "nr", r->k.nr);
		lmp_out_u64(rt->out, "count", r->v.count);
		if (priv->latency) {
			lmp_out_u64(rt->out, "errors", r->v.errors);
			lmp_out_double(rt->out, "avg_latency_s",
				       r->v.done ? r->v.lat_ns / 1e9 / r->v.done : 0);
		}
		lmp_out_object_end(rt->out);
	}
	lmp_out_array_end(rt->out);
	lmp_out_end(rt->out);
}

static void syscall_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct syscall_bpf *skel = skel_;
	struct syscall_priv *priv = p->priv;
	int procs_fd = bpf_map__fd(skel->maps.sys_procs);
	struct proc *procs = NULL;
	size_t np = 0;
	double now;
	int r;

	now = lmp_now_s();
	priv->interval = now - priv->last;
	priv->last = now;
	r = lmp_map_rows_drain(&priv->buf, bpf_map__fd(skel->maps.sys_pid_counts), 0,
			       sizeof(struct lmp_syscall_key), sizeof(struct lmp_syscall_val));
	if (r < 0) {
		p->decode_errors++; /* counted; the next interval drains what is left */
		return;
	}
	if (priv->buf.oom)
		p->decode_errors++;
	priv->rows = (const struct row *)priv->buf.rows;
	priv->n = priv->buf.n;
	if (!priv->n)
		return;
	qsort(priv->buf.rows, priv->n, sizeof(*priv->rows), cmp_row);
	procs = calloc(priv->n, sizeof(*procs));
	if (!procs) {
		p->decode_errors++;
		return;
	}
	for (size_t i = 0; i < priv->n; i++) {
		const struct row *r = &priv->rows[i];

		if (i == 0 || r->k.pid != r[-1].k.pid) {
			procs[np] = (struct proc){ .first = i };
			if (!proc_info(procs_fd, r->k.pid, &procs[np]))
				p->decode_errors++;
			np++;
		}
		procs[np - 1].n++;
		procs[np - 1].total += r->v.count;
	}
	if (rt->metrics)
		for (size_t i = 0; i < np; i++)
			feed_metrics(priv, &procs[i], rt);
	qsort(procs, np, sizeof(*procs), cmp_proc);
	for (size_t i = 0; i < np && i < rt->cfg->top; i++)
		print_proc(p, rt, &procs[i]);
	free(procs);
}

static void syscall_cleanup(struct lmp_probe *p)
{
	struct syscall_priv *priv = p->priv;

	lmp_sys_leave(p);
	if (priv)
		lmp_map_rows_release(&priv->buf);
	free(priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_syscall = {
	.name = "syscall",
	.summary = "per-cgroup, per-process, per-syscall counts (and latency) aggregated in kernel",
	.skel = &syscall_skel_ops,
	.hooks = syscall_hooks,
	.n_hooks = ARRAY_SIZE(syscall_hooks),
	.configure = syscall_configure,
	.interval = syscall_interval,
	.attach = lmp_sys_attach,
	.cleanup = syscall_cleanup,
	.options = LMP_OPTIONS(struct lmp_syscall_options, syscall_options),
};

// SPDX-License-Identifier: Apache-2.0
/*
 * memleak's report: every interval the live allocations are read, those of processes that
 * exited dropped, the rest summed by (cgroup, allocator, process, stack), and the largest
 * printed, symbolized; one gauge per (cgroup, allocator).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/config.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "k8s/identity.h"
#include "probe/probe.h"
#include "probes/lib/proc.h"
#include "probes/memleak_int.h"
#include "sym/stacks.h"

static const char *const allocator_names[] = {
	[LMP_MEMLEAK_USER] = "user",
	[LMP_MEMLEAK_KMALLOC] = "kmalloc",
	[LMP_MEMLEAK_KMEM_CACHE] = "kmem_cache",
	[LMP_MEMLEAK_PAGE] = "page",
	[LMP_MEMLEAK_PERCPU] = "percpu",
};

static const struct lmp_metric_desc outstanding_bytes = {
	"lmp_memleak_outstanding_bytes",
	"Bytes allocated and not yet freed by the memleak target, per container and allocator.",
	LMP_METRIC_GAUGE,
	"allocator",
	1,
	true,
};

static struct memleak_row *rows_of(struct memleak_priv *mp)
{
	return (struct memleak_row *)mp->rows.rows;
}

static bool pid_alive(__u32 pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/*
 * User allocations of a process that exited are not leaks: its memory went with it. They
 * are removed here, since only the agent can tell the process is gone.
 */
static void drop_dead(struct memleak_priv *mp, int fd)
{
	__u32 last_pid = 0;
	bool last_alive = true;
	size_t kept = 0;

	struct memleak_row *rows = rows_of(mp);

	for (size_t i = 0; i < mp->rows.n; i++) {
		const struct lmp_memleak_key *k = &rows[i].k;

		if (k->space == LMP_MEMLEAK_SPACE_USER) {
			if (k->pid != last_pid) {
				last_pid = k->pid;
				last_alive = pid_alive(k->pid);
			}
			if (!last_alive) {
				bpf_map_delete_elem(fd, k);
				continue;
			}
		}
		if (kept != i)
			rows[kept] = rows[i];
		kept++;
	}
	mp->rows.n = kept;
}

static int cmp_agg_key(const struct agg *x, const struct agg *y)
{
	if (x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	if (x->allocator != y->allocator)
		return x->allocator < y->allocator ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return 0;
}

static int cmp_agg(const void *a, const void *b)
{
	return cmp_agg_key(a, b);
}

/* by cgroup, then most bytes first */
static int cmp_agg_bytes(const void *a, const void *b)
{
	const struct agg *x = a, *y = b;

	if (x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return cmp_agg_key(x, y);
}

static int aggregate(struct memleak_priv *mp)
{
	const struct memleak_row *rows = rows_of(mp);
	size_t k = 0, n = mp->rows.n;

	if (mp->cap_aggs < n) {
		struct agg *na = realloc(mp->aggs, n * sizeof(*na));

		if (!na)
			return -ENOMEM;
		mp->aggs = na;
		mp->cap_aggs = n;
	}
	for (size_t i = 0; i < n; i++) {
		const struct lmp_memleak_alloc *v = &rows[i].v;
		bool user = v->allocator == LMP_MEMLEAK_USER;

		mp->aggs[i] = (struct agg){ v->cgroup_id, v->allocator, user ? v->pid : 0,
					    v->stack_id,  v->size,	1,
					    v->ts_ns };
	}
	if (n) /* aggs is still NULL before the first allocation is seen */
		qsort(mp->aggs, n, sizeof(*mp->aggs), cmp_agg);
	for (size_t i = 0; i < n; i++) {
		struct agg *a = &mp->aggs[i];

		if (k && cmp_agg_key(&mp->aggs[k - 1], a) == 0) {
			struct agg *d = &mp->aggs[k - 1];

			d->bytes += a->bytes;
			d->count++;
			if (a->oldest_ns < d->oldest_ns)
				d->oldest_ns = a->oldest_ns;
			continue;
		}
		mp->aggs[k++] = *a;
	}
	mp->n_aggs = k;
	if (k)
		qsort(mp->aggs, k, sizeof(*mp->aggs), cmp_agg_bytes);
	return 0;
}

static void print_agg(struct lmp_probe *p, struct memleak_priv *mp, int stacks_fd,
		      const struct agg *a, __u64 now, struct lmp_rt *rt)
{
	bool user = a->allocator == LMP_MEMLEAK_USER;
	__u64 ips[LMP_STACK_DEPTH];
	char comm[LMP_COMM_LEN + 1] = "";
	int n = lmp_stacks_read(stacks_fd, a->stack_id, ips);

	if (user)
		lmp_proc_comm(a->pid, comm, sizeof(comm));
	lmp_probe_summary_begin(p, rt, "outstanding", a->cgroup_id, a->pid, user ? comm : NULL);
	lmp_out_str(rt->out, "allocator",
		    a->allocator < _LMP_MEMLEAK_ALLOCATOR_MAX ? allocator_names[a->allocator] :
								"?");
	lmp_out_u64(rt->out, "outstanding_bytes", a->bytes);
	lmp_out_u64(rt->out, "allocations", a->count);
	lmp_out_double(rt->out, "oldest_s", now > a->oldest_ns ? (now - a->oldest_ns) / 1e9 : 0);
	lmp_stacks_out(mp->stacks, rt->out, "stack", !user, a->pid, ips, n);
	lmp_out_end(rt->out);
}

/* one gauge per (cgroup, allocator); pairs that emptied since last interval go to 0 */
static void update_gauges(struct memleak_priv *mp, struct lmp_rt *rt)
{
	__u64 *cgs = calloc(mp->n_aggs + 1, sizeof(*cgs));
	__u32 *als = calloc(mp->n_aggs + 1, sizeof(*als));
	struct lmp_identity id;
	size_t n = 0;

	if (!cgs || !als) {
		free(cgs);
		free(als);
		return;
	}
	for (size_t i = 0; i < mp->n_aggs; i++) {
		const struct agg *a = &mp->aggs[i];
		double total = 0;
		size_t j;

		for (j = 0; j < n; j++)
			if (cgs[j] == a->cgroup_id && als[j] == a->allocator)
				break;
		if (j < n)
			continue;
		for (size_t k = i; k < mp->n_aggs && mp->aggs[k].cgroup_id == a->cgroup_id; k++)
			if (mp->aggs[k].allocator == a->allocator)
				total += mp->aggs[k].bytes;
		cgs[n] = a->cgroup_id;
		als[n++] = a->allocator;
		lmp_ident_lookup(rt->ident, a->cgroup_id, &id);
		lmp_metrics_set(rt->metrics, &outstanding_bytes, &id,
				allocator_names[a->allocator % _LMP_MEMLEAK_ALLOCATOR_MAX], total);
	}
	for (size_t i = 0; i < mp->n_gauges; i++) {
		size_t j;

		for (j = 0; j < n; j++)
			if (cgs[j] == mp->gauge_cgroups[i] && als[j] == mp->gauge_allocs[i])
				break;
		if (j < n)
			continue;
		lmp_ident_lookup(rt->ident, mp->gauge_cgroups[i], &id);
		lmp_metrics_set(rt->metrics, &outstanding_bytes, &id,
				allocator_names[mp->gauge_allocs[i] % _LMP_MEMLEAK_ALLOCATOR_MAX],
				0);
	}
	free(mp->gauge_cgroups);
	free(mp->gauge_allocs);
	mp->gauge_cgroups = cgs;
	mp->gauge_allocs = als;
	mp->n_gauges = n;
}

static int cmp_row_pid(const void *a, const void *b)
{
	const struct memleak_row *x = a, *y = b;

	return x->k.pid < y->k.pid ? -1 : x->k.pid > y->k.pid;
}

void memleak_report(struct lmp_probe *p, struct memleak_bpf *s, struct lmp_rt *rt)
{
	struct memleak_priv *mp = p->priv;
	int allocs_fd = bpf_map__fd(s->maps.allocs);
	int stacks_fd[2] = { bpf_map__fd(s->maps.kstacks), bpf_map__fd(s->maps.ustacks) };
	unsigned top = rt->cfg->top ? rt->cfg->top : 10;
	struct timespec ts;
	size_t i = 0;
	__u64 now;

	if (lmp_map_rows_read(&mp->rows, allocs_fd, sizeof(struct lmp_memleak_key),
			      sizeof(struct lmp_memleak_alloc)) < 0)
		return;
	/* by pid, so that each process is checked once */
	if (mp->rows.n) {
		qsort(mp->rows.rows, mp->rows.n, sizeof(struct memleak_row), cmp_row_pid);
		drop_dead(mp, allocs_fd);
	}
	if (aggregate(mp) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	lmp_stacks_interval(mp->stacks);
	while (i < mp->n_aggs) {
		__u64 cg = mp->aggs[i].cgroup_id;
		size_t end = i;
		unsigned shown[_LMP_MEMLEAK_ALLOCATOR_MAX] = { 0 };

		while (end < mp->n_aggs && mp->aggs[end].cgroup_id == cg)
			end++;
		/* top N of each allocator: page-cache pages must not crowd out a malloc leak */
		for (size_t k = i; k < end; k++) {
			__u32 al = mp->aggs[k].allocator % _LMP_MEMLEAK_ALLOCATOR_MAX;

			if (shown[al]++ < top)
				print_agg(p, mp, stacks_fd[al == LMP_MEMLEAK_USER], &mp->aggs[k],
					  now, rt);
		}
		i = end;
	}
	if (rt->metrics)
		update_gauges(mp, rt);
}

void memleak_report_free(struct memleak_priv *mp)
{
	lmp_map_rows_release(&mp->rows);
	free(mp->aggs);
	free(mp->gauge_cgroups);
	free(mp->gauge_allocs);
}

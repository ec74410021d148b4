// SPDX-License-Identifier: Apache-2.0
/*
 * biostacks: block I/O latency by the kernel stack that started it (bpf/biostacks.bpf.c).
 * Every interval the histograms are drained and each pod's busiest (stack, disk, process)
 * rows are printed with the stack symbolized through kallsyms.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/biostacks.h"
#include "biostacks.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/hist_json.h"
#include "probes/lib/map_rows.h"
#include "sym/stacks.h"

LMP_DEFINE_SKEL_OPS(biostacks);

static const struct lmp_hook biostacks_hooks[] = {
	{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_io_start", "block_io_start" },
	{ "start", LMP_HOOK_RAW_TP, "raw_tp_block_io_start", "block_io_start" },
	{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_rq_insert", "block_rq_insert", 1 },
	{ "start", LMP_HOOK_TP_BTF, "tp_btf_block_rq_insert_q", "block_rq_insert", 2 },
	{ "start", LMP_HOOK_RAW_TP, "raw_tp_block_rq_insert", "block_rq_insert", 1 },
	{ "start", LMP_HOOK_RAW_TP, "raw_tp_block_rq_insert_q", "block_rq_insert", 2 },
	{ "issue", LMP_HOOK_TP_BTF, "tp_btf_block_rq_issue", "block_rq_issue", 1 },
	{ "issue", LMP_HOOK_TP_BTF, "tp_btf_block_rq_issue_q", "block_rq_issue", 2 },
	{ "issue", LMP_HOOK_RAW_TP, "raw_tp_block_rq_issue", "block_rq_issue", 1 },
	{ "issue", LMP_HOOK_RAW_TP, "raw_tp_block_rq_issue_q", "block_rq_issue", 2 },
	{ "done", LMP_HOOK_TP_BTF, "tp_btf_block_io_done", "block_io_done" },
	{ "done", LMP_HOOK_RAW_TP, "raw_tp_block_io_done", "block_io_done" },
	{ "done", LMP_HOOK_TP_BTF, "tp_btf_block_rq_complete", "block_rq_complete" },
	{ "done", LMP_HOOK_RAW_TP, "raw_tp_block_rq_complete", "block_rq_complete" },
};

/* a row as lmp_map_rows_drain_shared() lays it out: key, value */
struct row {
	struct lmp_biostacks_key k;
	struct lmp_biostacks_val v;
};

struct biostacks_priv {
	struct lmp_stacks *stacks;
	struct lmp_map_rows buf;
	struct row *rows; /* buf's, as rows */
	size_t n;
	__u64 stack_errors; /* last total seen */
};

static int biostacks_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct biostacks_priv *bp = calloc(1, sizeof(*bp));

	if (!bp)
		return -ENOMEM;
	p->priv = bp;
	return lmp_stacks_new(&bp->stacks);
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->k.cgroup_id != y->k.cgroup_id)
		return x->k.cgroup_id < y->k.cgroup_id ? -1 : 1;
	if (x->v.lat.count != y->v.lat.count)
		return x->v.lat.count > y->v.lat.count ? -1 : 1;
	return 0;
}

/* "loop0" for 7:0, from sysfs; "" when the device is gone */
static void disk_name(__u32 dev, char *out, size_t len)
{
	char path[64], link[256];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", dev >> LMP_BIOSTACKS_MINORBITS,
		 dev & ((1U << LMP_BIOSTACKS_MINORBITS) - 1));
	n = readlink(path, link, sizeof(link) - 1);
	out[0] = 0;
	if (n <= 0)
		return;
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(out, len, "%s", base ? base + 1 : link);
}

static void print_row(struct lmp_probe *p, struct biostacks_priv *bp, int stacks_fd,
		      const struct row *r, struct lmp_rt *rt)
{
	const struct lmp_hist *h = &r->v.lat;
	char comm[LMP_COMM_LEN + 1], dev[32], disk[256];
	__u64 ips[LMP_STACK_DEPTH];
	int n = lmp_stacks_read(stacks_fd, r->k.stack_id, ips);

	memcpy(comm, r->v.comm, LMP_COMM_LEN);
	comm[LMP_COMM_LEN] = 0;
	snprintf(dev, sizeof(dev), "%u:%u", r->k.dev >> LMP_BIOSTACKS_MINORBITS,
		 r->k.dev & ((1U << LMP_BIOSTACKS_MINORBITS) - 1));
	disk_name(r->k.dev, disk, sizeof(disk));
	lmp_probe_summary_begin(p, rt, "stack", r->k.cgroup_id, r->k.pid, comm);
	lmp_out_str(rt->out, "dev", dev);
	lmp_out_str(rt->out, "disk", disk);
	lmp_out_u64(rt->out, "count", h->count);
	lmp_out_u64(rt->out, "total_ns", h->sum);
	lmp_out_u64(rt->out, "avg_ns", h->count ? h->sum / h->count : 0);
	lmp_out_u64(rt->out, "p50_ns", (__u64)llround(lmp_hist_quantile(h, 0.50)));
	lmp_out_u64(rt->out, "p99_ns", (__u64)llround(lmp_hist_quantile(h, 0.99)));
	lmp_hist_json(rt->out, "latency_hist_ns", h);
	lmp_stacks_out(bp->stacks, rt->out, "kernel_stack", true, r->k.pid, ips, n);
	lmp_out_end(rt->out);
}

/* sum of the per-CPU stack error counters */
static __u64 read_stack_errors(struct biostacks_bpf *s)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 total = 0;
	__u32 zero = 0;

	if (ncpu <= 0)
		return 0;
	{
		__u64 vals[ncpu];

		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.stack_errors), &zero, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				total += vals[c];
	}
	return total;
}

/*
 * Stacks stay in the map across intervals because requests in flight still refer to them;
 * only when ids start to collide is the map cleared, at the cost of the in-flight
 * requests' stacks (reported as "[lost: stack evicted]").
 */
static void clear_stacks(int fd)
{
	__u32 key, next;

	while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
		key = next;
		if (bpf_map_delete_elem(fd, &key) < 0)
			break;
	}
}

static void biostacks_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct biostacks_bpf *s = skel;
	struct biostacks_priv *bp = p->priv;
	int stacks_fd = bpf_map__fd(s->maps.stacks);
	unsigned top = rt->cfg->top ? rt->cfg->top : 10;
	__u64 errors;
	size_t i = 0;

	if (lmp_map_rows_drain_shared(&bp->buf, bpf_map__fd(s->maps.hists), 0,
				      sizeof(struct lmp_biostacks_key),
				      sizeof(struct lmp_biostacks_val)) < 0)
		return;
	if (bp->buf.oom)
		p->decode_errors++;
	bp->rows = (struct row *)bp->buf.rows;
	bp->n = bp->buf.n;
	if (bp->n)
		qsort(bp->rows, bp->n, sizeof(*bp->rows), cmp_row);
	while (i < bp->n) {
		__u64 cg = bp->rows[i].k.cgroup_id;
		size_t end = i;

		while (end < bp->n && bp->rows[end].k.cgroup_id == cg)
			end++;
		for (size_t k = i; k < end && k - i < top; k++)
			print_row(p, bp, stacks_fd, &bp->rows[k], rt);
		i = end;
	}
	errors = read_stack_errors(s);
	if (errors != bp->stack_errors) {
		bp->stack_errors = errors;
		clear_stacks(stacks_fd);
	}
}

static void biostacks_cleanup(struct lmp_probe *p)
{
	struct biostacks_priv *bp = p->priv;

	if (!bp)
		return;
	lmp_stacks_free(bp->stacks);
	lmp_map_rows_release(&bp->buf);
	free(bp);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_biostacks = {
	.name = "biostacks",
	.summary = "block I/O latency by the kernel stack that started it, per pod and disk",
	.skel = &biostacks_skel_ops,
	.hooks = biostacks_hooks,
	.n_hooks = ARRAY_SIZE(biostacks_hooks),
	.configure = biostacks_configure,
	.interval = biostacks_interval,
	.cleanup = biostacks_cleanup,
	.needs = LMP_NEED_KERNEL_STACKS,
};

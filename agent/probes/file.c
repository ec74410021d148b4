// SPDX-License-Identifier: Apache-2.0
/*
 * file: read/write calls and bytes per process and file (bpf/file.bpf.c). Every interval the
 * agent drains the per-CPU counters, prints the --top (process, file) pairs by bytes moved,
 * and feeds lmp_file_read_bytes_total / lmp_file_write_bytes_total{type} for every pair.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/file.h"
#include "file.skel.h"
#include "probes/lib/map_rows.h"
#include "probes/lib/proc.h"
#include "base/clock.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/autoload.h"
#include "probes/lib/sysdisp.h"
#include <sys/syscall.h>

LMP_DEFINE_SKEL_OPS(file);

enum {
	HOOK_READ_FEXIT,
	HOOK_READ_KPROBE,
	HOOK_READ_DISP_BTF,
	HOOK_READ_DISP_RAW,
	HOOK_READ_TP,
	HOOK_WRITE_FEXIT,
	HOOK_WRITE_KPROBE,
	HOOK_WRITE_DISP_BTF,
	HOOK_WRITE_DISP_RAW,
	HOOK_WRITE_TP,
};

static const struct lmp_hook file_hooks[] = {
	[HOOK_READ_FEXIT] = { "read", LMP_HOOK_FEXIT, "fexit_vfs_read", "vfs_read" },
	[HOOK_READ_KPROBE] = { "read", LMP_HOOK_KPROBE, "kprobe_vfs_read", "vfs_read" },
	/* the syscall dispatcher's exit (sysdisp.h): one program run per call, shared */
	[HOOK_READ_DISP_BTF] = { "read", LMP_HOOK_TP_BTF, "tail_btf_exit", "sys_exit" },
	[HOOK_READ_DISP_RAW] = { "read", LMP_HOOK_RAW_TP, "tail_raw_exit", "sys_exit" },
	[HOOK_READ_TP] = { "read", LMP_HOOK_TRACEPOINT, "tp_sys_enter_read",
			   "syscalls/sys_enter_read" },
	[HOOK_WRITE_FEXIT] = { "write", LMP_HOOK_FEXIT, "fexit_vfs_write", "vfs_write" },
	[HOOK_WRITE_KPROBE] = { "write", LMP_HOOK_KPROBE, "kprobe_vfs_write", "vfs_write" },
	[HOOK_WRITE_DISP_BTF] = { "write", LMP_HOOK_TP_BTF, "tail_btf_exit", "sys_exit" },
	[HOOK_WRITE_DISP_RAW] = { "write", LMP_HOOK_RAW_TP, "tail_raw_exit", "sys_exit" },
	[HOOK_WRITE_TP] = { "write", LMP_HOOK_TRACEPOINT, "tp_sys_enter_write",
			    "syscalls/sys_enter_write" },
};

/* programs that only work together with a hook of the table: loaded iff that hook won */
static const struct {
	const char *prog;
	int with;
} companions[] = {
	{ "kretprobe_vfs_read", HOOK_READ_KPROBE }, { "kretprobe_vfs_write", HOOK_WRITE_KPROBE },
	{ "tp_sys_exit_read", HOOK_READ_TP },	    { "tp_sys_enter_pread64", HOOK_READ_TP },
	{ "tp_sys_exit_pread64", HOOK_READ_TP },    { "tp_sys_enter_readv", HOOK_READ_TP },
	{ "tp_sys_exit_readv", HOOK_READ_TP },	    { "tp_sys_exit_write", HOOK_WRITE_TP },
	{ "tp_sys_enter_pwrite64", HOOK_WRITE_TP }, { "tp_sys_exit_pwrite64", HOOK_WRITE_TP },
	{ "tp_sys_enter_writev", HOOK_WRITE_TP },   { "tp_sys_exit_writev", HOOK_WRITE_TP },
};

static const struct lmp_metric_desc read_bytes_total = {
	"lmp_file_read_bytes_total",
	"Bytes returned by read calls, per container and file type (regular, socket, pipe, other).",
	LMP_METRIC_COUNTER,
	"type",
	1,
	true,
};
static const struct lmp_metric_desc write_bytes_total = {
	"lmp_file_write_bytes_total",
	"Bytes accepted by write calls, per container and file type (regular, socket, pipe, other).",
	LMP_METRIC_COUNTER,
	"type",
	1,
	true,
};

static const char *const type_names[] = {
	[LMP_FILE_REGULAR] = "regular",
	[LMP_FILE_SOCKET] = "socket",
	[LMP_FILE_PIPE] = "pipe",
	[LMP_FILE_OTHER] = "other",
};

struct row {
	struct lmp_file_key k;
	struct lmp_file_val v;
};

_Static_assert(sizeof(struct row) == sizeof(struct lmp_file_key) + sizeof(struct lmp_file_val),
	       "rows are read as lmp_map_rows_drain() lays them out");

struct file_priv {
	struct lmp_map_rows buf;
	const struct row *rows; /* buf's, as rows */
	size_t n;
	double last, interval; /* CLOCK_MONOTONIC seconds of the previous drain; span covered */
};

/* what the dispatcher routes to the tail, reads and writes alike */
static const int file_nrs[] = { SYS_read,  SYS_pread64,	 SYS_readv,
				SYS_write, SYS_pwrite64, SYS_writev };

static int file_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct file_bpf *skel = skel_;
	struct file_priv *priv = calloc(1, sizeof(*priv));
	struct lmp_sys_want want = { .exit = true, .nrs = file_nrs, .n_nrs = ARRAY_SIZE(file_nrs) };
	int err;

	if (!priv)
		return -ENOMEM;
	priv->last = lmp_now_s();
	p->priv = priv;
	for (size_t i = 0; i < ARRAY_SIZE(companions); i++) {
		err = lmp_prog_autoload(p, skel->obj, companions[i].prog,
					p->chosen[companions[i].with]);
		if (err)
			return err;
	}
	skel->rodata->cfg_nr_write = SYS_write;
	skel->rodata->cfg_nr_pwrite64 = SYS_pwrite64;
	skel->rodata->cfg_nr_writev = SYS_writev;
	/* the dispatcher's maps in any case (they are in the object), its exit when chosen;
	 * pend is the kprobe and tracepoint paths' task-local map */
	err = lmp_sys_join(p, skel->obj, cfg, &want, "pend");
	return err < 0 ? err : 0;
}

/* most bytes first, then most calls; the key keeps the order stable */
static int cmp_row(const void *a_, const void *b_)
{
	const struct row *a = a_, *b = b_;
	int c;

	if ((c = lmp_cmp_u64(b->v.read_bytes + b->v.write_bytes,
			     a->v.read_bytes + a->v.write_bytes)) ||
	    (c = lmp_cmp_u64(b->v.reads + b->v.writes, a->v.reads + a->v.writes)) ||
	    (c = lmp_cmp_u64(a->k.pid, b->k.pid)) || (c = lmp_cmp_u64(a->k.ino, b->k.ino)))
		return c;
	return lmp_cmp_u64(a->k.dev, b->k.dev);
}

static const char *type_name(__u32 t)
{
	return t < ARRAY_SIZE(type_names) ? type_names[t] : "other";
}

/* names the BPF side recorded; when the LRU lost them, the comm from /proc and no name */
static void row_info(int fd, const struct lmp_file_key *k, struct lmp_file_info *info)
{
	if (bpf_map_lookup_elem(fd, k, info) == 0) {
		info->comm[sizeof(info->comm) - 1] = 0;
		info->name[sizeof(info->name) - 1] = 0;
		info->dir[sizeof(info->dir) - 1] = 0;
		return;
	}
	memset(info, 0, sizeof(*info));
	info->type = LMP_FILE_OTHER;
	lmp_proc_comm(k->pid, info->comm, sizeof(info->comm));
}

static void print_row(struct lmp_probe *p, struct lmp_rt *rt, const struct row *r,
		      const struct lmp_file_info *info)
{
	const char *type = type_name(info->type);
	char name[LMP_FILE_NAME_LEN + 32], dev[32];

	/* sockets and pipes have empty dentry names: name them as /proc/<pid>/fd does */
	if (!info->name[0] && (info->type == LMP_FILE_SOCKET || info->type == LMP_FILE_PIPE))
		snprintf(name, sizeof(name), "%s:[%llu]", type, (unsigned long long)r->k.ino);
	else
		snprintf(name, sizeof(name), "%s", info->name);
	snprintf(dev, sizeof(dev), "%u:%u", r->k.dev >> 20, r->k.dev & 0xfffff);
	lmp_probe_summary_begin(p, rt, "summary", r->k.cgroup_id, r->k.pid, info->comm);
	lmp_out_double(rt->out, "interval_s", ((struct file_priv *)p->priv)->interval);
	lmp_out_str(rt->out, "file", name);
	lmp_out_str(rt->out, "dir", info->dir);
	lmp_out_str(rt->out, "type", type);
	lmp_out_str(rt->out, "dev", dev);
	lmp_out_u64(rt->out, "inode", r->k.ino);
	lmp_out_u64(rt->out, "reads", r->v.reads);
	lmp_out_u64(rt->out, "writes", r->v.writes);
	lmp_out_u64(rt->out, "read_bytes", r->v.read_bytes);
	lmp_out_u64(rt->out, "write_bytes", r->v.write_bytes);
	lmp_out_end(rt->out);
}

static void file_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct file_bpf *skel = skel_;
	struct file_priv *priv = p->priv;
	int infos_fd = bpf_map__fd(skel->maps.infos);
	struct lmp_file_info info;
	struct lmp_identity id;
	double now = lmp_now_s();
	int r;

	priv->interval = now - priv->last;
	priv->last = now;
	r = lmp_map_rows_drain(&priv->buf, bpf_map__fd(skel->maps.stats), 0,
			       sizeof(struct lmp_file_key), sizeof(struct lmp_file_val));
	if (r < 0 || priv->buf.oom)
		p->decode_errors++; /* counted; what stays in the map is read next time */
	priv->rows = (const struct row *)priv->buf.rows;
	priv->n = priv->buf.n;
	if (!priv->n)
		return;
	qsort(priv->buf.rows, priv->n, sizeof(*priv->rows), cmp_row);
	for (size_t i = 0; i < priv->n; i++) {
		const struct row *row = &priv->rows[i];

		if (i >= rt->cfg->top && !rt->metrics)
			break;
		row_info(infos_fd, &row->k, &info);
		if (rt->metrics) {
			const char *type = type_name(info.type);

			lmp_ident_lookup(rt->ident, row->k.cgroup_id, &id);
			if (row->v.read_bytes)
				lmp_metrics_add(rt->metrics, &read_bytes_total, &id, type,
						row->v.read_bytes);
			if (row->v.write_bytes)
				lmp_metrics_add(rt->metrics, &write_bytes_total, &id, type,
						row->v.write_bytes);
		}
		if (i < rt->cfg->top)
			print_row(p, rt, row, &info);
	}
}

static void file_cleanup(struct lmp_probe *p)
{
	struct file_priv *priv = p->priv;

	lmp_sys_leave(p);
	if (priv)
		lmp_map_rows_release(&priv->buf);
	free(priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_file = {
	.name = "file",
	.summary =
		"per-process, per-file read/write calls and bytes (filetop), aggregated in kernel",
	.skel = &file_skel_ops,
	.hooks = file_hooks,
	.n_hooks = ARRAY_SIZE(file_hooks),
	.configure = file_configure,
	.attach = lmp_sys_attach,
	.interval = file_interval,
	.cleanup = file_cleanup,
};

// SPDX-License-Identifier: Apache-2.0
/*
 * funclatency: latency histogram of one function per pod (bpf/funclatency.bpf.c). The
 * target comes from --funclatency-target: "binary:symbol" for user space (uprobes), a bare
 * name for a kernel function (fentry, else kprobes). The hook table lists the user-space
 * pair, which is what the kernel must offer for the usual case; configure() switches to
 * the kernel programs when the target is a kernel function, because the generic choice
 * cannot know the target.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/funclatency.h"
#include "funclatency.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "probe/feature.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "sym/proclib.h"
#include "probes/lib/hist_json.h"

LMP_DEFINE_SKEL_OPS(funclatency);

static const struct lmp_hook funclatency_hooks[] = {
	{ "entry", LMP_HOOK_UPROBE, "uprobe_entry", NULL },
	{ "return", LMP_HOOK_UPROBE, "uretprobe_return", NULL },
};

struct funclatency_options {
	char *target; /* "binary:symbol" or a kernel function */
	unsigned pid; /* only this process (0: all) */
};

/* "binary:symbol" (user space) or "symbol" (kernel); symbols are C/C++ linkage names */
static int check_target(const char *v, char *err, size_t len)
{
	const char *colon = strrchr(v, ':'), *sym = colon ? colon + 1 : v;

	if (!*v)
		return 0;
	if ((colon && colon == v) || !*sym ||
	    strspn(sym, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@$") != strlen(sym)) {
		snprintf(err, len, "expected BINARY:SYMBOL or a kernel function name, got '%s'", v);
		return -EINVAL;
	}
	return 0;
}

static const struct lmp_option funclatency_options[] = {
	LMP_OPTION_STR(struct funclatency_options, target, "funclatency-target",
		       "LMP_FUNCLATENCY_TARGET", "", check_target,
		       "funclatency probe: BINARY:SYMBOL (uprobe) or a kernel function; unset: off"),
	LMP_OPTION_UINT(struct funclatency_options, pid, "funclatency-pid", "LMP_FUNCLATENCY_PID",
			"0", 0, 4194304, "funclatency probe: only this process (0: every process)"),
};

static const struct lmp_metric_desc latency_seconds = {
	"lmp_function_latency_seconds",
	"Latency of the --funclatency-target function, per container.",
	LMP_METRIC_HISTOGRAM,
	"function",
	1e-9,
	true,
};

enum mode { MODE_UPROBE, MODE_FENTRY, MODE_KPROBE };

struct funclatency_priv {
	enum mode mode;
	char target[PATH_MAX + 256]; /* as given, for output and labels */
	char binary[PATH_MAX];	     /* resolved path (uprobes) */
	char symbol[256];
	__u64 offset; /* of the symbol in binary's file, for the uprobes */
	__u32 pid;
	struct lmp_rt *rt;
};

static bool is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/*
 * A binary named without a '/': in the target process's mappings first (its libraries, in
 * its mount namespace), then $PATH, then the usual library directories.
 */
static int resolve_binary(const char *given, __u32 pid, char *out, size_t len)
{
	static const char *const libdirs[] = { "/lib/x86_64-linux-gnu",
					       "/usr/lib/x86_64-linux-gnu",
					       "/lib/aarch64-linux-gnu",
					       "/usr/lib/aarch64-linux-gnu",
					       "/lib64",
					       "/usr/lib64",
					       "/lib",
					       "/usr/lib",
					       "/usr/local/lib" };
	static const char *const suffixes[] = { "", ".so.6", ".so" }; /* libc: libc.so.6 */
	char name[PATH_MAX];
	const char *path, *lib = name;

	snprintf(name, sizeof(name), "%s", given); /* out may be given's buffer */
	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return is_file(out) ? 0 : -errno;
	}
	if (pid && lmp_proc_lib(pid, &lib, 1, out, len) == 0)
		return 0;
	path = getenv("PATH");
	for (const char *d = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; d && *d;) {
		size_t n = strcspn(d, ":");

		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, d, name) < len &&
		    access(out, X_OK) == 0)
			return 0;
		d += n + (d[n] == ':');
	}
	for (size_t i = 0; i < ARRAY_SIZE(libdirs); i++)
		for (size_t j = 0; j < ARRAY_SIZE(suffixes); j++)
			if ((size_t)snprintf(out, len, "%s/%s%s", libdirs[i], name, suffixes[j]) <
				    len &&
			    is_file(out))
				return 0;
	out[0] = 0;
	return -ENOENT;
}

static void set_progs(struct funclatency_bpf *s, enum mode m)
{
	bpf_program__set_autoload(s->progs.uprobe_entry, m == MODE_UPROBE);
	bpf_program__set_autoload(s->progs.uretprobe_return, m == MODE_UPROBE);
	bpf_program__set_autoload(s->progs.fentry_entry, m == MODE_FENTRY);
	bpf_program__set_autoload(s->progs.fexit_return, m == MODE_FENTRY);
	bpf_program__set_autoload(s->progs.kprobe_entry, m == MODE_KPROBE);
	bpf_program__set_autoload(s->progs.kretprobe_return, m == MODE_KPROBE);
}

static int configure_kernel(struct lmp_probe *p, struct funclatency_bpf *s,
			    struct funclatency_priv *fp)
{
	const char *why_fentry = "", *why_fexit = "", *why_kprobe = "";
	int err;

	if (lmp_feature_hook(NULL, LMP_HOOK_FENTRY, fp->symbol, &why_fentry) &&
	    lmp_feature_hook(NULL, LMP_HOOK_FEXIT, fp->symbol, &why_fexit)) {
		fp->mode = MODE_FENTRY;
		set_progs(s, MODE_FENTRY);
		err = bpf_program__set_attach_target(s->progs.fentry_entry, 0, fp->symbol);
		if (!err)
			err = bpf_program__set_attach_target(s->progs.fexit_return, 0, fp->symbol);
		if (err) {
			snprintf(p->reason, sizeof(p->reason), "kernel function %s: %s", fp->symbol,
				 strerror(-err));
			return err;
		}
		snprintf(p->attach, sizeof(p->attach), "entry=fentry,return=fexit");
		return 0;
	}
	if (lmp_feature_hook(NULL, LMP_HOOK_KPROBE, fp->symbol, &why_kprobe)) {
		fp->mode = MODE_KPROBE;
		set_progs(s, MODE_KPROBE);
		snprintf(p->attach, sizeof(p->attach), "entry=kprobe,return=kretprobe");
		return 0;
	}
	snprintf(p->reason, sizeof(p->reason),
		 "unsupported on this kernel: no kprobes and no fentry for kernel function %s "
		 "(fentry: %s; kprobe: %s)",
		 fp->symbol, *why_fentry ? why_fentry : why_fexit, why_kprobe);
	return -ENOTSUP;
}

static int funclatency_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct funclatency_options *o = lmp_probe_options(p, cfg);
	const char *t = o->target ? o->target : "";
	struct funclatency_bpf *s = skel;
	struct funclatency_priv *fp;
	const char *colon;
	int err;

	if (!*t) {
		snprintf(p->reason, sizeof(p->reason),
			 "not configured: set --funclatency-target BINARY:SYMBOL or a kernel "
			 "function name");
		return -LMP_ENOTCONFIGURED;
	}
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return -ENOMEM;
	p->priv = fp;
	fp->pid = o->pid;
	snprintf(fp->target, sizeof(fp->target), "%s", t);
	s->rodata->cfg_pid = fp->pid;
	colon = strrchr(t, ':');
	snprintf(fp->symbol, sizeof(fp->symbol), "%s", colon ? colon + 1 : t);
	if (!colon)
		return configure_kernel(p, s, fp);

	snprintf(fp->binary, sizeof(fp->binary), "%.*s", (int)(colon - t), t);
	err = resolve_binary(fp->binary, fp->pid, fp->binary, sizeof(fp->binary));
	if (err < 0) {
		snprintf(p->reason, sizeof(p->reason),
			 "--funclatency-target %.200s: binary %.*s: %s", t,
			 (int)(colon - t > 200 ? 200 : colon - t), t, strerror(-err));
		return err;
	}
	/* our own lookup: libbpf 1.1 rejects names that several symbol versions share */
	err = lmp_proc_lib_offset(fp->binary, fp->symbol, &fp->offset);
	if (err < 0) {
		snprintf(p->reason, sizeof(p->reason), "--funclatency-target %.200s: %s%.200s", t,
			 err == -ENOENT ? "no such function in " : strerror(-err),
			 err == -ENOENT ? fp->binary : "");
		return err;
	}
	fp->mode = MODE_UPROBE;
	set_progs(s, MODE_UPROBE);
	return 0;
}

static int funclatency_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct funclatency_bpf *s = skel;
	struct funclatency_priv *fp = p->priv;
	struct bpf_link *l[2] = { NULL, NULL };
	int err = 0;

	p->links = calloc(2, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	if (fp->mode == MODE_UPROBE) {
		LIBBPF_OPTS(bpf_uprobe_opts, entry);
		LIBBPF_OPTS(bpf_uprobe_opts, ret, .retprobe = true);
		pid_t pid = fp->pid ? (pid_t)fp->pid : -1;

		l[0] = bpf_program__attach_uprobe_opts(s->progs.uprobe_entry, pid, fp->binary,
						       fp->offset, &entry);
		if (l[0])
			l[1] = bpf_program__attach_uprobe_opts(s->progs.uretprobe_return, pid,
							       fp->binary, fp->offset, &ret);
	} else if (fp->mode == MODE_FENTRY) {
		l[0] = bpf_program__attach_trace(s->progs.fentry_entry);
		if (l[0])
			l[1] = bpf_program__attach_trace(s->progs.fexit_return);
	} else {
		l[0] = bpf_program__attach_kprobe(s->progs.kprobe_entry, false, fp->symbol);
		if (l[0])
			l[1] = bpf_program__attach_kprobe(s->progs.kretprobe_return, true,
							  fp->symbol);
	}
	if (!l[0] || !l[1]) {
		err = -errno;
		snprintf(p->reason, sizeof(p->reason), "attach to %.300s: %s", fp->target,
			 strerror(-err));
	}
	for (int i = 0; i < 2; i++)
		if (l[i])
			p->links[p->n_links++] = l[i];
	return err;
}

static void on_hist(void *ctx, const void *key, const void *value)
{
	struct lmp_probe *p = ctx;
	struct funclatency_priv *fp = p->priv;
	struct lmp_rt *rt = fp->rt;
	const struct lmp_hist *h = value;
	__u64 cgroup_id;
	struct lmp_identity id;

	memcpy(&cgroup_id, key, sizeof(cgroup_id));
	if (!h->count)
		return;
	lmp_probe_summary_begin(p, rt, "latency", cgroup_id, fp->pid, NULL);
	lmp_out_str(rt->out, "function", fp->target);
	lmp_out_u64(rt->out, "count", h->count);
	lmp_out_u64(rt->out, "total_ns", h->sum);
	lmp_out_u64(rt->out, "avg_ns", h->sum / h->count);
	lmp_out_u64(rt->out, "p50_ns", (__u64)llround(lmp_hist_quantile(h, 0.50)));
	lmp_out_u64(rt->out, "p90_ns", (__u64)llround(lmp_hist_quantile(h, 0.90)));
	lmp_out_u64(rt->out, "p99_ns", (__u64)llround(lmp_hist_quantile(h, 0.99)));
	lmp_hist_json(rt->out, "latency_hist_ns", h);
	lmp_out_end(rt->out);
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, cgroup_id, &id);
		lmp_metrics_hist_add(rt->metrics, &latency_seconds, &id, fp->target, h);
	}
}

static void funclatency_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct funclatency_bpf *s = skel;
	struct funclatency_priv *fp = p->priv;

	fp->rt = rt;
	lmp_map_drain(bpf_map__fd(s->maps.hists), sizeof(__u64), sizeof(struct lmp_hist), false,
		      on_hist, p);
}

static void funclatency_cleanup(struct lmp_probe *p)
{
	free(p->priv);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_funclatency = {
	.name = "funclatency",
	.summary = "latency histogram of one user (uprobe) or kernel function per pod",
	.skel = &funclatency_skel_ops,
	.hooks = funclatency_hooks,
	.n_hooks = ARRAY_SIZE(funclatency_hooks),
	.configure = funclatency_configure,
	.attach = funclatency_attach,
	.interval = funclatency_interval,
	.cleanup = funclatency_cleanup,
	.options = LMP_OPTIONS(struct funclatency_options, funclatency_options),
};

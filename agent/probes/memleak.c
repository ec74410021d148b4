// SPDX-License-Identifier: Apache-2.0
/*
 * memleak: outstanding allocations of one process (--memleak-pid) or of every process of a
 * cgroup (--memleak-cgroup, a pod's or container's), user space and kernel, by stack
 * (bpf/memleak.bpf.c). This file: the descriptor, options and lifecycle;
 * memleak_targets.c: the per-process uprobes; memleak_report.c: the interval's report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/memleak.h"
#include "memleak.skel.h"
#include "probe/bpfmap.h"
#include "k8s/cgroup.h"
#include "core/config.h"
#include "probe/detach.h"
#include "k8s/identity.h"
#include "base/log.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "sym/stacks.h"
#include "probes/memleak_int.h"

LMP_DEFINE_SKEL_OPS(memleak);

#define LMP_MEMLEAK_ATTACH_BUDGET_MS 250 /* per interval, of the loop's time */

/* entry 0 stands for every uprobe program: they are attached by hand, per process */
static const struct lmp_hook memleak_hooks[] = {
	{ "user", LMP_HOOK_UPROBE, "uprobe_size_arg1", NULL },
	LMP_HOOKS_TP("kmalloc", "kmalloc", "kmem"),
	LMP_HOOKS_TP("kfree", "kfree", "kmem"),
	LMP_HOOKS_TP("kmem_cache_alloc", "kmem_cache_alloc", "kmem"),
	LMP_HOOKS_TP("kmem_cache_free", "kmem_cache_free", "kmem"),
	LMP_HOOKS_TP("page_alloc", "mm_page_alloc", "kmem"),
	LMP_HOOKS_TP("page_free", "mm_page_free", "kmem"),
	LMP_HOOKS_TP("page_free_batched", "mm_page_free_batched", "kmem"),
	/* 5.19 added call_site, bytes_alloc and gfp_flags to percpu_alloc_percpu: 10 arguments,
	 * 7 before; the BTF of the running kernel picks the program of its layout */
	{ "percpu_alloc", LMP_HOOK_TP_BTF, "tp_btf_percpu_alloc_percpu", "percpu_alloc_percpu",
	  10 },
	{ "percpu_alloc", LMP_HOOK_TP_BTF, "tp_btf_percpu_alloc_percpu_old", "percpu_alloc_percpu",
	  7 },
	{ "percpu_alloc", LMP_HOOK_RAW_TP, "raw_tp_percpu_alloc_percpu", "percpu_alloc_percpu",
	  10 },
	{ "percpu_alloc", LMP_HOOK_RAW_TP, "raw_tp_percpu_alloc_percpu_old", "percpu_alloc_percpu",
	  7 },
	{ "percpu_alloc", LMP_HOOK_TRACEPOINT, "tp_percpu_alloc_percpu",
	  "percpu/percpu_alloc_percpu" },
	LMP_HOOKS_TP("percpu_free", "percpu_free_percpu", "percpu"),
};

struct memleak_options {
	unsigned pid; /* this process (0: none) */
	char *cgroup; /* every process of this v2 cgroup ("" none) */
	bool kernel;  /* also kernel allocations of the target */
};

static const struct lmp_option memleak_options[] = {
	LMP_OPTION_UINT(struct memleak_options, pid, "memleak-pid", "LMP_MEMLEAK_PID", "0", 0,
			4194304, "memleak probe: outstanding allocations of this process"),
	LMP_OPTION_STR(struct memleak_options, cgroup, "memleak-cgroup", "LMP_MEMLEAK_CGROUP", "",
		       NULL, "memleak probe: every process of this cgroup v2 path (a pod's)"),
	LMP_OPTION_BOOL(struct memleak_options, kernel, "memleak-kernel", "LMP_MEMLEAK_KERNEL",
			"true", "memleak probe: also kernel allocations (kmalloc, pages, percpu)"),
};

static bool is_uprobe_prog(const struct bpf_program *prog)
{
	return bpf_program__type(prog) == BPF_PROG_TYPE_KPROBE;
}

/* the cgroup v2 directory of --memleak-cgroup: absolute, or relative to the v2 mount */
static int cgroup_dir(const struct lmp_config *cfg, const char *arg, char *out, size_t len)
{
	char root[1024] = "", *text = NULL;
	size_t cap = 0;
	FILE *f;

	if (cfg->cgroup_root && *cfg->cgroup_root) {
		snprintf(root, sizeof(root), "%s", cfg->cgroup_root);
	} else {
		f = fopen("/proc/self/mountinfo", "re");
		if (f && getdelim(&text, &cap, '\0', f) > 0)
			lmp_cgroup_find_v2(text, root, sizeof(root));
		free(text);
		if (f)
			fclose(f);
	}
	if (!root[0])
		return -ENOENT;
	if (strncmp(arg, root, strlen(root)) == 0 &&
	    (arg[strlen(root)] == '/' || !arg[strlen(root)]))
		snprintf(out, len, "%s", arg);
	else
		snprintf(out, len, "%s/%s", root, arg[0] == '/' ? arg + 1 : arg);
	return 0;
}

static int memleak_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct memleak_options *o = lmp_probe_options(p, cfg);
	const char *cg = o->cgroup ? o->cgroup : "";
	struct memleak_bpf *s = skel;
	const char *kernel_kind = NULL;
	struct memleak_priv *mp;
	struct bpf_program *prog;
	char proc[32];
	struct statfs sfs;
	int err;

	if (!o->pid && !*cg) {
		snprintf(p->reason, sizeof(p->reason),
			 "not configured: set --memleak-pid PID or --memleak-cgroup PATH");
		return -LMP_ENOTCONFIGURED;
	}
	if (o->pid && *cg) {
		snprintf(p->reason, sizeof(p->reason),
			 "--memleak-pid and --memleak-cgroup are exclusive: set one");
		return -EINVAL;
	}
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return -ENOMEM;
	p->priv = mp;
	mp->cg_fd = -1;
	err = lmp_stacks_new(&mp->stacks);
	if (err < 0)
		return err;
	if (o->pid) {
		mp->pid = o->pid;
		snprintf(proc, sizeof(proc), "/proc/%u", mp->pid);
		if (access(proc, F_OK) != 0) {
			snprintf(p->reason, sizeof(p->reason), "--memleak-pid %u: no such process",
				 mp->pid);
			return -ESRCH;
		}
		s->rodata->cfg_pid = mp->pid;
	} else {
		err = cgroup_dir(cfg, cg, mp->cg_path, sizeof(mp->cg_path));
		mp->cg_fd = err < 0 ? err : open(mp->cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mp->cg_fd < 0 || fstatfs(mp->cg_fd, &sfs) < 0 ||
		    sfs.f_type != CGROUP2_SUPER_MAGIC) {
			snprintf(p->reason, sizeof(p->reason),
				 "--memleak-cgroup %.200s: not a cgroup v2 directory (%.200s)", cg,
				 mp->cg_path[0] ? mp->cg_path : "no cgroup v2 mount");
			return -ENOENT;
		}
		s->rodata->cfg_cgroup = 1;
	}
	/* kernel programs: off on request; else note the kind the loader chose */
	for (size_t i = 1; i < ARRAY_SIZE(memleak_hooks); i++) {
		prog = bpf_object__find_program_by_name(p->obj, memleak_hooks[i].prog);
		if (!o->kernel && prog)
			bpf_program__set_autoload(prog, false);
		else if (prog && p->chosen[i] && !kernel_kind)
			kernel_kind = lmp_hook_kind_name(memleak_hooks[i].kind);
	}
	mp->multi = memleak_uprobe_multi_works();
	for (int i = 0; mp->multi && i < N_PROGS; i++)
		bpf_program__set_expected_attach_type(prog_of(s, i), LMP_TRACE_UPROBE_MULTI);
	snprintf(p->attach, sizeof(p->attach), "user=%s%s%s", mp->multi ? "uprobe_multi" : "uprobe",
		 kernel_kind ? ",kernel=" : "", kernel_kind ? kernel_kind : "");
	return 0;
}

static int memleak_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct memleak_bpf *s = skel;
	struct memleak_priv *mp = p->priv;
	struct bpf_program *prog;
	size_t n = 0;
	__u32 zero = 0;
	int err;

	if (mp->cg_fd >= 0 &&
	    bpf_map_update_elem(bpf_map__fd(s->maps.cgroup_filter), &zero, &mp->cg_fd, BPF_ANY)) {
		err = -errno;
		snprintf(p->reason, sizeof(p->reason), "cgroup filter: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_program(prog, p->obj)
		n++;
	p->links = calloc(n, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	bpf_object__for_each_program(prog, p->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog) || is_uprobe_prog(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			err = -errno;
			snprintf(p->reason, sizeof(p->reason), "attach %s: %s",
				 bpf_program__name(prog), strerror(-err));
			return err;
		}
		p->links[p->n_links++] = l;
	}
	return memleak_targets_refresh(p, s, 0);
}

static void memleak_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct memleak_priv *mp = p->priv;

	if (!mp->pid && !rt->stopping)
		memleak_targets_refresh(p, skel, LMP_MEMLEAK_ATTACH_BUDGET_MS);
	memleak_report(p, skel, rt);
}

static void memleak_cleanup(struct lmp_probe *p)
{
	struct memleak_priv *mp = p->priv;

	if (!mp)
		return;
	memleak_targets_detach_all(mp);
	if (mp->cg_fd >= 0)
		close(mp->cg_fd);
	lmp_stacks_free(mp->stacks);
	memleak_report_free(mp);
	free(mp);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_memleak = {
	.name = "memleak",
	.summary = "outstanding user (libc) and kernel allocations of a process or pod, by stack",
	.skel = &memleak_skel_ops,
	.hooks = memleak_hooks,
	.n_hooks = ARRAY_SIZE(memleak_hooks),
	.configure = memleak_configure,
	.attach = memleak_attach,
	.interval = memleak_interval,
	.cleanup = memleak_cleanup,
	.options = LMP_OPTIONS(struct memleak_options, memleak_options),
	/* attaches its allocator uprobes to each new process of the target every interval
	 * (perf_event_open of the uprobe PMU needs CAP_SYS_ADMIN, the link bpf()), and reads
	 * their maps and binaries as profile does */
	.caps = LMP_CAPS_UPROBES | LMP_CAPS_USER_STACKS,
	.needs = LMP_NEED_KERNEL_STACKS | LMP_NEED_USER_STACKS | LMP_NEED_UPROBES,
};

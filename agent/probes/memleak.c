// SPDX-License-Identifier: Apache-2.0
/*
 * memleak: outstanding allocations of one process (--memleak-pid) or of every process of a
 * cgroup (--memleak-cgroup, a pod's or container's), user space and kernel, by stack
 * (bpf/memleak.bpf.c). Each interval the live allocations are summed by (cgroup,
 * allocator, process, stack) and the largest are printed, symbolized.
 *
 * The libc uprobes are attached per target process: a uprobe attached for one process
 * only puts its breakpoint into that process, where one attached for "all processes"
 * would trap every malloc and free of every program using the same libc on the node. In
 * cgroup mode the member processes are rescanned every interval: new ones are attached,
 * departed ones detached.
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
#include "core/log.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "sym/stacks.h"
#include "sym/usyms.h"

LMP_DEFINE_SKEL_OPS(memleak);

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

#define N_FUNCS 9
#define MAX_TARGETS 256			 /* processes of one cgroup attached at a time */
#define MAX_BINARIES 16			 /* distinct allocator binaries (libc of each image) */
#define LMP_MEMLEAK_ATTACH_BUDGET_MS 250 /* per interval, of the loop's time */

enum prog_id {
	P_SIZE1,
	P_SIZE2,
	P_CALLOC,
	P_REALLOC,
	P_FREE,
	P_MEMALIGN,
	P_RET,
	P_RET_MEMALIGN,
	N_PROGS
};

static const struct {
	const char *name;
	enum prog_id entry;
	int ret; /* -1: no return probe */
} funcs[N_FUNCS] = {
	{ "malloc", P_SIZE1, P_RET },	     { "calloc", P_CALLOC, P_RET },
	{ "realloc", P_REALLOC, P_RET },     { "free", P_FREE, -1 },
	{ "memalign", P_SIZE2, P_RET },	     { "posix_memalign", P_MEMALIGN, P_RET_MEMALIGN },
	{ "aligned_alloc", P_SIZE2, P_RET }, { "valloc", P_SIZE1, P_RET },
	{ "pvalloc", P_SIZE1, P_RET },
};

struct binary {
	dev_t dev;
	ino_t ino;
	__u64 off[N_FUNCS]; /* 0: not in this binary, or an alias of a function before it */
	int found;
};

struct target {
	__u32 pid;
	bool seen;
	struct bpf_link *links[2 * N_FUNCS]; /* perf-event uprobes: one per function */
	size_t n;
	int fds[N_PROGS]; /* uprobe_multi links: one per program */
	size_t n_fds;
};

struct agg {
	__u64 cgroup_id;
	__u32 allocator, pid;
	__s32 stack_id;
	__u64 bytes, count, oldest_ns;
};

struct memleak_priv {
	__u32 pid;
	bool multi; /* uprobe_multi links (kernel 6.6+), else one perf-event uprobe each */
	int cg_fd;
	char cg_path[PATH_MAX];
	struct target targets[MAX_TARGETS];
	size_t n_targets;
	__u64 targets_dropped; /* processes beyond MAX_TARGETS */
	struct binary bins[MAX_BINARIES];
	size_t n_bins;
	struct lmp_stacks *stacks;
	struct lmp_memleak_key *keys;
	struct lmp_memleak_alloc *vals;
	size_t n, cap;
	struct agg *aggs;
	size_t n_aggs, cap_aggs;
	__u64 *gauge_cgroups; /* (cgroup, allocator) pairs given a gauge value last interval */
	__u32 *gauge_allocs;
	size_t n_gauges;
};

static struct bpf_program *prog_of(struct memleak_bpf *s, int id)
{
	switch (id) {
	case P_SIZE1:
		return s->progs.uprobe_size_arg1;
	case P_SIZE2:
		return s->progs.uprobe_size_arg2;
	case P_CALLOC:
		return s->progs.uprobe_calloc;
	case P_REALLOC:
		return s->progs.uprobe_realloc;
	case P_FREE:
		return s->progs.uprobe_free;
	case P_MEMALIGN:
		return s->progs.uprobe_posix_memalign;
	case P_RET:
		return s->progs.uretprobe_alloc;
	default:
		return s->progs.uretprobe_posix_memalign;
	}
}

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

/*
 * uprobe_multi links (kernel 6.6; libbpf 1.1 has no API for them, so the bpf() call is made
 * here). Why: a perf-event uprobe is torn down under the kernel's global event_mutex with a
 * tasks-trace RCU grace period inside, one after another: the 40-70 processes of a node's
 * root cgroup took 1-4 minutes to detach. A multi link covers every function of one
 * program in one process, is torn down without that mutex, and several go in parallel.
 */
#define LMP_TRACE_UPROBE_MULTI 48 /* enum bpf_attach_type, absent from older UAPI headers */
#define LMP_F_UPROBE_MULTI_RETURN 1

struct link_create_uprobe_multi { /* union bpf_attr, link_create, as of kernel 6.6 */
	__u32 prog_fd, target_fd, attach_type, flags;
	__u64 path, offsets, ref_ctr_offsets, cookies;
	__u32 cnt, multi_flags, pid;
	__u8 _zero[68]; /* the rest of the union, zero */
};

static int uprobe_multi_link(int prog_fd, const char *path, const __u64 *offs, __u32 cnt, bool ret,
			     int pid)
{
	struct link_create_uprobe_multi a = {
		.prog_fd = prog_fd,
		.attach_type = LMP_TRACE_UPROBE_MULTI,
		.path = (__u64)(unsigned long)path,
		.offsets = (__u64)(unsigned long)offs,
		.cnt = cnt,
		.multi_flags = ret ? LMP_F_UPROBE_MULTI_RETURN : 0,
		.pid = (__u32)pid,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));

	return fd < 0 ? -errno : fd;
}

/*
 * Asked once, as libbpf 1.3 does: "/" is not a regular file (EBADF where the link type
 * exists), and pid -1 is refused only by kernels whose PID filter is per process (the
 * first version filtered one thread).
 */
static bool uprobe_multi_works(void)
{
	static int works = -1;
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = LMP_TRACE_UPROBE_MULTI);
	__u64 off = 0;
	int fd, r1, r2;

	if (works >= 0)
		return works;
	works = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &o);
	if (fd < 0)
		return false;
	r1 = uprobe_multi_link(fd, "/", &off, 1, false, 0);
	r2 = uprobe_multi_link(fd, "/", &off, 1, false, -1);
	works = r1 == -EBADF && r2 == -EINVAL;
	if (r1 >= 0)
		close(r1);
	if (r2 >= 0)
		close(r2);
	close(fd);
	return works;
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
	mp->multi = uprobe_multi_works();
	for (int i = 0; mp->multi && i < N_PROGS; i++)
		bpf_program__set_expected_attach_type(prog_of(s, i), LMP_TRACE_UPROBE_MULTI);
	snprintf(p->attach, sizeof(p->attach), "user=%s%s%s", mp->multi ? "uprobe_multi" : "uprobe",
		 kernel_kind ? ",kernel=" : "", kernel_kind ? kernel_kind : "");
	return 0;
}

/* ---- user-space targets ---- */

static struct binary *binary_for(struct memleak_priv *mp, const char *path)
{
	struct binary *b;
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < mp->n_bins; i++)
		if (mp->bins[i].dev == st.st_dev && mp->bins[i].ino == st.st_ino)
			return &mp->bins[i];
	if (mp->n_bins == MAX_BINARIES)
		return NULL;
	b = &mp->bins[mp->n_bins++];
	memset(b, 0, sizeof(*b));
	b->dev = st.st_dev;
	b->ino = st.st_ino;
	for (int f = 0; f < N_FUNCS; f++) {
		if (lmp_usyms_func_offset(path, funcs[f].name, &b->off[f]) < 0) {
			b->off[f] = 0;
			continue;
		}
		/* aliases (memalign and aligned_alloc may share code): probe an address once */
		for (int g = 0; g < f; g++)
			if (b->off[g] == b->off[f])
				b->off[f] = 0;
		b->found += b->off[f] != 0;
	}
	return b;
}

/* the allocator of a process: its libc, else (static binaries) its executable */
static int allocator_path(__u32 pid, char *out, size_t len)
{
	char maps[64], *line = NULL;
	size_t cap = 0;
	int found = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -ESRCH;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		char *path = strchr(line, '/'), *base;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = 0;
		base = strrchr(path, '/') + 1;
		if (strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0 ||
		    strncmp(base, "ld-musl", 7) == 0) {
			/* through the process's root: its own image's libc, not the host's */
			snprintf(out, len, "/proc/%u/root%s", pid, path);
			found = 0;
		}
	}
	free(line);
	fclose(f);
	if (found < 0)
		snprintf(out, len, "/proc/%u/exe", pid);
	return 0;
}

static void target_detach(struct target *t)
{
	for (size_t i = 0; i < t->n; i++)
		bpf_link__destroy(t->links[i]);
	for (size_t i = 0; i < t->n_fds; i++)
		close(t->fds[i]);
	t->n = t->n_fds = 0;
}

/* one uprobe_multi link per program: its functions' offsets, entry or return */
static int target_attach_multi(struct memleak_bpf *s, struct target *t, const char *path,
			       const struct binary *b)
{
	for (int prog = 0; prog < N_PROGS; prog++) {
		__u64 offs[N_FUNCS];
		__u32 cnt = 0;
		bool ret = prog == P_RET || prog == P_RET_MEMALIGN;
		int fd;

		for (int f = 0; f < N_FUNCS; f++)
			if (b->off[f] && (ret ? funcs[f].ret : (int)funcs[f].entry) == prog)
				offs[cnt++] = b->off[f];
		if (!cnt)
			continue;
		fd = uprobe_multi_link(bpf_program__fd(prog_of(s, prog)), path, offs, cnt, ret,
				       (int)t->pid);
		if (fd < 0) {
			target_detach(t);
			return fd;
		}
		t->fds[t->n_fds++] = fd;
	}
	return 0;
}

static int target_attach(struct lmp_probe *p, struct memleak_bpf *s, struct target *t)
{
	struct memleak_priv *mp = p->priv;
	char path[PATH_MAX + 64];
	struct binary *b;
	int err;

	err = allocator_path(t->pid, path, sizeof(path));
	if (err < 0)
		return err;
	b = binary_for(mp, path);
	if (!b || !b->found)
		return -ENOENT;
	if (mp->multi)
		return target_attach_multi(s, t, path, b);
	for (int f = 0; f < N_FUNCS; f++) {
		for (int ret = 0; ret < 2 && b->off[f]; ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret == 1);
			struct bpf_link *l;

			if (ret && funcs[f].ret < 0)
				continue;
			l = bpf_program__attach_uprobe_opts(prog_of(s, ret ? funcs[f].ret :
									     (int)funcs[f].entry),
							    (pid_t)t->pid, path, b->off[f], &o);
			if (!l) {
				err = -errno;
				target_detach(t);
				return err;
			}
			t->links[t->n++] = l;
		}
	}
	return 0;
}

static void add_pids_of(struct memleak_priv *mp, const char *dir, __u32 *pids, size_t *n,
			size_t max, int depth)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	unsigned pid;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%u", &pid) == 1) {
		if (*n < max)
			pids[(*n)++] = pid;
		else
			mp->targets_dropped++;
	}
	if (f)
		fclose(f);
	if (depth > 16) /* a pod is a few levels deep; stop runaway recursion */
		return;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		add_pids_of(mp, path, pids, n, max, depth + 1);
	}
	if (d)
		closedir(d);
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the links of targets not seen, destroyed together (see agent/probe/detach.h) */
static void targets_detach_departed(struct memleak_priv *mp)
{
	size_t cap = mp->n_targets * 2 * N_FUNCS + 1, n = 0, n_fds = 0, kept = 0;
	struct bpf_link **gone = calloc(cap, sizeof(*gone));
	int *gone_fds = calloc(cap, sizeof(*gone_fds));

	for (size_t i = 0; i < mp->n_targets; i++) {
		struct target *t = &mp->targets[i];

		if (!t->seen) {
			if (gone && gone_fds) {
				memcpy(gone + n, t->links, t->n * sizeof(*gone));
				memcpy(gone_fds + n_fds, t->fds, t->n_fds * sizeof(*gone_fds));
				n += t->n;
				n_fds += t->n_fds;
				t->n = t->n_fds = 0;
			}
			target_detach(t); /* without memory: one by one */
			continue;
		}
		if (kept != i)
			mp->targets[kept] = *t;
		kept++;
	}
	mp->n_targets = kept;
	lmp_links_destroy(gone, n);
	lmp_link_fds_close(gone_fds, n_fds);
	free(gone);
	free(gone_fds);
}

/*
 * At stop, every process's links go at once: each uprobe waits for grace periods in the
 * kernel, one after another a pod of 40 processes took over a minute (docs/hardening.md).
 */
static void targets_detach_all(struct memleak_priv *mp)
{
	for (size_t i = 0; i < mp->n_targets; i++)
		mp->targets[i].seen = false;
	targets_detach_departed(mp);
}

/*
 * Attach newcomers, detach processes that left; in pid mode the one target, once. Each
 * uprobe costs the kernel an RCU grace period or two, so from the loop (budget_ms > 0)
 * attaching stops once the budget is spent and the rest wait for the next interval.
 */
static int targets_refresh(struct lmp_probe *p, struct memleak_bpf *s, long budget_ms)
{
	struct memleak_priv *mp = p->priv;
	__u32 pids[MAX_TARGETS];
	long t0 = mono_ms();
	size_t n = 0;
	int err, attached = 0, deferred = 0;

	if (mp->pid)
		pids[n++] = mp->pid;
	else
		add_pids_of(mp, mp->cg_path, pids, &n, MAX_TARGETS, 0);
	for (size_t i = 0; i < mp->n_targets; i++)
		mp->targets[i].seen = false;
	for (size_t k = 0; k < n; k++) {
		struct target *t = NULL;

		for (size_t i = 0; i < mp->n_targets && !t; i++)
			if (mp->targets[i].pid == pids[k])
				t = &mp->targets[i];
		if (t) {
			t->seen = true;
			continue;
		}
		if (mp->n_targets == MAX_TARGETS)
			break;
		if (budget_ms && mono_ms() - t0 > budget_ms) {
			deferred++;
			continue;
		}
		t = &mp->targets[mp->n_targets];
		memset(t, 0, sizeof(*t));
		t->pid = pids[k];
		err = target_attach(p, s, t);
		if (err < 0) {
			if (mp->pid) {
				snprintf(p->reason, sizeof(p->reason),
					 "--memleak-pid %u: attach to its allocator: %s", mp->pid,
					 strerror(-err));
				return err;
			}
			continue; /* gone meanwhile, or no allocator to probe: try next interval */
		}
		t->seen = true;
		mp->n_targets++;
		attached++;
	}
	targets_detach_departed(mp);
	if (attached)
		lmp_log(LMP_LOG_INFO, "probe memleak: tracing allocations of %d new process%s%s",
			attached, attached == 1 ? "" : "es",
			deferred ? ", more at the next interval" : "");
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
	return targets_refresh(p, s, 0);
}

/* ---- reporting ---- */

static void collect(void *ctx, const void *key, const void *value)
{
	struct memleak_priv *mp = ctx;

	if (mp->n == mp->cap) {
		size_t nc = mp->cap ? mp->cap * 2 : 1024;
		struct lmp_memleak_key *nk = realloc(mp->keys, nc * sizeof(*nk));
		struct lmp_memleak_alloc *nv;

		if (!nk)
			return;
		mp->keys = nk;
		nv = realloc(mp->vals, nc * sizeof(*nv));
		if (!nv)
			return;
		mp->vals = nv;
		mp->cap = nc;
	}
	memcpy(&mp->keys[mp->n], key, sizeof(*mp->keys));
	memcpy(&mp->vals[mp->n], value, sizeof(*mp->vals));
	mp->n++;
}

/* every live allocation, batched where the kernel can (one syscall per 1024 entries) */
static int read_allocs(struct memleak_priv *mp, int fd)
{
	__u32 batch = 1024, count;
	__u64 out_batch = 0;
	void *in = NULL;
	int err;

	mp->n = 0;
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		if (mp->n + batch > mp->cap) {
			size_t nc = mp->cap ? mp->cap * 2 : 4096;
			struct lmp_memleak_key *nk;
			struct lmp_memleak_alloc *nv;

			while (nc < mp->n + batch)
				nc *= 2;
			nk = realloc(mp->keys, nc * sizeof(*nk));
			if (!nk)
				return -ENOMEM;
			mp->keys = nk;
			nv = realloc(mp->vals, nc * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			mp->vals = nv;
			mp->cap = nc;
		}
		count = batch;
		err = bpf_map_lookup_batch(fd, in, &out_batch, mp->keys + mp->n, mp->vals + mp->n,
					   &count, &opts);
		if (err < 0 && errno != ENOENT) {
			if (mp->n == 0 && (errno == EINVAL || errno == ENOTSUP))
				break; /* no batch ops: walk one by one */
			return -errno;
		}
		mp->n += count;
		if (err < 0)
			return 0;
		in = &out_batch;
	}
	return lmp_map_walk(fd, sizeof(*mp->keys), sizeof(*mp->vals), false, collect, mp);
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

	for (size_t i = 0; i < mp->n; i++) {
		const struct lmp_memleak_key *k = &mp->keys[i];

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
		if (kept != i) {
			mp->keys[kept] = mp->keys[i];
			mp->vals[kept] = mp->vals[i];
		}
		kept++;
	}
	mp->n = kept;
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
	size_t k = 0;

	if (mp->cap_aggs < mp->n) {
		struct agg *na = realloc(mp->aggs, mp->n * sizeof(*na));

		if (!na)
			return -ENOMEM;
		mp->aggs = na;
		mp->cap_aggs = mp->n;
	}
	for (size_t i = 0; i < mp->n; i++) {
		const struct lmp_memleak_alloc *v = &mp->vals[i];
		bool user = v->allocator == LMP_MEMLEAK_USER;

		mp->aggs[i] = (struct agg){ v->cgroup_id, v->allocator, user ? v->pid : 0,
					    v->stack_id,  v->size,	1,
					    v->ts_ns };
	}
	if (mp->n) /* aggs is still NULL before the first allocation is seen */
		qsort(mp->aggs, mp->n, sizeof(*mp->aggs), cmp_agg);
	for (size_t i = 0; i < mp->n; i++) {
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

static void read_comm(__u32 pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (f && fgets(out, len, f))
		out[strcspn(out, "\n")] = 0;
	if (f)
		fclose(f);
}

static void print_agg(struct lmp_probe *p, struct memleak_priv *mp, int stacks_fd,
		      const struct agg *a, __u64 now, struct lmp_rt *rt)
{
	bool user = a->allocator == LMP_MEMLEAK_USER;
	__u64 ips[LMP_STACK_DEPTH];
	char comm[LMP_COMM_LEN + 1] = "";
	int n = lmp_stacks_read(stacks_fd, a->stack_id, ips);

	if (user)
		read_comm(a->pid, comm, sizeof(comm));
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

static int cmp_key_pid(const void *a, const void *b)
{
	const struct lmp_memleak_key *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void memleak_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct memleak_bpf *s = skel;
	struct memleak_priv *mp = p->priv;
	int allocs_fd = bpf_map__fd(s->maps.allocs);
	int stacks_fd[2] = { bpf_map__fd(s->maps.kstacks), bpf_map__fd(s->maps.ustacks) };
	unsigned top = rt->cfg->top ? rt->cfg->top : 10;
	struct timespec ts;
	size_t i = 0;
	__u64 now;

	if (!mp->pid && !rt->stopping)
		targets_refresh(p, s, LMP_MEMLEAK_ATTACH_BUDGET_MS);
	if (read_allocs(mp, allocs_fd) < 0)
		return;
	/* group by pid so each process is checked once; values move with their keys below */
	if (mp->n) {
		struct {
			struct lmp_memleak_key k;
			struct lmp_memleak_alloc v;
		} *pairs = malloc(mp->n * sizeof(*pairs));

		if (pairs) {
			for (size_t k = 0; k < mp->n; k++) {
				pairs[k].k = mp->keys[k];
				pairs[k].v = mp->vals[k];
			}
			qsort(pairs, mp->n, sizeof(*pairs), cmp_key_pid);
			for (size_t k = 0; k < mp->n; k++) {
				mp->keys[k] = pairs[k].k;
				mp->vals[k] = pairs[k].v;
			}
			free(pairs);
			drop_dead(mp, allocs_fd);
		}
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

static void memleak_cleanup(struct lmp_probe *p)
{
	struct memleak_priv *mp = p->priv;

	if (!mp)
		return;
	targets_detach_all(mp);
	if (mp->cg_fd >= 0)
		close(mp->cg_fd);
	lmp_stacks_free(mp->stacks);
	free(mp->keys);
	free(mp->vals);
	free(mp->aggs);
	free(mp->gauge_cgroups);
	free(mp->gauge_allocs);
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

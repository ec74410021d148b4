// SPDX-License-Identifier: Apache-2.0
/*
 * memleak's targets: the libc uprobes are attached per target process (a uprobe attached
 * for "all processes" would trap every malloc of every program sharing that libc on the
 * node). In cgroup mode the member processes are rescanned every interval: new ones are
 * attached, departed ones detached.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "probe/detach.h"
#include "probe/probe.h"
#include "probes/memleak_int.h"
#include "sym/proclib.h"

const struct memleak_func memleak_funcs[N_FUNCS] = {
	{ "malloc", P_SIZE1, P_RET },	     { "calloc", P_CALLOC, P_RET },
	{ "realloc", P_REALLOC, P_RET },     { "free", P_FREE, -1 },
	{ "memalign", P_SIZE2, P_RET },	     { "posix_memalign", P_MEMALIGN, P_RET_MEMALIGN },
	{ "aligned_alloc", P_SIZE2, P_RET }, { "valloc", P_SIZE1, P_RET },
	{ "pvalloc", P_SIZE1, P_RET },
};

/*
 * uprobe_multi links (kernel 6.6; libbpf 1.1 has no API for them, so the bpf() call is made
 * here). Why: a perf-event uprobe is torn down under the kernel's global event_mutex with a
 * tasks-trace RCU grace period inside, one after another (docs/performance.md has what
 * that cost a node's root cgroup). A multi link covers every function of one program in
 * one process, is torn down without that mutex, and several go in parallel.
 */
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
bool memleak_uprobe_multi_works(void)
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
		if (lmp_proc_lib_offset(path, memleak_funcs[f].name, &b->off[f]) < 0) {
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
	static const char *const libs[] = { "libc", "ld-musl" };
	int r = lmp_proc_lib(pid, libs, ARRAY_SIZE(libs), out, len);

	if (r == -ESRCH)
		return r;
	if (r < 0)
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
			if (b->off[f] &&
			    (ret ? memleak_funcs[f].ret : (int)memleak_funcs[f].entry) == prog)
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

			if (ret && memleak_funcs[f].ret < 0)
				continue;
			l = bpf_program__attach_uprobe_opts(
				prog_of(s,
					ret ? memleak_funcs[f].ret : (int)memleak_funcs[f].entry),
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

/* At stop, every process's links go at once: each uprobe waits for grace periods in the
 * kernel, and one after another they take minutes (docs/hardening.md). */
void memleak_targets_detach_all(struct memleak_priv *mp)
{
	for (size_t i = 0; i < mp->n_targets; i++)
		mp->targets[i].seen = false;
	targets_detach_departed(mp);
}

/* Each uprobe costs the kernel an RCU grace period or two: hence the budget from the loop. */
int memleak_targets_refresh(struct lmp_probe *p, struct memleak_bpf *s, long budget_ms)
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

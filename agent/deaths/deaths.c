// SPDX-License-Identifier: Apache-2.0
/* Container deaths: signal, OOM and exit records of one process joined into one answer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "lmp/oomkill.h"
#include "lmp/process.h"
#include "lmp/sigsnoop.h"
#include "core/config.h"
#include "deaths/deaths.h"
#include "k8s/identity.h"
#include "core/loop.h"
#include "expose/metrics.h"
#include "core/nsfilter.h"
#include "deaths/oompm.h"
#include "expose/out.h"
#include "probe/probe.h"

#define CMDLINE_LEN 160
#define NAME_LEN 254			     /* a pod name is at most 253 bytes */
#define PID_TTL_NS (3600ULL * 1000000000ULL) /* signal history older than this is dropped */
#define OOM_TTL_NS (60ULL * 1000000000ULL)   /* an OOM kill this old explains no exit */

static const struct lmp_metric_desc deaths_total = {
	"lmp_container_deaths_total",
	"Deaths of a container's processes (killed by a signal or the OOM killer, or the main "
	"process exiting), by cause: oom_kill, signal, kernel_signal, exit.",
	LMP_METRIC_COUNTER,
	"cause",
	1,
	true,
};

/* One signal generated for a process, with what was known of its sender when it came. */
struct sig_rec {
	__u64 ts_ns;
	__u64 sender_cgroup_id, target_cgroup_id;
	__u32 sig, via, sender_pid;
	__s32 code;
	char sender_comm[LMP_COMM_LEN];
	char role[32];
	char cmdline[CMDLINE_LEN];
	char ns[64], pod[NAME_LEN], container[64], cgroup[256];
};

struct pid_rec {
	__u32 pid;  /* 0: free */
	unsigned n; /* signals in sigs, oldest first */
	__u64 last_ns;
	struct sig_rec sigs[LMP_DEATHS_SIGS];
};

struct oom_rec {
	__u32 pid; /* 0: free */
	__u64 ts_ns;
	struct lmp_oomkill_event ev;
	char memcg_path[256];
	struct lmp_oompm pm;
};

/* the identity as it was when the exit arrived: runtimes remove the cgroup right after */
struct ident_copy {
	char ns[64], pod[NAME_LEN], container[64], pod_uid[40], container_id[80], cgroup[512];
};

struct pending {
	struct lmp_process_exit ev;
	__u64 arrived_ms; /* CLOCK_MONOTONIC */
	struct ident_copy id;
};

struct box {
	char ns[64], pod[NAME_LEN], container[64]; /* ns[0] == 0: free */
	char *ring[LMP_DEATHS_PER_CONTAINER];	   /* JSON documents, ring[(head - 1) % N] newest */
	__u64 ring_ts[LMP_DEATHS_PER_CONTAINER];
	unsigned head, n;
	__u64 last_ns;
};

struct exec_rec {
	__u32 pid;
	char cmdline[CMDLINE_LEN];
};

struct lmp_deaths {
	struct lmp_rt *rt;
	struct exec_rec *execs;
	struct lmp_loop *loop;
	int timer;
	struct pid_rec *pids;
	struct oom_rec *ooms;
	struct pending *pend;
	unsigned n_pend;
	struct box *boxes;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void on_timer(void *ctx)
{
	lmp_deaths_settle(ctx, LMP_DEATHS_SETTLE_MS);
}

int lmp_deaths_new(struct lmp_loop *loop, struct lmp_rt *rt, struct lmp_deaths **out)
{
	struct lmp_deaths *d = calloc(1, sizeof(*d));
	int r;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->rt = rt;
	d->loop = loop;
	d->pids = calloc(LMP_DEATHS_PIDS, sizeof(*d->pids));
	d->ooms = calloc(LMP_DEATHS_OOMS, sizeof(*d->ooms));
	d->pend = calloc(LMP_DEATHS_PENDING, sizeof(*d->pend));
	d->boxes = calloc(LMP_DEATHS_CONTAINERS, sizeof(*d->boxes));
	d->execs = calloc(LMP_DEATHS_EXECS, sizeof(*d->execs));
	if (!d->execs || !d->pids || !d->ooms || !d->pend || !d->boxes) {
		lmp_deaths_free(d);
		return -ENOMEM;
	}
	if (loop) {
		r = lmp_loop_add_timer(loop, LMP_DEATHS_SETTLE_MS / 2, true, on_timer, d);
		if (r < 0) {
			lmp_deaths_free(d);
			return r;
		}
		d->timer = r;
	}
	*out = d;
	return 0;
}

void lmp_deaths_free(struct lmp_deaths *d)
{
	if (!d)
		return;
	if (d->loop && d->timer > 0)
		lmp_loop_del_timer(d->loop, d->timer);
	for (size_t i = 0; d->boxes && i < LMP_DEATHS_CONTAINERS; i++)
		for (size_t k = 0; k < LMP_DEATHS_PER_CONTAINER; k++)
			free(d->boxes[i].ring[k]);
	free(d->boxes);
	free(d->execs);
	free(d->pend);
	free(d->ooms);
	free(d->pids);
	free(d);
}

/* ---- signal history ---- */

static struct pid_rec *pid_find(struct lmp_deaths *d, __u32 pid)
{
	for (size_t i = 0; i < LMP_DEATHS_PIDS; i++)
		if (d->pids[i].pid == pid)
			return &d->pids[i];
	return NULL;
}

/* a free slot, else the one whose last signal is oldest */
static struct pid_rec *pid_take(struct lmp_deaths *d, __u32 pid)
{
	struct pid_rec *best = &d->pids[0];

	for (size_t i = 0; i < LMP_DEATHS_PIDS; i++) {
		if (!d->pids[i].pid) {
			best = &d->pids[i];
			break;
		}
		if (d->pids[i].last_ns < best->last_ns)
			best = &d->pids[i];
	}
	memset(best, 0, sizeof(*best));
	best->pid = pid;
	return best;
}

/* signals that neither end a process by default nor are sent to end one */
static bool harmless(__u32 sig)
{
	return sig == 0 || sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT ||
	       sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static bool fault_signal(__u32 sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS;
}

/* NUL-separated argv as one line: spaces for the NULs and control characters */
static void argv_line(const char *argv, size_t n, char *buf, size_t len)
{
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, argv, n);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0' || (unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
}

void lmp_deaths_on_exec(struct lmp_deaths *d, __u32 pid, const char *argv, size_t len)
{
	struct exec_rec *x;

	if (!d)
		return;
	x = &d->execs[pid % LMP_DEATHS_EXECS];
	x->pid = pid;
	argv_line(argv, len, x->cmdline, sizeof(x->cmdline));
}

/*
 * The sender's command line: /proc/PID/cmdline now, else what its exec said. Either may
 * be missing: a process started before the agent and gone already.
 */
static void sender_cmdline(struct lmp_deaths *d, __u32 pid, char *buf, size_t len)
{
	const struct exec_rec *x = &d->execs[pid % LMP_DEATHS_EXECS];
	char raw[CMDLINE_LEN], path[32];
	ssize_t n = 0;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, raw, sizeof(raw));
		close(fd);
	}
	if (n > 0)
		argv_line(raw, n, buf, len);
	else if (x->pid == pid)
		copy_str(buf, len, x->cmdline);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* the program name: argv[0]'s base name, else the comm */
static const char *program(const char *cmdline, const char *comm, char *buf, size_t len)
{
	const char *end, *base;

	if (!*cmdline)
		return comm;
	end = strchr(cmdline, ' ');
	snprintf(buf, len, "%.*s", end ? (int)(end - cmdline) : (int)strlen(cmdline), cmdline);
	base = strrchr(buf, '/');
	return base ? base + 1 : buf;
}

/* what a sender outside every pod is, from its program name */
static const char *host_role(const char *cmdline, const char *comm, __u32 pid)
{
	static const struct {
		const char *prefix, *role;
	} known[] = {
		{ "kubelet", "kubelet" },
		{ "containerd-shim", "containerd-shim" },
		{ "runc", "runc" },
		{ "crun", "crun" },
		{ "conmon", "conmon" },
		{ "crio", "crio" },
		{ "containerd", "containerd" },
		{ "dockerd", "dockerd" },
		{ "systemd", "systemd" },
		{ "kube-proxy", "kube-proxy" },
	};
	char buf[CMDLINE_LEN];
	const char *prog = program(cmdline, comm, buf, sizeof(buf));

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (starts(prog, known[i].prefix) || starts(comm, known[i].prefix))
			return known[i].role;
	return pid == 1 ? "init" : "host";
}

void lmp_deaths_on_signal(struct lmp_deaths *d, const struct lmp_sigsnoop_event *e)
{
	struct lmp_identity id;
	struct pid_rec *pr;
	struct sig_rec *s;

	if (!d || harmless(e->sig) || !e->target_pid || e->delivery == LMP_SIG_NOT_GENERATED)
		return;
	pr = pid_find(d, e->target_pid);
	if (!pr)
		pr = pid_take(d, e->target_pid);
	if (pr->n == LMP_DEATHS_SIGS) {
		memmove(&pr->sigs[0], &pr->sigs[1], sizeof(pr->sigs[0]) * (LMP_DEATHS_SIGS - 1));
		pr->n--;
	}
	s = &pr->sigs[pr->n++];
	memset(s, 0, sizeof(*s));
	pr->last_ns = e->hdr.ts_ns;
	s->ts_ns = e->hdr.ts_ns;
	s->sig = e->sig;
	s->via = e->via;
	s->code = e->code;
	s->sender_pid = e->hdr.pid;
	s->sender_cgroup_id = e->hdr.cgroup_id;
	s->target_cgroup_id = e->target_cgroup_id;
	memcpy(s->sender_comm, e->hdr.comm, sizeof(s->sender_comm));
	s->sender_comm[sizeof(s->sender_comm) - 1] = '\0';
	if (e->via == LMP_SIG_VIA_KERNEL) {
		copy_str(s->role, sizeof(s->role), "kernel");
		return;
	}
	/* now: a sender such as `kill` or runc is gone a moment later */
	sender_cmdline(d, e->hdr.pid, s->cmdline, sizeof(s->cmdline));
	lmp_ident_lookup(d->rt->ident, e->hdr.cgroup_id, &id);
	copy_str(s->cgroup, sizeof(s->cgroup), id.cgroup);
	if (e->hdr.pid == e->target_pid) {
		copy_str(s->role, sizeof(s->role), "itself");
	} else if (e->hdr.cgroup_id == e->target_cgroup_id) {
		copy_str(s->role, sizeof(s->role), "same_container");
	} else if (id.pod) {
		copy_str(s->ns, sizeof(s->ns), id.namespace);
		copy_str(s->pod, sizeof(s->pod), id.pod);
		copy_str(s->container, sizeof(s->container), id.container);
		copy_str(s->role, sizeof(s->role), "pod");
	} else {
		copy_str(s->role, sizeof(s->role),
			 host_role(s->cmdline, s->sender_comm, e->hdr.pid));
	}
}

/* ---- OOM kills ---- */

void lmp_deaths_on_oom(struct lmp_deaths *d, const struct lmp_oomkill_event *e,
		       const char *memcg_path, const struct lmp_oompm *pm)
{
	struct oom_rec *o;

	if (!d)
		return;
	o = &d->ooms[0];
	for (size_t i = 0; i < LMP_DEATHS_OOMS; i++) {
		if (!d->ooms[i].pid) {
			o = &d->ooms[i];
			break;
		}
		if (d->ooms[i].ts_ns < o->ts_ns)
			o = &d->ooms[i];
	}
	memset(o, 0, sizeof(*o));
	o->pid = e->hdr.pid;
	o->ts_ns = e->hdr.ts_ns;
	o->ev = *e;
	copy_str(o->memcg_path, sizeof(o->memcg_path), memcg_path);
	if (pm)
		o->pm = *pm;
}

/* ---- exits ---- */

void lmp_deaths_on_exit(struct lmp_deaths *d, const struct lmp_process_exit *e)
{
	bool main_process = e->ns_level > 0 && e->ns_pid == 1;
	struct lmp_identity id;
	struct pending *p;

	if (!d)
		return;
	/* only deaths are kept: a signal, or the main process ending */
	if (!e->signal && !main_process) {
		struct pid_rec *pr = pid_find(d, e->hdr.pid);

		if (pr)
			pr->pid = 0;
		return;
	}
	lmp_ident_lookup(d->rt->ident, e->hdr.cgroup_id, &id);
	if (!id.pod || !id.namespace)
		return; /* a host process: not a container's death */
	if (d->n_pend == LMP_DEATHS_PENDING)
		lmp_deaths_settle(d, 0); /* a burst: decide now rather than lose one */
	p = &d->pend[d->n_pend++];
	p->ev = *e;
	p->arrived_ms = now_ms();
	copy_str(p->id.ns, sizeof(p->id.ns), id.namespace);
	copy_str(p->id.pod, sizeof(p->id.pod), id.pod);
	copy_str(p->id.container, sizeof(p->id.container), id.container);
	copy_str(p->id.pod_uid, sizeof(p->id.pod_uid), id.pod_uid);
	copy_str(p->id.container_id, sizeof(p->id.container_id), id.container_id);
	copy_str(p->id.cgroup, sizeof(p->id.cgroup), id.cgroup);
}

/* ---- the decision ---- */

struct verdict {
	const char *cause;
	const struct sig_rec *fatal; /* the signal that ended it, when a sender is known */
	const struct sig_rec *first; /* an earlier SIGTERM/SIGINT/SIGQUIT/SIGHUP, if any */
	const struct oom_rec *oom;
};

static void fmt_bytes(char *buf, size_t len, __u64 b)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1f GiB", b / (double)(1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
}

static const char *sig_name(__u32 sig, char *buf, size_t len)
{
	const char *n = lmp_signal_name(sig);

	if (n)
		return n;
	snprintf(buf, len, "signal %u", sig);
	return buf;
}

/* "kubelet (pid 12)", "pod default/web container nginx (sh, pid 40)", "the kernel" */
static void fmt_sender(char *buf, size_t len, const struct sig_rec *s)
{
	if (!strcmp(s->role, "kernel"))
		snprintf(buf, len, "the kernel");
	else if (!strcmp(s->role, "itself"))
		snprintf(buf, len, "the process itself");
	else if (!strcmp(s->role, "same_container"))
		snprintf(buf, len, "the container itself (%s, pid %u)", s->sender_comm,
			 s->sender_pid);
	else if (!strcmp(s->role, "pod"))
		snprintf(buf, len, "pod %s/%s (%s, pid %u)", s->ns, s->pod, s->sender_comm,
			 s->sender_pid);
	else if (!strcmp(s->role, "host"))
		snprintf(buf, len, "host process %s (pid %u)", s->sender_comm, s->sender_pid);
	else
		snprintf(buf, len, "%s (pid %u)", s->role, s->sender_pid);
}

static void decide(struct lmp_deaths *d, const struct lmp_process_exit *e, struct verdict *v)
{
	const struct pid_rec *pr = pid_find(d, e->hdr.pid);

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < LMP_DEATHS_OOMS; i++) {
		const struct oom_rec *o = &d->ooms[i];

		if (o->pid == e->hdr.pid && o->ts_ns <= e->hdr.ts_ns &&
		    e->hdr.ts_ns - o->ts_ns < OOM_TTL_NS && e->signal == SIGKILL)
			v->oom = o;
	}
	/* the newest signal of the kind that ended it, and an earlier polite one */
	for (int i = pr ? (int)pr->n - 1 : -1; i >= 0; i--) {
		const struct sig_rec *s = &pr->sigs[i];

		if (s->target_cgroup_id != e->hdr.cgroup_id || s->ts_ns > e->hdr.ts_ns ||
		    e->hdr.ts_ns - s->ts_ns > PID_TTL_NS)
			continue; /* the pid was another process's then */
		if (!v->fatal && e->signal && s->sig == e->signal)
			v->fatal = s;
		else if ((!v->fatal || s->ts_ns <= v->fatal->ts_ns) &&
			 (s->sig == SIGTERM || s->sig == SIGINT || s->sig == SIGQUIT ||
			  s->sig == SIGHUP) &&
			 s->sig != e->signal)
			v->first = s;
	}
	if (v->oom)
		v->cause = "oom_kill";
	else if (!e->signal)
		v->cause = "exit";
	else if (fault_signal(e->signal) && (!v->fatal || v->fatal->via == LMP_SIG_VIA_KERNEL ||
					     v->fatal->sender_pid == e->hdr.pid))
		v->cause = "kernel_signal";
	else
		v->cause = "signal";
}

static void summary(char *buf, size_t len, const struct lmp_process_exit *e, bool main_process,
		    const struct verdict *v)
{
	char a[400], b[400], n1[24], n2[24];
	size_t k = 0;

#define ADD(...) (k += snprintf(buf + k, k < len ? len - k : 0, __VA_ARGS__))
	buf[0] = '\0';
	if (!strcmp(v->cause, "oom_kill")) {
		const struct lmp_oomkill_event *o = &v->oom->ev;

		/* figures the kernel had at the kill: what user space reads a moment later no
		 * longer holds the victim's memory (the OOM reaper frees it at once) */
		fmt_bytes(b, sizeof(b), o->anon_rss_bytes);
		if (o->scope == LMP_OOM_SCOPE_GLOBAL) {
			ADD("OOM-killed: the node ran out of memory (victim anon %s)", b);
		} else if (o->memcg_found && o->memcg_limit_bytes != ~0ULL) {
			fmt_bytes(a, sizeof(a), o->memcg_limit_bytes);
			fmt_bytes(n2, sizeof(n2), o->memcg_usage_bytes);
			ADD("OOM-killed: %s memory limit %s reached (usage %s, victim anon %s)",
			    o->memcg_up ? "pod" : "container", a, n2, b);
		} else {
			ADD("OOM-killed (victim anon %s)", b);
		}
		ADD("; killed by the kernel");
		if (o->trigger_pid && o->trigger_pid != e->hdr.pid)
			ADD(" while %.16s (pid %u) allocated", o->trigger_comm, o->trigger_pid);
	} else if (!strcmp(v->cause, "kernel_signal")) {
		ADD("%s", sig_name(e->signal, n1, sizeof(n1)));
		if (v->fatal && v->fatal->sender_pid == e->hdr.pid &&
		    v->fatal->via != LMP_SIG_VIA_KERNEL)
			ADD(" raised by the process itself");
		else if (e->signal == SIGSEGV || e->signal == SIGBUS)
			ADD(": crashed on a bad memory access");
		else if (e->signal == SIGFPE)
			ADD(": crashed on an arithmetic fault");
		else if (e->signal == SIGILL)
			ADD(": crashed on an illegal instruction");
		else
			ADD(" from the kernel");
		if (e->core_dumped)
			ADD("; core dumped");
	} else if (!strcmp(v->cause, "signal")) {
		if (!v->fatal) {
			ADD("%s from an unknown sender", sig_name(e->signal, n1, sizeof(n1)));
		} else {
			fmt_sender(a, sizeof(a), v->fatal);
			ADD("%s from %s", sig_name(e->signal, n1, sizeof(n1)), a);
		}
		if (v->fatal && v->first) {
			fmt_sender(b, sizeof(b), v->first);
			ADD(" %.1f s after %s from %s", (v->fatal->ts_ns - v->first->ts_ns) / 1e9,
			    sig_name(v->first->sig, n2, sizeof(n2)), b);
			if (e->signal == SIGKILL)
				ADD(": grace period ran out");
		}
	} else {
		ADD("exited with code %d", e->exit_code);
		if (v->first) {
			fmt_sender(b, sizeof(b), v->first);
			ADD(", %.1f s after %s from %s", (e->hdr.ts_ns - v->first->ts_ns) / 1e9,
			    sig_name(v->first->sig, n2, sizeof(n2)), b);
		}
	}
	if (main_process)
		ADD("; the container's main process: the container stops");
	else
		ADD("; not the container's main process: the container keeps running");
#undef ADD
}

static json_t *sig_json(const struct sig_rec *s, __u64 death_ns)
{
	char n[24];
	json_t *o = json_object(), *snd = json_object();

	json_object_set_new(o, "signal", json_string(sig_name(s->sig, n, sizeof(n))));
	json_object_set_new(o, "before_death_s", json_real((death_ns - s->ts_ns) / 1e9));
	json_object_set_new(snd, "pid", json_integer(s->sender_pid));
	json_object_set_new(snd, "comm", json_string(s->sender_comm));
	json_object_set_new(snd, "role", json_string(s->role));
	if (strcmp(s->role, "kernel")) {
		json_object_set_new(snd, "cgroup_id", json_integer(s->sender_cgroup_id));
		if (*s->cgroup)
			json_object_set_new(snd, "cgroup", json_string(s->cgroup));
		json_object_set_new(snd, "cmdline", json_string(s->cmdline));
		json_object_set_new(snd, "host",
				    json_boolean(!*s->pod && strcmp(s->role, "itself") &&
						 strcmp(s->role, "same_container")));
	}
	if (*s->pod) {
		json_t *k = json_object();

		json_object_set_new(k, "namespace", json_string(s->ns));
		json_object_set_new(k, "pod", json_string(s->pod));
		if (*s->container)
			json_object_set_new(k, "container", json_string(s->container));
		json_object_set_new(snd, "k8s", k);
	}
	json_object_set_new(o, "sender", snd);
	return o;
}

static json_t *oom_json(const struct oom_rec *r)
{
	const struct lmp_oomkill_event *e = &r->ev;
	const struct lmp_oompm *pm = &r->pm;
	static const char *const scopes[] = { "unknown", "global", "memcg" };
	json_t *o = json_object();

	json_object_set_new(o, "scope", json_string(e->scope < 3 ? scopes[e->scope] : "unknown"));
	if (e->memcg_found) {
		json_object_set_new(o, "limit_bytes",
				    e->memcg_limit_bytes == ~0ULL ?
					    json_null() :
					    json_integer(e->memcg_limit_bytes));
		json_object_set_new(o, "usage_bytes", json_integer(e->memcg_usage_bytes));
		if (*r->memcg_path)
			json_object_set_new(o, "memcg_path", json_string(r->memcg_path));
	}
	json_object_set_new(o, "victim_anon_bytes", json_integer(e->anon_rss_bytes));
	json_object_set_new(
		o, "victim_rss_bytes",
		json_integer(e->anon_rss_bytes + e->file_rss_bytes + e->shmem_rss_bytes));
	json_object_set_new(o, "oom_score_adj", json_integer(e->oom_score_adj));
	if (e->trigger_pid != e->hdr.pid) {
		json_t *t = json_object();

		json_object_set_new(t, "pid", json_integer(e->trigger_pid));
		json_object_set_new(t, "comm",
				    json_stringn(e->trigger_comm,
						 strnlen(e->trigger_comm, LMP_COMM_LEN)));
		json_object_set_new(o, "trigger", t);
	}
	json_object_set_new(o, "read_after_ms", json_real(pm->read_after_ns / 1e6));
	if (pm->stat_read) {
		json_t *m = json_object();
#define V(k, f) json_object_set_new(m, k, pm->f.have ? json_integer(pm->f.v) : json_null())
		V("anon_bytes", anon);
		V("file_bytes", file);
		V("kernel_bytes", kernel);
		V("slab_bytes", slab);
		V("shmem_bytes", shmem);
		V("sock_bytes", sock);
#undef V
		json_object_set_new(o, "memory_stat", m);
	}
	return o;
}

/* the death's own fields (everything after the common ones) */
static json_t *death_json(const struct lmp_process_exit *e, bool main_process,
			  const struct verdict *v, const char *line)
{
	json_t *o = json_object(), *seq = json_array();
	char n[24];

	json_object_set_new(o, "main_process", json_boolean(main_process));
	json_object_set_new(o, "ns_pid", json_integer(e->ns_pid));
	json_object_set_new(o, "exit_code", e->signal ? json_null() : json_integer(e->exit_code));
	json_object_set_new(o, "signal",
			    e->signal ? json_string(sig_name(e->signal, n, sizeof(n))) :
					json_null());
	/* what the runtime reports as the container's exit code (137 for SIGKILL) */
	json_object_set_new(o, "status_code",
			    json_integer(e->signal ? 128 + (int)e->signal : e->exit_code));
	json_object_set_new(o, "core_dumped", json_boolean(e->core_dumped));
	json_object_set_new(o, "lifetime_s", json_real(e->lifetime_ns / 1e9));
	json_object_set_new(o, "cause", json_string(v->cause));
	if (v->fatal && strcmp(v->cause, "oom_kill")) {
		json_t *s = sig_json(v->fatal, e->hdr.ts_ns);

		json_object_set(o, "sender", json_object_get(s, "sender"));
		json_decref(s);
	}
	if (v->fatal && v->first && e->signal == SIGKILL && strcmp(v->cause, "oom_kill"))
		json_object_set_new(o, "grace_period_s",
				    json_real((v->fatal->ts_ns - v->first->ts_ns) / 1e9));
	if (v->first)
		json_array_append_new(seq, sig_json(v->first, e->hdr.ts_ns));
	if (v->fatal)
		json_array_append_new(seq, sig_json(v->fatal, e->hdr.ts_ns));
	json_object_set_new(o, "signals", seq);
	if (v->oom)
		json_object_set_new(o, "oom", oom_json(v->oom));
	json_object_set_new(o, "summary", json_string(line));
	return o;
}

/* the JSON object as lmp_out calls (numbers: integers exact, reals as reals) */
static void out_json(struct lmp_out *out, const char *key, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		lmp_out_object_begin(out, key);
		json_object_foreach(v, k, x)
			out_json(out, k, x);
		lmp_out_object_end(out);
		break;
	case JSON_ARRAY:
		lmp_out_array_begin(out, key);
		json_array_foreach(v, i, x)
			out_json(out, NULL, x);
		lmp_out_array_end(out);
		break;
	case JSON_STRING:
		lmp_out_str(out, key, json_string_value(v));
		break;
	case JSON_INTEGER:
		lmp_out_s64(out, key, json_integer_value(v));
		break;
	case JSON_REAL:
		lmp_out_double(out, key, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		lmp_out_bool(out, key, json_is_true(v));
		break;
	case JSON_NULL:
		lmp_out_null(out, key);
		break;
	}
}

static struct box *box_for(struct lmp_deaths *d, const struct lmp_identity *id)
{
	const char *c = id->container ? id->container : "";
	struct box *b = &d->boxes[0];

	for (size_t i = 0; i < LMP_DEATHS_CONTAINERS; i++) {
		struct box *x = &d->boxes[i];

		if (x->ns[0] && !strcmp(x->ns, id->namespace) && !strcmp(x->pod, id->pod) &&
		    !strcmp(x->container, c))
			return x;
	}
	for (size_t i = 0; i < LMP_DEATHS_CONTAINERS; i++) {
		if (!d->boxes[i].ns[0]) {
			b = &d->boxes[i];
			break;
		}
		if (d->boxes[i].last_ns < b->last_ns)
			b = &d->boxes[i];
	}
	for (size_t k = 0; k < LMP_DEATHS_PER_CONTAINER; k++)
		free(b->ring[k]);
	memset(b, 0, sizeof(*b));
	copy_str(b->ns, sizeof(b->ns), id->namespace);
	copy_str(b->pod, sizeof(b->pod), id->pod);
	copy_str(b->container, sizeof(b->container), c);
	return b;
}

/* keep it for the API: the common fields the event line has, then the death's own */
static void keep(struct lmp_deaths *d, const struct lmp_process_exit *e,
		 const struct lmp_identity *id, json_t *body)
{
	struct box *b = box_for(d, id);
	json_t *o = json_object(), *k = json_object();
	char ts[40];
	unsigned slot = b->head % LMP_DEATHS_PER_CONTAINER;

	lmp_out_format_ts(d->rt->out, e->hdr.ts_ns, ts);
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "pid", json_integer(e->hdr.pid));
	json_object_set_new(o, "comm",
			    json_stringn(e->hdr.comm, strnlen(e->hdr.comm, LMP_COMM_LEN)));
	json_object_set_new(o, "cgroup_id", json_integer(e->hdr.cgroup_id));
	json_object_set_new(k, "namespace", json_string(id->namespace));
	json_object_set_new(k, "pod", json_string(id->pod));
	if (id->container)
		json_object_set_new(k, "container", json_string(id->container));
	if (id->container_id)
		json_object_set_new(k, "container_id", json_string(id->container_id));
	json_object_set_new(o, "k8s", k);
	json_object_update(o, body);
	free(b->ring[slot]);
	b->ring[slot] = json_dumps(o, JSON_COMPACT);
	b->ring_ts[slot] = e->hdr.ts_ns;
	json_decref(o);
	b->head++;
	if (b->n < LMP_DEATHS_PER_CONTAINER)
		b->n++;
	b->last_ns = e->hdr.ts_ns;
}

static const char *or_null(const char *s)
{
	return *s ? s : NULL;
}

static void emit(struct lmp_deaths *d, const struct pending *pe)
{
	const struct lmp_process_exit *e = &pe->ev;
	struct lmp_rt *rt = d->rt;
	bool main_process = e->ns_level > 0 && e->ns_pid == 1;
	struct lmp_identity id = {
		.cgroup_id = e->hdr.cgroup_id,
		.cgroup = or_null(pe->id.cgroup),
		.namespace = pe->id.ns,
		.pod = pe->id.pod,
		.container = or_null(pe->id.container),
		.pod_uid = or_null(pe->id.pod_uid),
		.container_id = or_null(pe->id.container_id),
	};
	struct verdict v;
	char line[1024];
	struct pid_rec *pr;
	json_t *body;
	const char *k;
	json_t *x;

	decide(d, e, &v);
	summary(line, sizeof(line), e, main_process, &v);
	body = death_json(e, main_process, &v, line);
	if (!body)
		goto done;
	if (rt->metrics)
		lmp_metrics_add(rt->metrics, &deaths_total, &id, v.cause, 1);
	keep(d, e, &id, body);
	if (rt->out && (!rt->cfg || lmp_identity_wanted(rt->cfg->include_namespaces,
							rt->cfg->exclude_namespaces, &id))) {
		lmp_out_begin(rt->out, "container", "death", &e->hdr, &id);
		json_object_foreach(body, k, x)
			out_json(rt->out, k, x);
		lmp_out_end(rt->out);
	}
	json_decref(body);
done:
	pr = pid_find(d, e->hdr.pid);
	if (pr)
		pr->pid = 0;
}

void lmp_deaths_settle(struct lmp_deaths *d, unsigned settle_ms)
{
	__u64 now = now_ms();
	unsigned kept = 0;

	if (!d)
		return;
	for (unsigned i = 0; i < d->n_pend; i++) {
		if (settle_ms && now - d->pend[i].arrived_ms < settle_ms) {
			d->pend[kept++] = d->pend[i];
			continue;
		}
		emit(d, &d->pend[i]);
	}
	d->n_pend = kept;
}

int lmp_deaths_json(struct lmp_deaths *d, const char *ns, const char *pod, const char *container,
		    char **out, size_t *len)
{
	json_t *doc = json_object(), *arr = json_array();
	struct {
		__u64 ts;
		const char *s;
	} * all;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!doc || !arr) {
		json_decref(doc);
		json_decref(arr);
		return -ENOMEM;
	}
	for (size_t i = 0; d && i < LMP_DEATHS_CONTAINERS; i++)
		cap += d->boxes[i].ns[0] ? d->boxes[i].n : 0;
	all = calloc(cap ? cap : 1, sizeof(*all));
	for (size_t i = 0; all && d && i < LMP_DEATHS_CONTAINERS; i++) {
		const struct box *b = &d->boxes[i];

		if (!b->ns[0] || (ns && *ns && strcmp(ns, b->ns)) ||
		    (pod && *pod && strcmp(pod, b->pod)) ||
		    (container && *container && strcmp(container, b->container)))
			continue;
		for (unsigned k = 0; k < b->n; k++) {
			unsigned slot = (b->head - 1 - k) % LMP_DEATHS_PER_CONTAINER;

			if (b->ring[slot]) {
				all[n].ts = b->ring_ts[slot];
				all[n++].s = b->ring[slot];
			}
		}
	}
	/* newest first across containers (a few hundred at most: insertion sort) */
	for (size_t i = 1; all && i < n; i++) {
		for (size_t j = i; j > 0 && all[j - 1].ts < all[j].ts; j--) {
			__u64 t = all[j].ts;
			const char *str = all[j].s;

			all[j] = all[j - 1];
			all[j - 1].ts = t;
			all[j - 1].s = str;
		}
	}
	for (size_t i = 0; all && i < n; i++)
		json_array_append_new(arr, json_loads(all[i].s, 0, NULL));
	free(all);
	json_object_set_new(doc, "deaths", arr);
	*out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!*out)
		return -ENOMEM;
	*len = strlen(*out);
	return 0;
}

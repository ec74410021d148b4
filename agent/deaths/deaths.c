// SPDX-License-Identifier: Apache-2.0
/*
 * Container deaths: signal, OOM and exit records of one process joined into one answer,
 * and kept for the API. One file because all of it works on one state, struct lmp_deaths;
 * the words and JSON of a decided death are in deaths_render.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
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
#include "deaths/deaths_int.h"
#include "k8s/identity.h"
#include "base/loop.h"
#include "expose/metrics.h"
#include "k8s/nsfilter.h"
#include "deaths/oompm.h"
#include "expose/out.h"
#include "probe/probe.h"

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

/*
 * The slot for a new record among n records of size bytes at base: a free one (its
 * key_len bytes at key_off all zero), else the one with the least __u64 at ts_off.
 */
static void *free_or_oldest(void *base, size_t n, size_t size, size_t key_off, size_t key_len,
			    size_t ts_off)
{
	static const char zero[8];
	char *best = base;

	for (char *r = base; r < (char *)base + n * size; r += size) {
		__u64 ts, best_ts;

		if (!memcmp(r + key_off, zero, key_len))
			return r;
		memcpy(&ts, r + ts_off, sizeof(ts));
		memcpy(&best_ts, best + ts_off, sizeof(best_ts));
		if (ts < best_ts)
			best = r;
	}
	return best;
}

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
	struct pid_rec *best = free_or_oldest(d->pids, LMP_DEATHS_PIDS, sizeof(*best),
					      offsetof(struct pid_rec, pid), sizeof(best->pid),
					      offsetof(struct pid_rec, last_ns));

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
	o = free_or_oldest(d->ooms, LMP_DEATHS_OOMS, sizeof(*o), offsetof(struct oom_rec, pid),
			   sizeof(o->pid), offsetof(struct oom_rec, ts_ns));
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

static void decide(struct lmp_deaths *d, const struct lmp_process_exit *e,
		   struct lmp_death_verdict *v)
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

static struct box *box_for(struct lmp_deaths *d, const struct lmp_identity *id)
{
	const char *c = id->container ? id->container : "";
	struct box *b;

	for (size_t i = 0; i < LMP_DEATHS_CONTAINERS; i++) {
		struct box *x = &d->boxes[i];

		if (x->ns[0] && !strcmp(x->ns, id->namespace) && !strcmp(x->pod, id->pod) &&
		    !strcmp(x->container, c))
			return x;
	}
	b = free_or_oldest(d->boxes, LMP_DEATHS_CONTAINERS, sizeof(*b), offsetof(struct box, ns), 1,
			   offsetof(struct box, last_ns));
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
	struct lmp_death_verdict v;
	char line[1024];
	struct pid_rec *pr;
	json_t *body;
	const char *k;
	json_t *x;

	decide(d, e, &v);
	lmp_deaths_summary(line, sizeof(line), e, main_process, &v);
	body = lmp_deaths_record(e, main_process, &v, line);
	if (!body)
		goto done;
	if (rt->metrics)
		lmp_metrics_add(rt->metrics, &deaths_total, &id, v.cause, 1);
	keep(d, e, &id, body);
	if (rt->out && (!rt->cfg || lmp_identity_wanted(rt->cfg->include_namespaces,
							rt->cfg->exclude_namespaces, &id))) {
		lmp_out_begin(rt->out, "container", "death", &e->hdr, &id);
		json_object_foreach(body, k, x)
			lmp_deaths_out_json(rt->out, k, x);
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

// SPDX-License-Identifier: Apache-2.0
/*
 * The agent: owns the loop, the probes, the output, identity and metrics, and wires them:
 * ring buffers -> probe decoders -> output; interval timer -> probe map reads -> metrics.
 * A probe that cannot run is reported and skipped; the agent fails only when none runs.
 * Over 600 lines as one file: it is the wiring, every part of which starts and stops with
 * struct lmp_agent.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "core/agent.h"
#include "core/config.h"
#include "base/list.h"
#include "probe/detach.h"
#include "probe/feature.h"
#include "deaths/deaths.h"
#include "expose/http.h"
#include "k8s/cgroup.h"
#include "k8s/identity.h"
#include "k8s/kubelet.h"
#include "k8s/podlist.h"
#include "base/log.h"
#include "base/loop.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"

/*
 * Ring buffers are drained on this period; BPF wakes the agent earlier only when a ring is
 * a quarter full (bpf/lmp.bpf.h). Bounds how late a quiet event reaches stdout.
 */
#define LMP_RINGBUF_POLL_MS 50

/* series of a pod that is gone stay this long, so a last scrape still sees its totals */
#define LMP_POD_SERIES_GRACE_S 300

struct rb_ctx {
	struct lmp_agent *a;
	struct lmp_probe *p;
};

static void on_replay(void *ctx, const void *rec, size_t len);

struct lmp_agent {
	const struct lmp_config *cfg;
	struct lmp_loop *loop;
	struct lmp_rt rt;
	struct lmp_probe *probes; /* one per registry entry, same order */
	size_t n_probes, n_running;
	struct lmp_http *http;
	__u64 held_total, hold_overflow;
	__u64 hold_overflow_logged, series_dropped_logged; /* what the logs said so far */
	struct ring_buffer *rb;
	struct rb_ctx *rb_ctxs; /* one per probe; the ring buffer points into it */
	int sfd;
	int status;
	int timers[3];	 /* interval, ring-buffer poll, --duration: stopped before teardown */
	bool stopping;	 /* from the stop decision on: /healthz answers "stopping" */
	int teardown_fd; /* eventfd: the teardown thread is done */
};

static const struct lmp_metric_desc m_map_full = {
	"lmp_map_updates_failed_total",
	"In-kernel aggregation updates that failed because a map was full, by probe.",
	LMP_METRIC_COUNTER,
	"probe",
	1,
	false,
};

static const struct lmp_metric_desc m_decode_errors = {
	"lmp_events_decode_errors_total",
	"Ring-buffer records a probe could not decode (too short, unknown type), by probe.",
	LMP_METRIC_COUNTER,
	"probe",
	1,
	false,
};

static const struct lmp_metric_desc m_held = {
	"lmp_events_held_total",
	"Events held back (at most 1 s) until the kubelet listed their new pod.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	false,
};
static const struct lmp_metric_desc m_hold_overflow = {
	"lmp_events_hold_overflow_total",
	"Events of a not-yet-listed pod sent unlabelled because 4 MiB were already held.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	false,
};

int lmp_agent_check_probes(const char *list, char *err, size_t len)
{
	if (strcmp(list, "all") == 0)
		return 0;
	if (!*list) {
		snprintf(err, len,
			 "option --probes: empty list (use a comma list of names or 'all')");
		return -EINVAL;
	}
	for (const char *p = list; p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool found = false;

		for (size_t i = 0; i < lmp_registry_len && !found; i++)
			found = strlen(lmp_registry[i].name) == n &&
				strncmp(lmp_registry[i].name, p, n) == 0;
		if (!found) {
			snprintf(err, len,
				 "option --probes: unknown probe '%.*s' (see 'lmp probes')", (int)n,
				 p);
			return -EINVAL;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* the kernel's answer, unless the operator ruled the kind out with --disable-hooks */
static bool hook_usable(const struct lmp_config *cfg, const struct lmp_hook *h, const char **why)
{
	if (cfg->disable_hooks && *cfg->disable_hooks &&
	    lmp_list_selects(cfg->disable_hooks, lmp_hook_kind_name(h->kind))) {
		*why = "disabled by --disable-hooks";
		return false;
	}
	return lmp_feature_check(NULL, h, why);
}

/* a row that works is deferred while a probe with its shared alternative is selected */
static bool hook_check(void *ctx, const struct lmp_hook *h, const char **why)
{
	const struct lmp_config *cfg = ctx;

	if (!hook_usable(cfg, h, why))
		return false;
	for (size_t i = 0; h->defer_for && i < lmp_registry_len; i++) {
		const char *name = lmp_registry[i].name;

		if (lmp_list_has(h->defer_for, name) && lmp_list_selects(cfg->probes, name)) {
			*why = lmp_hook_deferred;
			return false;
		}
	}
	return true;
}

static struct lmp_probe *probes_resolve(const struct lmp_config *cfg, size_t *n)
{
	struct lmp_probe *ps = calloc(lmp_registry_len, sizeof(*ps));

	if (!ps)
		return NULL;
	for (size_t i = 0; i < lmp_registry_len; i++) {
		lmp_probe_init(&ps[i], &lmp_registry[i]);
		lmp_probe_resolve(&ps[i], hook_check, (void *)cfg);
	}
	*n = lmp_registry_len;
	return ps;
}

/* every probe's links in one pool: see agent/probe/detach.h */
static void links_destroy_parallel(struct lmp_probe *ps, size_t n)
{
	struct bpf_link **all;
	size_t total = 0, k = 0;

	for (size_t i = 0; ps && i < n; i++)
		total += ps[i].n_links;
	all = calloc(total ? total : 1, sizeof(*all));
	if (!all)
		return; /* lmp_probe_stop destroys them one by one */
	for (size_t i = 0; i < n; i++) {
		for (size_t l = 0; l < ps[i].n_links; l++) {
			all[k++] = ps[i].links[l];
			ps[i].links[l] = NULL;
		}
	}
	lmp_links_destroy(all, k);
	free(all);
}

static void probes_free(struct lmp_probe *ps, size_t n)
{
	links_destroy_parallel(ps, n);
	for (size_t i = 0; ps && i < n; i++) {
		lmp_probe_stop(&ps[i]);
		free(ps[i].chosen);
		free(ps[i].failed);
	}
	free(ps);
}

/* the probe table as JSON: `lmp probes --json` and GET /api/v1/probes */
static json_t *probes_json(const struct lmp_probe *ps, size_t n, bool counters)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		const struct lmp_probe *p = &ps[i];
		bool has_attach = p->state == LMP_PROBE_READY || p->state == LMP_PROBE_RUNNING;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "name", p->name, "state",
				      lmp_probe_state_name(p->state), "summary",
				      p->desc ? p->desc->summary : "", "attach",
				      has_attach ? p->attach : NULL, "reason",
				      p->reason[0] ? p->reason : NULL);

		if (o && p->desc) {
			json_t *hooks = json_array();

			for (size_t k = 0; k < p->desc->n_hooks; k++) {
				const struct lmp_hook *h = &p->desc->hooks[k];

				json_array_append_new(
					hooks, json_pack("{s:s, s:s, s:s?, s:b}", "group", h->group,
							 "kind", lmp_hook_kind_name(h->kind),
							 "target", h->target, "chosen",
							 p->chosen && p->chosen[k] && has_attach));
			}
			json_object_set_new(o, "hooks", hooks);
		}
		if (o && counters && p->state == LMP_PROBE_RUNNING) {
			json_object_set_new(o, "events", json_integer(p->events));
			json_object_set_new(o, "events_lost", json_integer(p->lost));
			json_object_set_new(o, "map_updates_failed", json_integer(p->map_full));
			json_object_set_new(o, "decode_errors", json_integer(p->decode_errors));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

int lmp_agent_list_probes(const struct lmp_config *cfg)
{
	struct lmp_probe *ps;
	size_t n;

	if (cfg->names) { /* for scripts that check lists against the registry (test_docs.sh) */
		for (size_t i = 0; i < lmp_registry_len; i++)
			printf("%s\n", lmp_registry[i].name);
		return LMP_EXIT_OK;
	}
	lmp_log_hook_libbpf();
	lmp_feature_init(cfg->btf_path);
	ps = probes_resolve(cfg, &n);
	if (!ps)
		return LMP_EXIT_FAILURE;
	/*
	 * "ready" is a promise that the probe loads: the verifier, not only the attach points,
	 * has the last word (a program can be refused where its hook exists). So each probe is
	 * loaded once, with the same fallbacks as at start, and unloaded again.
	 */
	for (size_t i = 0; i < n; i++)
		if (ps[i].state == LMP_PROBE_READY)
			lmp_probe_verify(&ps[i], cfg);
	if (cfg->json) {
		json_t *arr = probes_json(ps, n, false);
		char *s = json_dumps(arr, JSON_INDENT(2));

		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(arr);
	} else {
		printf("%-12s %-12s %s\n", "PROBE", "STATE", "ATTACH / REASON");
		for (size_t i = 0; i < n; i++) {
			const struct lmp_probe *p = &ps[i];

			printf("%-12s %-12s %s\n", p->name, lmp_probe_state_name(p->state),
			       p->state == LMP_PROBE_READY ? p->attach : p->reason);
		}
	}
	probes_free(ps, n);
	lmp_feature_fini();
	return LMP_EXIT_OK;
}

/*
 * Events of a cgroup that belongs to a pod the kubelet has not listed yet (a container
 * started a moment ago) are held by identity until the refresh it started answers (at most
 * 1 s, 4 MiB in all), so they go out labelled. Identity replays held records through
 * deliver() again: one still pending is held once more, never past its second.
 */
/* the record's cgroup, or the second one it names, is new and not named yet */
static bool pending(struct rb_ctx *c, const struct lmp_event_hdr *h, const void *data, size_t len)
{
	const struct lmp_probe_desc *d = c->p->desc;
	const struct lmp_event_desc *e;
	__u64 other;
	__u32 pid = 0;

	if (lmp_ident_pending_pid(c->a->rt.ident, h->cgroup_id, h->pid))
		return true;
	if (!d->events || h->type >= d->n_events)
		return false;
	e = &d->events[h->type];
	if (!e->other_cgroup || len < e->size)
		return false;
	other = e->other_cgroup(data, &pid);
	return other && lmp_ident_pending_pid(c->a->rt.ident, other, pid);
}

static void deliver(struct rb_ctx *c, const void *data, size_t len, bool replay)
{
	const struct lmp_event_hdr *h = data;

	if (!replay && c->p->desc->arrived)
		c->p->desc->arrived(c->p, data, len, &c->a->rt);
	if (len >= sizeof(*h) && pending(c, h, data, len)) {
		if (lmp_ident_hold(c->a->rt.ident, h->cgroup_id, data, len, on_replay, c) == 0) {
			c->a->held_total += !replay;
			return;
		}
		c->a->hold_overflow++;
	}
	lmp_probe_handle(c->p, data, len, &c->a->rt);
}

static void on_replay(void *ctx, const void *rec, size_t len)
{
	deliver(ctx, rec, len, true);
}

static int on_record(void *ctx, void *data, size_t len)
{
	deliver(ctx, data, len, false);
	return 0;
}

static void on_ringbuf(void *ctx, int fd, uint32_t events)
{
	struct lmp_agent *a = ctx;
	int r = ring_buffer__consume(a->rb);

	if (r < 0 && r != -EINTR)
		lmp_log_errno(LMP_LOG_WARN, r, "ring buffer consume");
}

/* records submitted without a wakeup (bpf/lmp.bpf.h lmp_event_submit) wait at most this */
static void on_ringbuf_timer(void *ctx)
{
	on_ringbuf(ctx, -1, 0);
}

static void on_idle(void *ctx)
{
	struct lmp_agent *a = ctx;
	int r = lmp_out_flush(a->rt.out);

	if (r == -EPIPE) {
		lmp_log(LMP_LOG_INFO, "stdout closed, stopping");
		a->stopping = true;
		lmp_loop_stop(a->loop);
	} else if (r < 0) {
		lmp_log_errno(LMP_LOG_WARN, r, "writing events to stdout");
	}
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct lmp_agent *a = ctx;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		lmp_log(LMP_LOG_INFO, "SIGHUP: nothing to reload, ignored");
		return;
	}
	if (a->stopping) { /* the teardown ends by itself, within the grace period */
		lmp_log(LMP_LOG_INFO, "received %s, already stopping", strsignal(si.ssi_signo));
		return;
	}
	lmp_log(LMP_LOG_INFO, "received %s, stopping", strsignal(si.ssi_signo));
	a->stopping = true;
	lmp_loop_stop(a->loop);
}

static void on_duration(void *ctx)
{
	struct lmp_agent *a = ctx;

	lmp_log(LMP_LOG_INFO, "--duration %u s reached, stopping", a->cfg->duration);
	a->stopping = true;
	lmp_loop_stop(a->loop);
}

/* "probe X: N <what> in the last interval, M in all<hint>", when the counter grew */
static void log_growth(const struct lmp_probe *p, __u64 now, __u64 *logged, const char *what,
		       const char *hint)
{
	if (now <= *logged)
		return;
	lmp_log(LMP_LOG_WARN, "probe %s: %llu %s in the last interval, %llu in all%s", p->name,
		(unsigned long long)(now - *logged), what, (unsigned long long)now, hint);
	*logged = now;
}

/* counters every probe has, and loss reported (rate-limited: once per interval) */
static void probe_accounting(struct lmp_agent *a, struct lmp_probe *p)
{
	char label[320];

	lmp_probe_read_drops(p);
	log_growth(p, p->lost, &p->lost_logged, "events lost (ring buffer full)",
		   "; consider a larger --ringbuf-kb");
	log_growth(
		p, p->map_full, &p->map_full_logged,
		"in-kernel map updates failed (map full, or in a stack map a stack-id collision)",
		"; what they held is missing from its summaries");
	log_growth(p, p->decode_errors, &p->decode_errors_logged, "records could not be decoded",
		   "");
	if (!a->rt.metrics)
		return;
	lmp_metrics_set(a->rt.metrics, &m_decode_errors, NULL, p->name, p->decode_errors);
	snprintf(label, sizeof(label), "%s", p->name);
	lmp_metrics_set(a->rt.metrics, &lmp_metric_events_total, NULL, label, p->events);
	lmp_metrics_set(a->rt.metrics, &lmp_metric_events_lost_total, NULL, label, p->lost);
	lmp_metrics_set(a->rt.metrics, &m_map_full, NULL, label, p->map_full);
}

/* lmp_probe_up{probe,attach}: 1 for running probes, 0 (attach "") for the others */
static void publish_probe_up(struct lmp_agent *a)
{
	for (size_t i = 0; a->rt.metrics && i < a->n_probes; i++) {
		const struct lmp_probe *p = &a->probes[i];
		bool up = p->state == LMP_PROBE_RUNNING;

		lmp_metrics_set2(a->rt.metrics, &lmp_metric_probe_up, NULL, p->name,
				 up ? p->attach : "", up ? 1 : 0);
	}
}

/* kubelet client and cgroup resolver health; the pods the kubelet lists keep their series */
static void publish_kubelet(struct lmp_agent *a)
{
	const struct lmp_podlist *pl = lmp_ident_podlist(a->rt.ident);
	struct lmp_kubelet_stats st;
	struct lmp_cgroup_stats cst;

	if (lmp_ident_kubelet_stats(a->rt.ident, &st) == 0)
		lmp_metrics_update_kubelet(a->rt.metrics, &st);
	if (lmp_ident_cgroup_stats(a->rt.ident, &cst) == 0)
		lmp_metrics_update_cgroup(a->rt.metrics, &cst);
	for (size_t i = 0; pl && i < pl->n_pods; i++)
		lmp_metrics_touch_pod(a->rt.metrics, pl->pods[i].namespace, pl->pods[i].name);
}

/* losses outside the probes, logged once per interval in which they grew */
static void log_other_loss(struct lmp_agent *a)
{
	__u64 dropped = lmp_metrics_dropped(a->rt.metrics);

	if (a->hold_overflow > a->hold_overflow_logged) {
		lmp_log(LMP_LOG_WARN,
			"%llu events of not-yet-listed pods went out unlabelled (hold "
			"queue full) in the last interval, %llu in all",
			(unsigned long long)(a->hold_overflow - a->hold_overflow_logged),
			(unsigned long long)a->hold_overflow);
		a->hold_overflow_logged = a->hold_overflow;
	}
	if (dropped > a->series_dropped_logged) {
		lmp_log(LMP_LOG_WARN,
			"%llu metric updates dropped (--metrics-max-series %u "
			"reached) in the last interval, %llu in all",
			(unsigned long long)(dropped - a->series_dropped_logged),
			a->cfg->metrics_max_series, (unsigned long long)dropped);
		a->series_dropped_logged = dropped;
	}
}

/* the counters docs/metrics.md lists as always present: at start (zeros) and each interval */
static void publish_counters(struct lmp_agent *a)
{
	for (size_t i = 0; i < a->n_probes; i++)
		if (a->probes[i].state == LMP_PROBE_RUNNING)
			probe_accounting(a, &a->probes[i]);
	lmp_metrics_set(a->rt.metrics, &m_held, NULL, NULL, a->held_total);
	lmp_metrics_set(a->rt.metrics, &m_hold_overflow, NULL, NULL, a->hold_overflow);
	log_other_loss(a);
	lmp_metrics_update_self(a->rt.metrics);
	publish_kubelet(a);
}

static void on_interval(void *ctx)
{
	struct lmp_agent *a = ctx;

	lmp_out_sync_clock(a->rt.out);
	for (size_t i = 0; i < a->n_probes; i++) {
		struct lmp_probe *p = &a->probes[i];

		if (p->state == LMP_PROBE_RUNNING && p->desc->interval)
			p->desc->interval(p, p->skel, &a->rt);
	}
	publish_counters(a);
	lmp_metrics_interval_mark(a->rt.metrics);
	lmp_metrics_expire(a->rt.metrics, lmp_metrics_clock(), LMP_POD_SERIES_GRACE_S);
	lmp_ident_interval(a->rt.ident, a->cfg->interval * 1000);
}

static int http_probes(void *ctx, char **out, size_t *len)
{
	struct lmp_agent *a = ctx;
	json_t *arr;

	if (a->stopping) /* the teardown thread owns the probes now (http.c answers 503) */
		return -EAGAIN;
	arr = probes_json(a->probes, a->n_probes, true);

	*out = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (!*out)
		return -ENOMEM;
	*len = strlen(*out);
	return 0;
}

static int http_deaths(void *ctx, const char *ns, const char *pod, const char *container,
		       char **out, size_t *len)
{
	struct lmp_agent *a = ctx;

	return lmp_deaths_json(a->rt.deaths, ns, pod, container, out, len);
}

static bool http_ready(void *ctx)
{
	struct lmp_agent *a = ctx;

	return !a->stopping && a->n_running > 0 && lmp_ident_ready(a->rt.ident);
}

static bool http_stopping(void *ctx)
{
	struct lmp_agent *a = ctx;

	return a->stopping;
}

/* the /readyz body's second line: what the agent waits for, or how the kubelet fares */
static void http_ready_detail(void *ctx, char *buf, size_t len)
{
	struct lmp_agent *a = ctx;
	struct lmp_kubelet_stats st;

	if (a->n_running == 0)
		snprintf(buf, len, "no probe running");
	else if (lmp_ident_kubelet_stats(a->rt.ident, &st) < 0)
		snprintf(buf, len, "kubelet: none (events carry cgroup paths only)");
	else if (st.from_apiserver)
		snprintf(buf, len, "kubelet: failing (%s): %s\npods: from the API server (%s)",
			 lmp_kubelet_err_name(st.kubelet_err), st.kubelet_msg,
			 st.last_err == LMP_KUBELET_OK ? "ok" : st.last_msg);
	else if (st.last_err != LMP_KUBELET_OK)
		snprintf(buf, len, "kubelet: failing (%s): %s", lmp_kubelet_err_name(st.last_err),
			 st.last_msg);
	else if (st.last_sync == 0)
		snprintf(buf, len, "kubelet: waiting for the first reply");
	else
		snprintf(buf, len, "kubelet: ok, %u pods", st.pods_known);
}

static int setup_http(struct lmp_agent *a)
{
	static struct lmp_http_handlers handlers;
	struct lmp_http_opts opts = { .listen = a->cfg->listen };
	int r;

	handlers = (struct lmp_http_handlers){ .probes_json = http_probes,
					       .ready = http_ready,
					       .ready_detail = http_ready_detail,
					       .deaths_json = http_deaths,
					       .stopping = http_stopping,
					       .ctx = a };
	r = lmp_http_new(a->loop, &opts, a->rt.metrics, &handlers, &a->http);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_ERROR, r, "option --listen %s: cannot serve HTTP",
			      a->cfg->listen);
		return r;
	}
	if (a->http)
		lmp_log(LMP_LOG_INFO, "serving /metrics and /api/v1 on %s (port %d)",
			a->cfg->listen, lmp_http_port(a->http));
	return 0;
}

static int setup_signals(struct lmp_agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* EPIPE from write() instead: stop cleanly */
	a->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sfd < 0)
		return -errno;
	return lmp_loop_add_fd(a->loop, a->sfd, EPOLLIN, on_signal, a);
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int start_probes(struct lmp_agent *a)
{
	long t0;
	struct rb_ctx *ctxs = calloc(a->n_probes, sizeof(*ctxs));
	int r;

	if (!ctxs)
		return -ENOMEM;
	a->rb_ctxs = ctxs;
	for (size_t i = 0; i < a->n_probes; i++) {
		struct lmp_probe *p = &a->probes[i];
		bool wanted = lmp_list_selects(a->cfg->probes, p->name);
		bool all = strcmp(a->cfg->probes, "all") == 0;

		if (!wanted) {
			p->state = LMP_PROBE_DISABLED;
			continue;
		}
		if (p->state == LMP_PROBE_UNSUPPORTED) {
			lmp_log(LMP_LOG_WARN, "probe %s: unsupported on this node: %s", p->name,
				p->reason);
			continue;
		}
		t0 = mono_ms();
		r = lmp_probe_start(p, a->cfg);
		lmp_log(LMP_LOG_DEBUG, "probe %s: start took %ld ms", p->name, mono_ms() - t0);
		if (r == -LMP_ENOTCONFIGURED) {
			lmp_log(all ? LMP_LOG_INFO : LMP_LOG_WARN, "probe %s: skipped: %s", p->name,
				p->reason);
			continue;
		}
		if (r < 0) {
			lmp_log(LMP_LOG_WARN, "probe %s: failed, skipped: %s", p->name, p->reason);
			continue;
		}
		lmp_log(LMP_LOG_INFO, "probe %s: attached (%s)", p->name, p->attach);
		a->n_running++;
		if (p->events_fd < 0 || !p->desc->events)
			continue;
		ctxs[i] = (struct rb_ctx){ a, p };
		if (!a->rb) {
			a->rb = ring_buffer__new(p->events_fd, on_record, &ctxs[i], NULL);
			r = a->rb ? 0 : -errno;
		} else {
			r = ring_buffer__add(a->rb, p->events_fd, on_record, &ctxs[i]);
		}
		if (r < 0) {
			lmp_log_errno(LMP_LOG_ERROR, r, "ring buffer for probe %s", p->name);
			return r;
		}
	}
	if (a->rb) {
		r = lmp_loop_add_fd(a->loop, ring_buffer__epoll_fd(a->rb), EPOLLIN, on_ringbuf, a);
		if (r < 0)
			return r;
	}
	return a->n_running ? 0 : -ENOENT;
}

static void *teardown_main(void *arg)
{
	struct lmp_agent *a = arg;
	__u64 one = 1;

	links_destroy_parallel(a->probes, a->n_probes);
	for (size_t i = 0; i < a->n_probes; i++)
		lmp_probe_stop(&a->probes[i]);
	if (a->teardown_fd >= 0 && write(a->teardown_fd, &one, sizeof(one)) < 0)
		lmp_log_errno(LMP_LOG_WARN, -errno, "teardown done, but the loop was not told");
	return NULL;
}

static void on_teardown_done(void *ctx, int fd, uint32_t events)
{
	struct lmp_agent *a = ctx;

	lmp_loop_stop(a->loop);
}

/*
 * Detaching takes the kernel a while (uprobes: grace periods per link), and the pod's
 * grace period keeps running meanwhile: a thread detaches while the loop goes on answering
 * HTTP, /healthz with 503 "stopping". Nothing else runs: the timers and ring buffers are
 * off the loop, and the HTTP handlers do not touch the probes while a->stopping is set.
 */
static void probes_teardown(struct lmp_agent *a)
{
	long t0 = mono_ms();
	pthread_t th;
	sigset_t all, old;
	bool threaded = false;

	for (size_t i = 0; i < ARRAY_SIZE(a->timers); i++)
		if (a->timers[i] > 0)
			lmp_loop_del_timer(a->loop, a->timers[i]);
	if (a->rb)
		lmp_loop_del_fd(a->loop, ring_buffer__epoll_fd(a->rb));
	lmp_loop_set_idle(a->loop, NULL, NULL);
	a->teardown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->http && a->teardown_fd >= 0 &&
	    lmp_loop_add_fd(a->loop, a->teardown_fd, EPOLLIN, on_teardown_done, a) == 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		threaded = pthread_create(&th, NULL, teardown_main, a) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (threaded) {
		lmp_loop_run(a->loop);
		pthread_join(th, NULL);
	} else {
		teardown_main(a); /* nobody to answer: no thread needed */
	}
	if (a->teardown_fd >= 0)
		close(a->teardown_fd);
	lmp_log(LMP_LOG_INFO, "probes detached in %ld ms", mono_ms() - t0);
}

int lmp_agent_run(const struct lmp_config *cfg)
{
	struct lmp_agent a = { .cfg = cfg, .sfd = -1, .status = LMP_EXIT_OK, .teardown_fd = -1 };
	int r;

	lmp_log_hook_libbpf();
	lmp_log(LMP_LOG_INFO, "lmp %s starting on node %s", LMP_VERSION, cfg->node_name);
	lmp_feature_init(cfg->btf_path);
	a.rt.cfg = cfg;
	if ((r = lmp_loop_new(&a.loop)) < 0 ||
	    (r = lmp_out_new(cfg->output, STDOUT_FILENO, cfg->node_name, &a.rt.out)) < 0 ||
	    (r = lmp_metrics_new(cfg->metrics_max_series, &a.rt.metrics)) < 0 ||
	    (r = setup_signals(&a)) < 0) {
		lmp_log_errno(LMP_LOG_ERROR, r, "agent set-up failed");
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	/* first: an address in use, not ours, or not local is the operator's to fix, a usage
	 * error said before anything else; libmicrohttpd refusing to start is a failure */
	r = setup_http(&a);
	if (r < 0) {
		a.status = r == -EIO || r == -ENOMEM ? LMP_EXIT_FAILURE : LMP_EXIT_USAGE;
		goto out;
	}
	lmp_metrics_set_ns_filter(a.rt.metrics, cfg->include_namespaces, cfg->exclude_namespaces);
	r = lmp_ident_new(cfg, a.loop, &a.rt.ident);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_ERROR, r, "identity resolver");
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	r = lmp_deaths_new(a.loop, &a.rt, &a.rt.deaths);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_ERROR, r, "container deaths");
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	a.probes = probes_resolve(cfg, &a.n_probes);
	if (!a.probes) {
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	/*
	 * libbpf parses the 5+ MB kernel BTF twice per object (CO-RE target, tp_btf attach
	 * ids) and frees it again. With glibc's default thresholds every parse lands in fresh
	 * mmap()ed pages, and page faults were half of start-up (docs/performance.md): keep
	 * freed memory for reuse while loading, give it back once, then bound what is kept.
	 */
	mallopt(M_MMAP_THRESHOLD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	r = start_probes(&a);
	lmp_feature_release_btf();
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 2 << 20);
	malloc_trim(0);
	publish_probe_up(&a);
	publish_counters(&a);
	if (r < 0) {
		lmp_log(LMP_LOG_ERROR, "no probe could attach; see 'lmp probes' for the reasons");
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	lmp_loop_set_idle(a.loop, on_idle, &a);
	a.timers[0] = lmp_loop_add_timer(a.loop, cfg->interval * 1000ULL, true, on_interval, &a);
	if (a.rb)
		a.timers[1] =
			lmp_loop_add_timer(a.loop, LMP_RINGBUF_POLL_MS, true, on_ringbuf_timer, &a);
	if (cfg->duration)
		a.timers[2] =
			lmp_loop_add_timer(a.loop, cfg->duration * 1000ULL, false, on_duration, &a);
	if (a.timers[0] < 0 || a.timers[1] < 0 || a.timers[2] < 0) {
		lmp_log(LMP_LOG_ERROR, "timers could not be created");
		a.status = LMP_EXIT_FAILURE;
		goto out;
	}
	lmp_ident_interval(a.rt.ident, cfg->interval * 1000);
	lmp_probes_drop_caps(cfg, a.probes, a.n_probes); /* logs what it kept */
	lmp_log(LMP_LOG_INFO, "ready: %zu probes running", a.n_running);
	r = lmp_loop_run(a.loop);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_ERROR, r, "event loop");
		a.status = LMP_EXIT_FAILURE;
	}
	/* drain what is already in the ring buffers, then a last summary */
	if (a.rb)
		ring_buffer__consume(a.rb);
	lmp_ident_flush(a.rt.ident);
	lmp_deaths_settle(a.rt.deaths, 0);
	a.rt.stopping = true;
	on_interval(&a);
	lmp_out_flush(a.rt.out);
	a.stopping = true;
	probes_teardown(&a);
out:
	lmp_http_free(a.http);
	ring_buffer__free(a.rb);
	free(a.rb_ctxs);
	probes_free(a.probes, a.n_probes);
	lmp_deaths_free(a.rt.deaths);
	lmp_ident_free(a.rt.ident);
	lmp_metrics_free(a.rt.metrics);
	lmp_out_free(a.rt.out);
	if (a.sfd >= 0)
		close(a.sfd);
	lmp_loop_free(a.loop);
	lmp_feature_fini();
	return a.status;
}

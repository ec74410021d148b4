// SPDX-License-Identifier: Apache-2.0
/*
 * Identity: cgroup id -> cgroup path (cgroup.c) -> pod UID and container ID (podpath.c,
 * parsed once per cgroup) -> namespace, pod and container names from the last kubelet
 * reply (kubelet.c, podlist.c).
 *
 * A lookup on a hit is one cache probe plus, when a new kubelet reply arrived since this
 * cgroup was last joined against it, two hash probes; the join is memoised in the cgroup
 * entry with the reply's generation. When the kubelet fails, the last good reply stays in
 * use (pods that existed keep their names) and the cause is logged once per change.
 *
 * Nothing here waits on the loop's thread. A cgroup the background walker has yet to name
 * answers "pending" (streamed events are held, see lmp_ident_hold); summaries report such
 * a row with its cgroup id only, and a walk of the tree just before each interval
 * (lmp_ident_interval) names the cgroups made before it, so that is rare.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/vfs.h>

#include "k8s/cgroup.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "k8s/kubelet.h"
#include "base/log.h"
#include "base/loop.h"
#include "k8s/podlist.h"

#define CGROUP_CACHE_MAX 16384 /* cgroups on a busy node: a few thousand */
#define PRUNE_MS 30000
#define HOLD_MS 1000		  /* longest an event may wait for a refresh */
#define REFRESH_LEAD_MS 1000	  /* walk the tree this long before a summary (at most) */
#define MAX_MISS_REFRESHES 3	  /* per unknown cgroup; then it waits for the periodic refresh */
#define HOLD_MAX_BYTES (4u << 20) /* events held at once, copies included */
#define HOLD_TICK_MS 100

struct held {
	struct held *next;
	__u64 cgroup_id;
	lmp_ident_replay_fn fn;
	void *ctx;
	size_t len;
	unsigned char rec[];
};

struct lmp_ident {
	struct lmp_loop *loop;
	struct lmp_cgroup *cg;	  /* NULL: no cgroup v2 hierarchy */
	struct lmp_kubelet *kc;	  /* NULL: outside Kubernetes */
	struct lmp_podlist *pods; /* last good reply */
	uint64_t gen;		  /* bumped with every new reply */
	uint64_t syncs;		  /* requests finished, good or not */
	int prune_timer;
	enum lmp_kubelet_err logged_err;
	uint64_t fails_since_ok;
	void (*on_sync)(void *ctx);
	void *on_sync_ctx;
	/* events held for a refresh, in arrival order */
	struct held *held, **held_tail;
	size_t held_bytes;
	int hold_timer;
	int refresh_timer;
	int walk_fd;   /* lmp_cgroup_async's eventfd on the loop, -1: none */
	bool flushing; /* replaying unconditionally: nothing is pending */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * Replay the held events whose cgroup is no longer pending, in order; those still pending
 * stay where they are (with many held, copying them again on every tick is what costs).
 * A replayed event that is pending once more holds itself again at the tail.
 */
static void replay_held(struct lmp_ident *ic)
{
	struct held *h = ic->held, *next, *keep = NULL, **keep_tail = &keep;
	size_t kept = 0;

	if (ic->cg) /* a walk that came in: one answer for every held event of a cgroup */
		lmp_cgroup_adopt(ic->cg);
	ic->held = NULL;
	ic->held_tail = &ic->held;
	ic->held_bytes = 0;
	for (; h; h = next) {
		next = h->next;
		if (lmp_ident_pending(ic, h->cgroup_id)) {
			h->next = NULL;
			*keep_tail = h;
			keep_tail = &h->next;
			kept += h->len + sizeof(*h);
			continue;
		}
		h->fn(h->ctx, h->rec, h->len);
		free(h);
	}
	/* what was kept goes first: it is older than anything held again meanwhile */
	if (keep) {
		*keep_tail = ic->held;
		if (!ic->held)
			ic->held_tail = keep_tail;
		ic->held = keep;
		ic->held_bytes += kept;
	}
	if (!ic->held && ic->hold_timer > 0)
		lmp_loop_set_timer(ic->loop, ic->hold_timer, 0, false);
}

static void on_hold_tick(void *ctx)
{
	replay_held(ctx);
}

/* A background cgroup walk finished: take its index, retry what waited for it. */
static void on_walk(void *ctx, int fd, uint32_t events)
{
	struct lmp_ident *ic = ctx;

	(void)fd;
	(void)events;
	lmp_cgroup_adopt(ic->cg);
	if (ic->held)
		replay_held(ic);
}

static void on_kubelet(void *ctx, struct lmp_podlist *pl, enum lmp_kubelet_err err, const char *msg)
{
	struct lmp_ident *ic = ctx;
	struct lmp_kubelet_stats st;

	ic->syncs++;
	lmp_kubelet_stats(ic->kc, &st);
	if (st.source_changed && st.from_apiserver)
		lmp_log(LMP_LOG_WARN,
			"pods: from the API server (%s) while the kubelet cannot be "
			"used: %s",
			lmp_kubelet_apiserver_url(ic->kc), st.kubelet_msg);
	else if (st.source_changed)
		lmp_log(LMP_LOG_INFO, "pods: from the kubelet again");
	if (err == LMP_KUBELET_OK) {
		if (!ic->pods)
			lmp_log(LMP_LOG_INFO, "kubelet: %zu pods, %u containers on this node",
				pl->n_pods, st.containers_known);
		else if (ic->logged_err != LMP_KUBELET_OK)
			lmp_log(LMP_LOG_INFO,
				"kubelet: recovered after %llu failed requests, %zu pods",
				(unsigned long long)ic->fails_since_ok, pl->n_pods);
		lmp_podlist_free(ic->pods);
		ic->pods = pl;
		ic->gen++;
		ic->fails_since_ok = 0;
		ic->logged_err = LMP_KUBELET_OK;
	} else {
		ic->fails_since_ok++;
		/* once per change of cause (and every 10 min while it lasts), never per event */
		if (st.report)
			lmp_log(LMP_LOG_WARN,
				"kubelet /pods failed (%s): %s; retrying with back-off, events "
				"keep cgroup-level identity%s",
				lmp_kubelet_err_name(err), msg,
				ic->pods ? " and the pods of the last good reply" : "");
		ic->logged_err = err;
	}
	if (ic->held)
		replay_held(ic);
	if (ic->on_sync)
		ic->on_sync(ic->on_sync_ctx);
}

static void on_prune(void *ctx)
{
	struct lmp_ident *ic = ctx;

	lmp_cgroup_prune(ic->cg);
}

static void on_refresh(void *ctx)
{
	struct lmp_ident *ic = ctx;

	lmp_cgroup_refresh(ic->cg);
}

void lmp_ident_interval(struct lmp_ident *ic, unsigned interval_ms)
{
	/* a whole walk of a large node takes a good part of a second (docs/performance.md) */
	unsigned lead = interval_ms / 2 < REFRESH_LEAD_MS ? interval_ms / 2 : REFRESH_LEAD_MS;

	if (!ic || !ic->cg || !interval_ms)
		return;
	if (ic->refresh_timer < 0)
		ic->refresh_timer = lmp_loop_add_timer(ic->loop, 0, false, on_refresh, ic);
	if (ic->refresh_timer > 0)
		lmp_loop_set_timer(ic->loop, ic->refresh_timer, interval_ms - lead, false);
}

/* Join a cgroup entry with the current reply, unless already done for this reply. */
static void join(struct lmp_ident *ic, struct lmp_cgroup_entry *e)
{
	const struct lmp_pod *p;
	const struct lmp_pod_ctr *c;

	if (e->memo_gen == ic->gen)
		return;
	e->memo_gen = ic->gen;
	e->memo_pod = e->memo_ctr = -1;
	if (!ic->pods)
		return;
	p = lmp_podlist_find_pod(ic->pods, e->pp.pod_uid);
	c = lmp_podlist_find_ctr(ic->pods, e->pp.container_id);
	/* the container ID is the stronger key: it also names its pod */
	if (c && (!p || &ic->pods->pods[c->pod] == p)) {
		e->memo_ctr = c - ic->pods->ctrs;
		e->memo_pod = c->pod;
	} else if (p) {
		e->memo_pod = p - ic->pods->pods;
	}
}

static bool known(const struct lmp_cgroup_entry *e)
{
	return e->memo_pod >= 0 && (!e->pp.container_id[0] || e->memo_ctr >= 0);
}

/*
 * An unknown pod or container: ask the kubelet again, at most MAX_MISS_REFRESHES times per
 * cgroup (a leftover cgroup of a deleted pod must not keep the kubelet busy). Returns
 * whether a refresh that may still name it is in flight or imminent.
 */
static bool ask(struct lmp_ident *ic, struct lmp_cgroup_entry *e)
{
	if (!e->miss_refreshes || e->miss_sync != ic->syncs) {
		if (e->miss_refreshes >= MAX_MISS_REFRESHES)
			return false;
		e->miss_refreshes++;
		e->miss_sync = ic->syncs;
	}
	return lmp_kubelet_refresh(ic->kc, true);
}

void lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out)
{
	lmp_ident_lookup_pid(ic, cgroup_id, 0, out);
}

void lmp_ident_lookup_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid,
			  struct lmp_identity *out)
{
	struct lmp_cgroup_entry *e;

	memset(out, 0, sizeof(*out));
	out->cgroup_id = cgroup_id;
	/* never a wait: gone or not yet named (pending), the caller reports the id alone */
	if (!ic || !ic->cg || !(e = lmp_cgroup_get_pid(ic->cg, cgroup_id, pid)))
		return;
	out->cgroup = e->path;
	if (!e->pp.pod_uid[0])
		return;
	out->pod_uid = e->pp.pod_uid;
	out->container_id = e->pp.container_id[0] ? e->pp.container_id : NULL;
	if (!ic->kc)
		return;
	join(ic, e);
	if (e->memo_pod >= 0) {
		const struct lmp_pod *p = &ic->pods->pods[e->memo_pod];

		out->namespace = p->namespace;
		out->pod = p->name;
		out->pod_uid = p->uid;
	}
	if (e->memo_ctr >= 0)
		out->container = ic->pods->ctrs[e->memo_ctr].name;
	if (!known(e)) {
		if (!e->first_miss_ms)
			e->first_miss_ms = mono_ms();
		ask(ic, e);
	}
}

bool lmp_ident_pending(struct lmp_ident *ic, __u64 cgroup_id)
{
	return lmp_ident_pending_pid(ic, cgroup_id, 0);
}

bool lmp_ident_pending_pid(struct lmp_ident *ic, __u64 cgroup_id, __u32 pid)
{
	struct lmp_cgroup_entry *e;
	uint64_t now;

	if (!ic || !ic->cg || ic->flushing)
		return false;
	/* a cgroup the background walker has yet to name (on_walk replays) */
	if (!(e = lmp_cgroup_get_pid(ic->cg, cgroup_id, pid)))
		return lmp_cgroup_pending(ic->cg, cgroup_id);
	if (!ic->kc || !e->pp.pod_uid[0])
		return false;
	join(ic, e);
	if (known(e))
		return false;
	now = mono_ms();
	if (!e->first_miss_ms)
		e->first_miss_ms = now;
	if (now - e->first_miss_ms >= HOLD_MS)
		return false;
	return ask(ic, e);
}

int lmp_ident_hold(struct lmp_ident *ic, __u64 cgroup_id, const void *rec, size_t len,
		   lmp_ident_replay_fn fn, void *ctx)
{
	struct held *h;

	if (!ic || !fn || ic->held_bytes + len + sizeof(*h) > HOLD_MAX_BYTES)
		return -ENOSPC;
	if (ic->hold_timer < 0) {
		ic->hold_timer = lmp_loop_add_timer(ic->loop, 0, false, on_hold_tick, ic);
		if (ic->hold_timer < 0)
			return ic->hold_timer;
	}
	h = malloc(sizeof(*h) + len);
	if (!h)
		return -ENOMEM;
	*h = (struct held){ .cgroup_id = cgroup_id, .fn = fn, .ctx = ctx, .len = len };
	memcpy(h->rec, rec, len);
	if (!ic->held)
		lmp_loop_set_timer(ic->loop, ic->hold_timer, HOLD_TICK_MS, true);
	*ic->held_tail = h;
	ic->held_tail = &h->next;
	ic->held_bytes += len + sizeof(*h);
	return 0;
}

void lmp_ident_flush(struct lmp_ident *ic)
{
	if (!ic)
		return;
	ic->flushing = true;
	replay_held(ic);
	ic->flushing = false;
}

bool lmp_ident_ready(struct lmp_ident *ic)
{
	return ic && (!ic->kc || ic->pods);
}

void lmp_ident_on_sync(struct lmp_ident *ic, void (*fn)(void *ctx), void *ctx)
{
	ic->on_sync = fn;
	ic->on_sync_ctx = ctx;
}

const struct lmp_podlist *lmp_ident_podlist(const struct lmp_ident *ic)
{
	return ic ? ic->pods : NULL;
}

int lmp_ident_cgroup_stats(const struct lmp_ident *ic, struct lmp_cgroup_stats *out)
{
	if (!ic || !ic->cg)
		return -ENOENT;
	lmp_cgroup_stats(ic->cg, out);
	return 0;
}

int lmp_ident_kubelet_stats(const struct lmp_ident *ic, struct lmp_kubelet_stats *out)
{
	if (!ic || !ic->kc)
		return -ENOENT;
	lmp_kubelet_stats(ic->kc, out);
	return 0;
}

/* --kubelet-url, else https://$NODE_IP:10250/pods (downward API status.hostIP), else none */
static int kubelet_url(const struct lmp_config *cfg, char *buf, size_t len)
{
	const char *ip = getenv("NODE_IP");

	if (cfg->kubelet_url && *cfg->kubelet_url)
		return snprintf(buf, len, "%s", cfg->kubelet_url) < (int)len ? 1 : -ENAMETOOLONG;
	if (!ip || !*ip)
		return 0;
	return snprintf(buf, len,
			strchr(ip, ':') ? "https://[%s]:10250/pods" : "https://%s:10250/pods",
			ip) < (int)len ?
		       1 :
		       -ENAMETOOLONG;
}

static int start_kubelet(struct lmp_ident *ic, const struct lmp_config *cfg, const char *url)
{
	unsigned refresh_ms = (cfg->kubelet_refresh ? cfg->kubelet_refresh : 30) * 1000;
	/* a request never outlasts half a refresh period, nor 10 s */
	unsigned timeout_ms = refresh_ms / 2 < 1000  ? 1000 :
			      refresh_ms / 2 > 10000 ? 10000 :
						       refresh_ms / 2;
	struct lmp_kubelet_opts o = {
		.url = url,
		.token_file = cfg->kubelet_token_file,
		.ca_file = cfg->kubelet_ca_file,
		.insecure_skip_verify = cfg->kubelet_insecure_skip_verify,
		.refresh_ms = refresh_ms,
		.connect_timeout_ms = timeout_ms < 3000 ? timeout_ms : 3000,
		.timeout_ms = timeout_ms,
		.node_name = cfg->node_name,
		.apiserver_ca_file = cfg->apiserver_ca_file,
	};
	char api[256];

	if (cfg->apiserver_fallback && lmp_kubelet_apiserver_from_env(api, sizeof(api)) == 1)
		o.apiserver_url = api;

	if (cfg->kubelet_insecure_skip_verify)
		lmp_log(LMP_LOG_WARN, "kubelet: TLS certificate verification is OFF "
				      "(--kubelet-insecure-skip-verify): anyone on the path can "
				      "impersonate the kubelet and read the token");
	if (!strncmp(url, "http://", 7) && cfg->kubelet_token_file && *cfg->kubelet_token_file)
		lmp_log(LMP_LOG_WARN,
			"kubelet: %s is plain HTTP: the bearer token from %s "
			"travels unencrypted",
			url, cfg->kubelet_token_file);
	lmp_log(LMP_LOG_INFO, "kubelet: %s, refresh every %u s", url, refresh_ms / 1000);
	return lmp_kubelet_new(&o, ic->loop, on_kubelet, ic, &ic->kc);
}

int lmp_ident_new(const struct lmp_config *cfg, struct lmp_loop *loop, struct lmp_ident **out)
{
	struct lmp_ident *ic = calloc(1, sizeof(*ic));
	char url[1024];
	int r;

	if (!ic)
		return -ENOMEM;
	ic->loop = loop;
	ic->gen = 1;
	ic->prune_timer = ic->hold_timer = ic->refresh_timer = ic->walk_fd = -1;
	ic->held_tail = &ic->held;
	/* without a v2 hierarchy events still flow, with cgroup ids only */
	r = lmp_cgroup_new(cfg->cgroup_root, CGROUP_CACHE_MAX, &ic->cg);
	if (r == -ENOMEM)
		goto fail;
	if (r < 0) {
		/* BPF reports cgroup v2 ids: with no v2 tree mounted (a cgroup v1-only host)
		 * every process sits in the v2 root and every event says cgroup_id 1 */
		lmp_log_errno(LMP_LOG_WARN, r,
			      "no cgroup v2 hierarchy%s%s: events carry cgroup ids "
			      "only, no cgroup path, no pod identity (on a cgroup v1-only host "
			      "every event has the v2 root's id 1)",
			      cfg->cgroup_root && *cfg->cgroup_root ? " at " : "",
			      cfg->cgroup_root ? cfg->cgroup_root : "");
		ic->cg = NULL;
	} else {
		struct statfs sfs;

		/* a v1 controller or a plain directory is walked like the v2 tree, but the v2
		 * ids BPF reports are not the inodes found there */
		if (cfg->cgroup_root && *cfg->cgroup_root &&
		    (statfs(cfg->cgroup_root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC))
			lmp_log(LMP_LOG_WARN,
				"--cgroup-root %s is not a cgroup v2 mount: events "
				"will carry cgroup ids without paths or pod identity",
				cfg->cgroup_root);
		ic->prune_timer = lmp_loop_add_timer(loop, PRUNE_MS, true, on_prune, ic);
		if (ic->prune_timer < 0) {
			r = ic->prune_timer;
			goto fail;
		}
		/* where cgroups must be found by walking the tree (no CAP_DAC_READ_SEARCH, the
		 * DaemonSet's case), the walks run beside the loop, never inside it */
		ic->walk_fd = lmp_cgroup_async(ic->cg);
		if (ic->walk_fd >= 0 &&
		    lmp_loop_add_fd(loop, ic->walk_fd, EPOLLIN, on_walk, ic) < 0)
			ic->walk_fd = -1;
		if (ic->walk_fd < 0)
			lmp_log(LMP_LOG_WARN, "cgroup: no background walker; a tree walk, where "
					      "needed, runs on the event loop");
	}
	r = kubelet_url(cfg, url, sizeof(url));
	if (r < 0)
		goto fail;
	if (r == 0) {
		lmp_log(LMP_LOG_INFO, "no kubelet (--kubelet-url and NODE_IP unset): events carry "
				      "cgroup paths only");
	} else {
		r = start_kubelet(ic, cfg, url);
		if (r < 0)
			goto fail;
	}
	*out = ic;
	return 0;
fail:
	lmp_ident_free(ic);
	return r;
}

void lmp_ident_free(struct lmp_ident *ic)
{
	if (!ic)
		return;
	lmp_kubelet_free(ic->kc);
	if (ic->prune_timer > 0)
		lmp_loop_del_timer(ic->loop, ic->prune_timer);
	if (ic->hold_timer > 0)
		lmp_loop_del_timer(ic->loop, ic->hold_timer);
	if (ic->refresh_timer > 0)
		lmp_loop_del_timer(ic->loop, ic->refresh_timer);
	if (ic->walk_fd >= 0)
		lmp_loop_del_fd(ic->loop, ic->walk_fd);
	for (struct held *h = ic->held, *next; h; h = next) {
		next = h->next;
		free(h);
	}
	lmp_cgroup_free(ic->cg);
	lmp_podlist_free(ic->pods);
	free(ic);
}

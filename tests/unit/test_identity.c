// SPDX-License-Identifier: Apache-2.0
/*
 * agent/k8s/identity.c as the agent uses it, on the agent's loop, against real kubepods-style
 * cgroups in this host's v2 tree (root) and tests/lib/fake_kubelet: outside Kubernetes,
 * the NODE_IP default URL, the join with the kubelet reply, the hold-briefly contract of
 * lmp_ident_pending for a pod the kubelet does not list yet, and its bounds; without file
 * handles (the DaemonSet's case), lookups that never wait: a cgroup not named yet, a cgroup
 * gone before it was named (the negative cache), events held until the walker names them,
 * and the walk before each interval that names new cgroups for the summaries.
 *
 * One file over 600 lines: every case shares the loop, cgroup and fake-kubelet set-up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "fixtures.h"
#include "k8s/cgroup.h"
#include "core/config.h"
#include "fake_kubelet.h"
#include "k8s/identity.h"
#include "k8s/kubelet.h"
#include "base/loop.h"

#define UID_A "394f0746-6390-45cd-bf37-db389c0c7d1e"
#define CID_A "7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8"
#define UID_NEW "0e886e9a-3879-45f9-b44d-86ef9df03224"
#define CID_NEW "244a65edefdffe31685c42317c9054e71dc1193048cf9459e2a4dd35cbc1dba4"

struct t {
	char dir[64], token_file[96], base[512];
	struct fake_kubelet *fk;
	struct lmp_loop *loop;
	struct lmp_ident *ic;
	struct lmp_config cfg;
	int deadline, syncs;
	__u64 id_a, id_new, id_plain;
};

static const char *fixture(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	return p;
}

static int mkcg(struct t *t, const char *rel, __u64 *id)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", t->base, rel);
	for (char *s = p + strlen(t->base); (s = strchr(s + 1, '/'));) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return lmp_cgroup_id_of(p, id);
}

static void on_sync(void *ctx)
{
	struct t *t = ctx;

	t->syncs++;
	lmp_loop_stop(t->loop);
}

static void on_deadline(void *ctx)
{
	lmp_loop_stop(((struct t *)ctx)->loop);
}

static bool wait_sync(struct t *t, unsigned ms)
{
	int before = t->syncs;

	lmp_loop_set_timer(t->loop, t->deadline, ms, false);
	lmp_loop_run(t->loop);
	lmp_loop_set_timer(t->loop, t->deadline, 0, false);
	return t->syncs > before;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char root[256];
	FILE *f;

	if (geteuid() != 0) {
		fprintf(stderr, "test_identity: needs root to create cgroups in the v2 tree\n");
		return -1;
	}
	strcpy(t->dir, "/tmp/lmp-test-ident-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->token_file, sizeof(t->token_file), "%s/token", t->dir);
	f = fopen(t->token_file, "w");
	fputs("tok\n", f);
	fclose(f);
	{
		struct lmp_cgroup *cg;

		if (lmp_cgroup_new(NULL, 0, &cg) < 0)
			return -1;
		snprintf(root, sizeof(root), "%s", lmp_cgroup_root(cg));
		lmp_cgroup_free(cg);
	}
	snprintf(t->base, sizeof(t->base), "%s/lmp-test-ident-%d", root, getpid());
	if (mkdir(t->base, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "test_identity: mkdir %s: %s\n", t->base, strerror(errno));
		return -1;
	}
	if (mkcg(t,
		 "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
		 "394f0746_6390_45cd_bf37_db389c0c7d1e.slice/cri-containerd-" CID_A ".scope",
		 &t->id_a) < 0 ||
	    mkcg(t, "kubepods/besteffort/pod" UID_NEW "/" CID_NEW, &t->id_new) < 0 ||
	    mkcg(t, "system.slice/cron.service", &t->id_plain) < 0)
		return -1;
	if (lmp_loop_new(&t->loop) < 0)
		return -1;
	t->deadline = lmp_loop_add_timer(t->loop, 0, false, on_deadline, t);
	t->cfg = (struct lmp_config){
		.kubelet_url = "",
		.kubelet_token_file = t->token_file,
		.kubelet_ca_file = "",
		.kubelet_refresh = 60,
		.cgroup_root = "",
	};
	unsetenv("NODE_IP");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[1200];

	lmp_ident_free(t->ic);
	lmp_loop_free(t->loop);
	fake_kubelet_free(t->fk);
	snprintf(cmd, sizeof(cmd),
		 "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null; rm -rf '%s'", t->base,
		 t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", t->base);
	free(t);
	return 0;
}

static int start_kubelet(struct t *t, uint16_t port)
{
	if (fake_kubelet_start(t->dir, port, &t->fk) < 0)
		return -1;
	fake_kubelet_set_token(t->fk, "tok");
	t->cfg.kubelet_ca_file = (char *)fake_kubelet_ca_file(t->fk);
	return fake_kubelet_set_body_file(t->fk, fixture("nri-kubernetes_k8s-1_22_pods.json"));
}

static void test_ident_outside_kubernetes(void **state)
{
	struct t *t = *state;
	struct lmp_kubelet_stats ks;
	struct lmp_identity id;

	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	assert_true(lmp_ident_ready(t->ic));
	assert_int_equal(lmp_ident_kubelet_stats(t->ic, &ks), -ENOENT);
	lmp_ident_lookup(t->ic, t->id_a, &id);
	assert_int_equal(id.cgroup_id, t->id_a);
	assert_non_null(strstr(id.cgroup, "cri-containerd-" CID_A ".scope"));
	/* what the path says is kept; names need the kubelet */
	assert_string_equal(id.pod_uid, UID_A);
	assert_string_equal(id.container_id, CID_A);
	assert_null(id.namespace);
	assert_null(id.pod);
	assert_false(lmp_ident_pending(t->ic, t->id_a));
	/* not a pod, and not a cgroup at all */
	lmp_ident_lookup(t->ic, t->id_plain, &id);
	assert_non_null(strstr(id.cgroup, "/system.slice/cron.service"));
	assert_null(id.pod_uid);
	lmp_ident_lookup(t->ic, 0xfff0000000000001ULL, &id);
	assert_null(id.cgroup);
	lmp_ident_lookup(NULL, 1, &id);
	assert_null(id.cgroup);
}

/* In a pod: NODE_IP from the downward API makes the URL; here the fake kubelet sits on
 * 127.0.0.1:10250 so that default is exercised as is. */
static void test_ident_node_ip_default_url_and_join(void **state)
{
	struct t *t = *state;
	struct lmp_kubelet_stats ks;
	struct lmp_identity id;

	assert_int_equal(start_kubelet(t, 10250), 0);
	setenv("NODE_IP", "127.0.0.1", 1);
	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	unsetenv("NODE_IP");
	lmp_ident_on_sync(t->ic, on_sync, t);
	assert_false(lmp_ident_ready(t->ic)); /* not before the first sync */
	assert_true(wait_sync(t, 5000));
	assert_true(lmp_ident_ready(t->ic));
	assert_int_equal(lmp_ident_kubelet_stats(t->ic, &ks), 0);
	assert_int_equal(ks.requests_ok, 1);
	assert_int_equal(ks.pods_known, 25);
	lmp_ident_lookup(t->ic, t->id_a, &id);
	assert_string_equal(id.namespace, "kube-system");
	assert_string_equal(id.pod, "storage-provisioner");
	assert_string_equal(id.container, "storage-provisioner");
	assert_string_equal(id.pod_uid, UID_A);
	assert_string_equal(id.container_id, CID_A);
	assert_false(lmp_ident_pending(t->ic, t->id_a));
	assert_false(lmp_ident_pending(t->ic, t->id_plain));
}

/* identity from a fake kubelet serving the fixture, after its first sync */
static void ident_synced(struct t *t)
{
	assert_int_equal(start_kubelet(t, 0), 0);
	t->cfg.kubelet_url = (char *)fake_kubelet_url(t->fk);
	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	lmp_ident_on_sync(t->ic, on_sync, t);
	assert_true(wait_sync(t, 5000));
}

static void test_ident_new_pod_pending_until_the_refresh(void **state)
{
	struct t *t = *state;
	struct lmp_identity id;
	char *body;
	size_t len;
	FILE *f;

	ident_synced(t);
	/* the kubelet starts listing a new pod; the agent's last reply does not have it */
	f = fopen(fixture("nri-kubernetes_k8s-1_22_pods.json"), "r");
	assert_non_null(f);
	body = malloc(1 << 20);
	len = fread(body, 1, 1 << 20, f);
	fclose(f);
	{
		/* insert one pod at the head of items[] */
		static const char pod[] =
			"{\"metadata\":{\"namespace\":\"prod\",\"name\":\"api-7\",\"uid\":\"" UID_NEW
			"\"},\"status\":{\"qosClass\":\"BestEffort\",\"containerStatuses\":[{"
			"\"name\":\"api\",\"containerID\":\"docker://" CID_NEW "\"}]}},";
		char *items = strstr(body, "\"items\"");
		char *br = items ? strchr(items, '[') : NULL;
		char *nb = malloc(len + sizeof(pod) + 1);
		size_t head = br - body + 1;

		assert_non_null(br);
		memcpy(nb, body, head);
		memcpy(nb + head, pod, sizeof(pod) - 1);
		memcpy(nb + head + sizeof(pod) - 1, body + head, len - head);
		assert_int_equal(fake_kubelet_set_body(t->fk, nb, len + sizeof(pod) - 1), 0);
		free(nb);
	}
	free(body);
	lmp_ident_lookup(t->ic, t->id_new, &id);
	assert_string_equal(id.pod_uid, UID_NEW);
	assert_null(id.namespace);
	/* worth holding: a refresh is on its way... */
	assert_true(lmp_ident_pending(t->ic, t->id_new));
	assert_true(wait_sync(t, 2000));
	/* ...and it names the pod */
	assert_false(lmp_ident_pending(t->ic, t->id_new));
	lmp_ident_lookup(t->ic, t->id_new, &id);
	assert_string_equal(id.namespace, "prod");
	assert_string_equal(id.pod, "api-7");
	assert_string_equal(id.container, "api");
}

static void test_ident_pending_is_bounded(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	unsigned before;
	double took;

	ident_synced(t);
	before = fake_kubelet_requests(t->fk);
	/* a pod the kubelet never lists (a leftover cgroup): held at most 1 s, in total */
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (lmp_ident_pending(t->ic, t->id_new)) {
		wait_sync(t, 100);
		clock_gettime(CLOCK_MONOTONIC, &b);
		took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
		assert_true(took < 1.2);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(took >= 0.4); /* held while refreshes could still name it */
	/* and it cost the kubelet a bounded number of requests (500 ms apart, at most 3) */
	{
		unsigned asked = fake_kubelet_requests(t->fk) - before;

		assert_true(asked >= 1 && asked <= 3);
	}
	/* later lookups do not ask again */
	for (int i = 0; i < 10; i++) {
		struct lmp_identity id;

		lmp_ident_lookup(t->ic, t->id_new, &id);
		wait_sync(t, 100);
	}
	assert_true(fake_kubelet_requests(t->fk) - before <= 3);
}

static void test_ident_no_hold_while_the_kubelet_fails(void **state)
{
	struct t *t = *state;
	struct lmp_identity id;
	struct lmp_kubelet_stats ks;

	ident_synced(t);
	fake_kubelet_set_fault(t->fk, FK_500, 0);
	lmp_ident_on_sync(t->ic, on_sync, t);
	/* a refresh on demand fails... */
	lmp_ident_lookup(t->ic, t->id_new, &id);
	assert_true(wait_sync(t, 3000));
	assert_int_equal(lmp_ident_kubelet_stats(t->ic, &ks), 0);
	assert_int_equal(ks.last_err, LMP_KUBELET_ERR_HTTP);
	/* ...so nothing is held, and known pods keep their names from the last good reply */
	assert_false(lmp_ident_pending(t->ic, t->id_new));
	lmp_ident_lookup(t->ic, t->id_a, &id);
	assert_string_equal(id.pod, "storage-provisioner");
	assert_true(lmp_ident_ready(t->ic));
}

/* ---- lmp_ident_hold: what the event path does with a pending event ---- */

struct replay {
	struct t *t;
	int calls, emitted, labelled, held_again;
	double first, last;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the event path: hold while pending, else "emit" (look up and record the labels) */
static void handle(void *ctx, const void *rec, size_t len)
{
	struct replay *r = ctx;
	__u64 cg;
	struct lmp_identity id;

	assert_int_equal(len, sizeof(cg));
	memcpy(&cg, rec, sizeof(cg));
	r->calls++;
	if (lmp_ident_pending(r->t->ic, cg) &&
	    lmp_ident_hold(r->t->ic, cg, rec, len, handle, r) == 0) {
		r->held_again += r->calls > 1;
		return;
	}
	lmp_ident_lookup(r->t->ic, cg, &id);
	r->emitted++;
	r->labelled += id.pod != NULL;
	r->last = mono();
	lmp_loop_stop(r->t->loop);
}

static void serve_with_new_pod(struct t *t)
{
	static const char body[] =
		"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"namespace\":\"prod\","
		"\"name\":\"api-7\",\"uid\":\"" UID_NEW "\"},\"status\":{\"containerStatuses\":[{"
		"\"name\":\"api\",\"containerID\":\"docker://" CID_NEW "\"}]}}]}";

	assert_int_equal(fake_kubelet_set_body(t->fk, body, sizeof(body) - 1), 0);
}

static void test_ident_hold_releases_on_the_sync_that_names_the_pod(void **state)
{
	struct t *t = *state;
	struct replay r = { .t = t };

	ident_synced(t);
	lmp_ident_on_sync(t->ic, NULL, NULL);
	serve_with_new_pod(t);
	r.first = mono();
	handle(&r, &t->id_new, sizeof(t->id_new));
	assert_int_equal(r.emitted, 0); /* held */
	lmp_loop_set_timer(t->loop, t->deadline, 3000, false);
	lmp_loop_run(t->loop);
	assert_int_equal(r.emitted, 1);
	assert_int_equal(r.labelled, 1);
	assert_true(r.last - r.first < 1.0);
}

static void test_ident_hold_is_bounded_and_flushable(void **state)
{
	struct t *t = *state;
	struct replay r = { .t = t }, r2 = { .t = t };
	static char big[1 << 20];

	ident_synced(t);
	lmp_ident_on_sync(t->ic, NULL, NULL);
	/* never listed: released unlabelled after the 1 s hold, not later */
	r.first = mono();
	handle(&r, &t->id_new, sizeof(t->id_new));
	lmp_loop_set_timer(t->loop, t->deadline, 3000, false);
	lmp_loop_run(t->loop);
	assert_int_equal(r.emitted, 1);
	assert_int_equal(r.labelled, 0);
	assert_true(r.last - r.first >= 0.9 && r.last - r.first < 1.5);
	/* held once and replayed once: a held event stays in place while it is pending (not
	 * copied again on every tick) */
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.held_again, 0);
	/* size bound: 4 MiB of held copies at most */
	for (int i = 0; i < 3; i++)
		assert_int_equal(lmp_ident_hold(t->ic, t->id_new, big, sizeof(big), handle, &r2),
				 0);
	assert_int_equal(lmp_ident_hold(t->ic, t->id_new, big, sizeof(big), handle, &r2), -ENOSPC);
	/* free drops what is held (the big copies are never replayed) */
	lmp_ident_free(t->ic);
	/* flush replays each held event once, pending or not */
	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	r2 = (struct replay){ .t = t };
	assert_int_equal(
		lmp_ident_hold(t->ic, t->id_new, &t->id_new, sizeof(t->id_new), handle, &r2), 0);
	assert_int_equal(lmp_ident_hold(t->ic, t->id_a, &t->id_a, sizeof(t->id_a), handle, &r2), 0);
	lmp_ident_flush(t->ic);
	assert_int_equal(r2.calls, 2);
	assert_int_equal(r2.emitted, 2);
	/* and teardown's free drops this one */
	assert_int_equal(
		lmp_ident_hold(t->ic, t->id_new, &t->id_new, sizeof(t->id_new), handle, &r2), 0);
}

/* ---- no file handles: the background walker, and nothing waits for it ---- */

/* CAP_DAC_READ_SEARCH in or out of this thread's effective set (open_by_handle_at needs it) */
static void dac_read_search(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	assert_int_equal(syscall(SYS_capget, &h, d), 0);
	if (on)
		d[0].effective |= 1u << CAP_DAC_READ_SEARCH;
	else
		d[0].effective &= ~(1u << CAP_DAC_READ_SEARCH);
	assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

static void cgroup_stats(struct t *t, struct lmp_cgroup_stats *st)
{
	assert_int_equal(lmp_ident_cgroup_stats(t->ic, st), 0);
}

/* run the loop until id is no longer pending (the walker named it, or proved it gone) */
static bool until_settled(struct t *t, __u64 id, unsigned ms)
{
	for (unsigned waited = 0; lmp_ident_pending(t->ic, id); waited += 50) {
		if (waited >= ms)
			return false;
		lmp_loop_set_timer(t->loop, t->deadline, 50, false);
		lmp_loop_run(t->loop);
	}
	return true;
}

static void test_ident_walker_never_waits(void **state)
{
	struct t *t = *state;
	struct lmp_cgroup_stats a, b;
	struct lmp_identity id;
	struct replay r = { .t = t };
	char p[1024];
	__u64 fresh, gone, later;
	double t0;

	dac_read_search(false);
	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	assert_int_equal(mkcg(t, "churn/pod1/ctr", &fresh), 0);
	assert_int_equal(mkcg(t, "churn/pod2/ctr", &gone), 0);
	snprintf(p, sizeof(p), "%s/churn/pod2/ctr", t->base);
	assert_int_equal(rmdir(p), 0);

	/* not named yet: answered at once with the id alone, and pending */
	t0 = mono();
	lmp_ident_lookup(t->ic, fresh, &id);
	lmp_ident_lookup(t->ic, gone, &id);
	assert_true(mono() - t0 < 0.05); /* a walk of the tree is not waited for */
	assert_null(id.cgroup);
	assert_true(lmp_ident_pending(t->ic, fresh));
	assert_true(lmp_ident_pending(t->ic, gone));
	cgroup_stats(t, &a);
	assert_false(a.handles);
	assert_int_equal(a.pending, 2);
	assert_true(a.pending_hits >= 2);
	/* an event of the new cgroup is held, and goes out with its path once named */
	handle(&r, &fresh, sizeof(fresh));
	assert_int_equal(r.emitted, 0);
	assert_true(until_settled(t, fresh, 5000));
	assert_true(until_settled(t, gone, 5000));
	if (!r.emitted) { /* the replay runs from the loop: one more turn */
		lmp_loop_set_timer(t->loop, t->deadline, 500, false);
		lmp_loop_run(t->loop);
	}
	assert_int_equal(r.emitted, 1);
	lmp_ident_lookup(t->ic, fresh, &id);
	assert_non_null(id.cgroup);
	assert_non_null(strstr(id.cgroup, "/churn/pod1/ctr"));

	/* the removed one is remembered as gone: answered by the negative cache, no walk */
	lmp_ident_lookup(t->ic, gone, &id);
	assert_null(id.cgroup);
	cgroup_stats(t, &a);
	assert_int_equal(a.gone, 1);
	assert_int_equal(a.gone_entries, 1);
	for (int i = 0; i < 1000; i++)
		lmp_ident_lookup(t->ic, gone, &id);
	assert_false(lmp_ident_pending(t->ic, gone));
	cgroup_stats(t, &b);
	assert_int_equal(b.gone_hits - a.gone_hits, 1001);
	assert_int_equal(b.misses, a.misses);
	assert_int_equal(b.pending, a.pending);

	/* the walk before an interval: a cgroup made since is named at its first lookup */
	assert_int_equal(mkcg(t, "churn/pod3/ctr", &later), 0);
	lmp_ident_interval(t->ic, 1000); /* the walk is due in 500 ms */
	lmp_loop_set_timer(t->loop, t->deadline, 1500, false);
	lmp_loop_run(t->loop);
	cgroup_stats(t, &a);
	lmp_ident_lookup(t->ic, later, &id);
	assert_non_null(id.cgroup);
	assert_non_null(strstr(id.cgroup, "/churn/pod3/ctr"));
	cgroup_stats(t, &b);
	assert_int_equal(b.pending, a.pending); /* no walk needed */
	assert_int_equal(b.misses, a.misses + 1);
	dac_read_search(true);
}

/*
 * The agent's case at start: capabilities dropped after attach, no lookup made yet, so the
 * resolver still believes in file handles. The walk before the first summary must happen
 * all the same, or the first summary of every cgroup goes out without its path.
 */
static void test_ident_refresh_before_any_lookup(void **state)
{
	struct t *t = *state;
	struct lmp_cgroup_stats a, b;
	struct lmp_identity id;

	assert_int_equal(lmp_ident_new(&t->cfg, t->loop, &t->ic), 0);
	dac_read_search(false);
	lmp_ident_interval(t->ic, 1000);
	lmp_loop_set_timer(t->loop, t->deadline, 1500, false);
	lmp_loop_run(t->loop);
	cgroup_stats(t, &a);
	assert_false(a.handles);
	assert_int_equal(a.walks, 1);
	lmp_ident_lookup(t->ic, t->id_plain, &id);
	assert_non_null(id.cgroup);
	assert_non_null(strstr(id.cgroup, "/system.slice/cron.service"));
	cgroup_stats(t, &b);
	assert_int_equal(b.pending, 0);
	dac_read_search(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ident_outside_kubernetes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ident_node_ip_default_url_and_join, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ident_new_pod_pending_until_the_refresh, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ident_pending_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ident_no_hold_while_the_kubelet_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ident_hold_releases_on_the_sync_that_names_the_pod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ident_walker_never_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ident_refresh_before_any_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ident_hold_is_bounded_and_flushable, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("identity", tests, NULL, NULL) ? 1 : 0;
}

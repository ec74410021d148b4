// SPDX-License-Identifier: Apache-2.0
/*
 * agent/k8s/kubelet.c against tests/lib/fake_kubelet (real HTTPS on 127.0.0.1, real TLS
 * verification) on the agent's own event loop: a good reply, each fault the issue lists,
 * recovery, token rotation and a token file that goes away and comes back, the back-off,
 * on-demand refresh rate limits, and that a slow kubelet never blocks the loop.
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
#include <cmocka.h>

#include "fixtures.h"
#include "fake_kubelet.h"
#include "k8s/kubelet.h"
#include "base/loop.h"
#include "k8s/podlist.h"
#include "harness.h"

struct t {
	char dir[64], token_file[96];
	struct fake_kubelet *fk;
	struct lmp_loop *loop;
	struct lmp_kubelet *k;
	struct lmp_kubelet_opts o;
	/* last callback */
	int results;
	enum lmp_kubelet_err err;
	char msg[512];
	size_t pods;
	int deadline, ticker;
	unsigned ticks;
};

static const char *fixture(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	return p;
}

static void write_token(struct t *t, const char *tok)
{
	char tmp[128];
	FILE *f;

	/* write-then-rename, as the kubelet's projected volumes swap files atomically */
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->token_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", tok);
	fclose(f);
	assert_int_equal(rename(tmp, t->token_file), 0);
}

static void on_result(void *ctx, struct lmp_podlist *pl, enum lmp_kubelet_err err, const char *msg)
{
	struct t *t = ctx;

	t->results++;
	t->err = err;
	snprintf(t->msg, sizeof(t->msg), "%s", msg);
	t->pods = pl ? pl->n_pods : 0;
	lmp_podlist_free(pl);
	lmp_loop_stop(t->loop);
}

static void on_deadline(void *ctx)
{
	lmp_loop_stop(((struct t *)ctx)->loop);
}

static void on_tick(void *ctx)
{
	((struct t *)ctx)->ticks++;
}

/* Run the loop until the next result or ms; returns whether a result came. */
static bool wait_result(struct t *t, unsigned ms)
{
	int before = t->results;

	lmp_loop_set_timer(t->loop, t->deadline, ms, false);
	lmp_loop_run(t->loop);
	lmp_loop_set_timer(t->loop, t->deadline, 0, false);
	return t->results > before;
}

/* Force a request now (bypassing the back-off) and wait for its outcome. */
static enum lmp_kubelet_err fetch(struct t *t)
{
	lmp_kubelet_refresh(t->k, false);
	if (!wait_result(t, 5000))
		fail_msg("no result within 5 s");
	return t->err;
}

static int client_new(struct t *t)
{
	return lmp_kubelet_new(&t->o, t->loop, on_result, t, &t->k);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/lmp-test-kubelet-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->token_file, sizeof(t->token_file), "%s/token", t->dir);
	write_token(t, "tok-1");
	if (fake_kubelet_start(t->dir, 0, &t->fk) < 0)
		return -1;
	fake_kubelet_set_token(t->fk, "tok-1");
	if (fake_kubelet_set_body_file(t->fk, fixture("nri-kubernetes_k8s-1_22_pods.json")) < 0)
		return -1;
	if (lmp_loop_new(&t->loop) < 0)
		return -1;
	t->deadline = lmp_loop_add_timer(t->loop, 0, false, on_deadline, t);
	t->o = (struct lmp_kubelet_opts){
		.url = fake_kubelet_url(t->fk),
		.token_file = t->token_file,
		.ca_file = fake_kubelet_ca_file(t->fk),
		.refresh_ms = 60000, /* no periodic refresh during a test unless asked */
		.connect_timeout_ms = 1000,
		.timeout_ms = 800,
		.miss_interval_ms = 200,
	};
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[128];

	lmp_kubelet_free(t->k);
	lmp_loop_free(t->loop);
	fake_kubelet_free(t->fk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	free(t);
	return 0;
}

static void test_kubelet_first_request_goes_out_by_itself(void **state)
{
	struct t *t = *state;
	struct lmp_kubelet_stats st;

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	if (t->err != LMP_KUBELET_OK)
		fail_msg("%s", t->msg);
	assert_int_equal(t->pods, 25);
	lmp_kubelet_stats(t->k, &st);
	assert_int_equal(st.requests_ok, 1);
	assert_int_equal(st.requests_failed, 0);
	assert_int_equal(st.pods_known, 25);
	assert_int_equal(st.containers_known, 25); /* 26 rows, one an earlier instance */
	assert_int_equal(st.token_reads, 1);
	assert_int_equal(st.last_http_code, 200);
	assert_true(st.last_sync > time(NULL) - 10);
	assert_false(st.in_flight);
	assert_int_equal(fake_kubelet_requests(t->fk), 1);
	assert_int_equal(fake_kubelet_token_rejects(t->fk), 0);
}

static void expect_fault_then_recover(struct t *t, enum lmp_kubelet_err want, const char *what)
{
	struct lmp_kubelet_stats a, b;
	enum lmp_kubelet_err got;

	lmp_kubelet_stats(t->k, &a);
	got = fetch(t);
	if (got != want)
		fail_msg("%s: got %s (%s), want %s", what, lmp_kubelet_err_name(got), t->msg,
			 lmp_kubelet_err_name(want));
	lmp_kubelet_stats(t->k, &b);
	assert_int_equal(b.requests_failed, a.requests_failed + 1);
	assert_int_equal(b.failures[want], a.failures[want] + 1);
	assert_int_equal(b.last_err, want);
	assert_true(t->msg[0]);
	/* the fault goes away: the next request is fine again */
	fake_kubelet_set_fault(t->fk, FK_OK, 0);
	fake_kubelet_set_token(t->fk, "tok-1");
	if (fake_kubelet_up(t->fk) < 0 || fake_kubelet_set_cert(t->fk, FK_CERT_GOOD) < 0)
		fail_msg("fake kubelet restart failed");
	got = fetch(t);
	if (got != LMP_KUBELET_OK)
		fail_msg("%s: no recovery: %s", what, t->msg);
	assert_int_equal(t->pods, 25);
}

static void test_kubelet_each_fault_is_classified_counted_and_recovered(void **state)
{
	struct t *t = *state;

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_OK);

	fake_kubelet_set_fault(t->fk, FK_401, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_AUTH, "401");
	fake_kubelet_set_fault(t->fk, FK_403, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_FORBIDDEN, "403");
	fake_kubelet_set_fault(t->fk, FK_500, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_HTTP, "500");
	assert_non_null(strstr(t->msg, ": ok"));
	fake_kubelet_set_fault(t->fk, FK_NOT_JSON, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_BODY, "not JSON");
	fake_kubelet_set_fault(t->fk, FK_CUT_JSON, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_BODY, "JSON cut short");
	fake_kubelet_set_fault(t->fk, FK_CUT_TRANSFER, 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_TRANSFER, "transfer cut short");
	fake_kubelet_set_fault(t->fk, FK_SLOW, 3000);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_TIMEOUT, "slower than the timeout");
	fake_kubelet_down(t->fk);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_CONNECT, "unreachable");
	assert_int_equal(fake_kubelet_set_cert(t->fk, FK_CERT_OTHER_CA), 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_TLS, "unknown CA");
	assert_int_equal(fake_kubelet_set_cert(t->fk, FK_CERT_WRONG_NAME), 0);
	expect_fault_then_recover(t, LMP_KUBELET_ERR_TLS, "wrong certificate name");
	/* a wrong token is the kubelet's 401 too */
	fake_kubelet_set_token(t->fk, "someone-else");
	expect_fault_then_recover(t, LMP_KUBELET_ERR_AUTH, "token rejected");
	{
		struct lmp_kubelet_stats st;

		lmp_kubelet_stats(t->k, &st);
		assert_int_equal(st.requests_failed, 11);
		assert_int_equal(st.requests_ok, 12);
		assert_int_equal(st.failures[LMP_KUBELET_ERR_TLS], 2);
		assert_int_equal(st.failures[LMP_KUBELET_ERR_AUTH], 2);
	}
}

static void test_kubelet_slow_kubelet_does_not_block_the_loop(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	double took;

	fake_kubelet_set_fault(t->fk, FK_SLOW, 3000);
	t->ticker = lmp_loop_add_timer(t->loop, 10, true, on_tick, t);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(t->err, LMP_KUBELET_ERR_TIMEOUT);
	/* gave up at the 0.8 s timeout, not when the kubelet answered at 3 s */
	assert_true(took >= 0.7 && took < 2.0);
	/* and the loop kept turning meanwhile: ~80 ticks of 10 ms */
	assert_true(t->ticks >= 40);
	lmp_loop_del_timer(t->loop, t->ticker);
}

static void test_kubelet_token_rotation_and_disappearance(void **state)
{
	struct t *t = *state;
	struct lmp_kubelet_stats st;
	unsigned served;

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_OK);
	/* the token rotates: the kubelet wants the new one, the file has it */
	fake_kubelet_set_token(t->fk, "tok-2");
	write_token(t, "tok-2");
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	lmp_kubelet_stats(t->k, &st);
	assert_int_equal(st.token_reads, 2);
	/* unchanged file: not read again */
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	lmp_kubelet_stats(t->k, &st);
	assert_int_equal(st.token_reads, 2);
	/* the file goes away: no request is sent without credentials */
	served = fake_kubelet_requests(t->fk);
	assert_int_equal(unlink(t->token_file), 0);
	assert_int_equal(fetch(t), LMP_KUBELET_ERR_TOKEN);
	assert_non_null(strstr(t->msg, "No such file"));
	assert_int_equal(fake_kubelet_requests(t->fk), served);
	/* empty file */
	write_token(t, "");
	assert_int_equal(fetch(t), LMP_KUBELET_ERR_TOKEN);
	assert_non_null(strstr(t->msg, "empty"));
	/* and comes back */
	write_token(t, "tok-2");
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	assert_int_equal(fake_kubelet_token_rejects(t->fk), 0);
}

static void test_kubelet_recovers_by_itself_with_backoff(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	double took;

	fake_kubelet_set_fault(t->fk, FK_500, 0);
	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_ERR_HTTP);
	/* failing: an on-demand refresh is refused (no hammering, no holding events) */
	assert_false(lmp_kubelet_refresh(t->k, true));
	/* first retry after 1 s, with no help */
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_true(wait_result(t, 3000));
	assert_int_equal(t->err, LMP_KUBELET_ERR_HTTP);
	/* second after 2 s: the kubelet is fixed meanwhile */
	fake_kubelet_set_fault(t->fk, FK_OK, 0);
	assert_true(wait_result(t, 4000));
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(t->err, LMP_KUBELET_OK);
	assert_true(took >= 2.5 && took < 4.5); /* 1 s + 2 s of back-off */
	assert_int_equal(fake_kubelet_requests(t->fk), 3);
}

static void test_kubelet_on_demand_refresh_is_rate_limited(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	double took;

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* a burst of misses makes one request, not earlier than miss_interval after the last */
	for (int i = 0; i < 50; i++)
		assert_true(lmp_kubelet_refresh(t->k, true));
	assert_true(wait_result(t, 2000));
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(t->err, LMP_KUBELET_OK);
	assert_true(took >= 0.1 && took < 1.0);
	assert_int_equal(fake_kubelet_requests(t->fk), 2);
	/* nothing else is pending */
	assert_false(wait_result(t, 400));
	assert_int_equal(fake_kubelet_requests(t->fk), 2);
}

static void test_kubelet_insecure_and_size_limit(void **state)
{
	struct t *t = *state;

	/* a certificate naming another host is accepted when verification is off */
	assert_int_equal(fake_kubelet_set_cert(t->fk, FK_CERT_WRONG_NAME), 0);
	t->o.insecure_skip_verify = true;
	t->o.max_body = 1000;
	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_ERR_TOO_LARGE);
	assert_int_equal(
		fake_kubelet_set_body_file(t->fk, fixture("datadog-agent_podlist_empty.json")), 0);
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	assert_int_equal(t->pods, 0);
}

static void test_kubelet_bad_options(void **state)
{
	struct t *t = *state;
	struct lmp_kubelet *k = NULL;

	t->o.url = "";
	assert_int_equal(lmp_kubelet_new(&t->o, t->loop, on_result, t, &k), -EINVAL);
	assert_null(k);
	t->o.url = NULL;
	assert_int_equal(lmp_kubelet_new(&t->o, t->loop, on_result, t, &k), -EINVAL);
	lmp_kubelet_free(NULL);
	assert_string_equal(lmp_kubelet_err_name(LMP_KUBELET_ERR_FORBIDDEN), "forbidden");
	assert_string_equal(lmp_kubelet_err_name(_LMP_KUBELET_ERR_MAX), "unknown");
}

/*
 * Issue 18: a URL with no path is the kubelet's base URL (/pods is added); another path that
 * answers 404 says which URL was asked and what it must be.
 */
static void test_kubelet_base_url_and_404(void **state)
{
	struct t *t = *state;
	const char *suffix[] = { "", "/" };
	char url[128];

	for (int i = 0; i < 2; i++) {
		snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", fake_kubelet_port(t->fk),
			 suffix[i]);
		t->o.url = url;
		assert_int_equal(client_new(t), 0);
		assert_true(wait_result(t, 5000));
		assert_int_equal(t->err, LMP_KUBELET_OK);
		assert_int_equal(t->pods, 25);
		snprintf(url, sizeof(url), "https://127.0.0.1:%u/pods", fake_kubelet_port(t->fk));
		assert_string_equal(lmp_kubelet_url(t->k), url);
		lmp_kubelet_free(t->k);
		t->k = NULL;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/pods", fake_kubelet_port(t->fk));
	t->o.url = url;
	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_ERR_HTTP);
	assert_non_null(strstr(t->msg, url));
	assert_non_null(strstr(t->msg, "HTTP 404"));
	assert_non_null(strstr(t->msg, "must be the kubelet's /pods endpoint"));
}

/*
 * Issue 15: every distinct failure is reported (for the owner to log), each once while it
 * lasts: the same cause again is not, a new one is, and a cause that comes back after a
 * success or another cause is reported again.
 */
static void test_kubelet_each_change_of_cause_is_reported(void **state)
{
	static const struct {
		enum fake_kubelet_fault f;
		enum lmp_kubelet_err err;
		bool report;
	} seq[] = {
		{ FK_500, LMP_KUBELET_ERR_HTTP, true },
		{ FK_500, LMP_KUBELET_ERR_HTTP, false },
		{ FK_403, LMP_KUBELET_ERR_FORBIDDEN, true },
		{ FK_403, LMP_KUBELET_ERR_FORBIDDEN, false },
		{ FK_500, LMP_KUBELET_ERR_HTTP, true },
		{ FK_NOT_JSON, LMP_KUBELET_ERR_BODY, true },
		{ FK_NOT_JSON, LMP_KUBELET_ERR_BODY, false },
		{ FK_CUT_JSON, LMP_KUBELET_ERR_BODY, true },
		{ FK_OK, LMP_KUBELET_OK, false },
		{ FK_CUT_JSON, LMP_KUBELET_ERR_BODY, true },
	};
	struct t *t = *state;
	struct lmp_kubelet_stats st;

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		fake_kubelet_set_fault(t->fk, seq[i].f, 0);
		assert_int_equal(fetch(t), seq[i].err);
		lmp_kubelet_stats(t->k, &st);
		if (st.report != seq[i].report)
			fail_msg("step %zu (%s): report %d", i, t->msg, st.report);
		assert_string_equal(st.last_msg, t->msg);
	}
}

/*
 * A big reply is parsed beside the loop: timers keep firing while 48 MB are parsed, and an
 * amplified one (a million empty pods) is refused as too large, unparsed.
 */
static void test_kubelet_big_reply_parsed_off_the_loop(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	unsigned pods, ms;
	size_t len;
	char *big = fake_kubelet_big_podlist(48 << 20, &len, &pods);

	assert_non_null(big);
	assert_int_equal(fake_kubelet_set_body(t->fk, big, len), 0);
	free(big);
	t->o.timeout_ms = 10000;
	t->ticker = lmp_loop_add_timer(t->loop, 10, true, on_tick, t);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 20000));
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(t->err, LMP_KUBELET_OK);
	assert_int_equal(t->pods, pods);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	/* the loop turned all along: at least a third of the 10 ms ticks, whatever the load */
	assert_true(t->ticks >= ms / 30);

	big = malloc(3 * 1000000 + 64);
	len = sprintf(big, "{\"kind\":\"PodList\",\"items\":[{}");
	for (int i = 1; i < 1000000; i++)
		memcpy(big + len, ",{}", 3), len += 3;
	len += sprintf(big + len, "]}");
	assert_int_equal(fake_kubelet_set_body(t->fk, big, len), 0);
	free(big);
	assert_int_equal(fetch(t), LMP_KUBELET_ERR_TOO_LARGE);
	assert_non_null(strstr(t->msg, "more than 250000 values"));
	lmp_loop_del_timer(t->loop, t->ticker);
}

/*
 * Issue 18: a kubelet whose certificate cannot be verified (or that cannot be reached) is
 * replaced, in the same refresh, by the API server's list of this node's pods, verified
 * against its own CA; every refresh tries the kubelet first and goes back to it once it
 * works. The API server's failures are reported with the kubelet's.
 */
static void test_kubelet_apiserver_fallback(void **state)
{
	struct t *t = *state;
	struct fake_kubelet *api;
	struct lmp_kubelet_stats st;
	char dir[96], url[64], fs[128];

	snprintf(dir, sizeof(dir), "%s/api", t->dir);
	assert_int_equal(fake_kubelet_start(dir, 0, &api), 0);
	fake_kubelet_set_path(api, "/api/v1/pods");
	fake_kubelet_set_token(api, "tok-1");
	assert_int_equal(
		fake_kubelet_set_body_file(api, fixture("nri-kubernetes_k8s-1_27_pods.json")), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/", fake_kubelet_port(api));
	t->o.apiserver_url = url;
	t->o.apiserver_ca_file = fake_kubelet_ca_file(api);
	t->o.node_name = "datagen-1-27";
	assert_int_equal(fake_kubelet_set_cert(t->fk, FK_CERT_OTHER_CA), 0);

	assert_int_equal(client_new(t), 0);
	assert_true(wait_result(t, 5000));
	assert_int_equal(t->err, LMP_KUBELET_OK);
	assert_int_equal(t->pods, 23);
	lmp_kubelet_stats(t->k, &st);
	assert_true(st.from_apiserver);
	assert_true(st.source_changed);
	assert_int_equal(st.kubelet_err, LMP_KUBELET_ERR_TLS);
	assert_int_equal(st.failures[LMP_KUBELET_ERR_TLS], 1);
	assert_int_equal(st.api_requests[0], 1);
	fake_kubelet_field_selector(api, fs, sizeof(fs));
	assert_string_equal(fs, "spec.nodeName=datagen-1-27");
	assert_non_null(strstr(lmp_kubelet_apiserver_url(t->k), "/api/v1/pods?fieldSelector="));

	/* next refresh: the kubelet first, the API server again; no change of source */
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	lmp_kubelet_stats(t->k, &st);
	assert_true(st.from_apiserver);
	assert_false(st.source_changed);
	assert_int_equal(st.failures[LMP_KUBELET_ERR_TLS], 2);

	/* the API server fails too: both causes are said, the last pods stay in use */
	fake_kubelet_set_fault(api, FK_500, 0);
	assert_int_equal(fetch(t), LMP_KUBELET_ERR_HTTP);
	lmp_test_assert_contains(t->msg, (const char *const[]){
						 "certificate",
						 "API server fallback",
						 "HTTP 500",
						 NULL,
					 });
	lmp_kubelet_stats(t->k, &st);
	assert_true(st.report);
	assert_true(st.from_apiserver);
	assert_int_equal(st.api_requests[1], 1);

	/* the kubelet is fine again: back to it */
	assert_int_equal(fake_kubelet_set_cert(t->fk, FK_CERT_GOOD), 0);
	assert_int_equal(fetch(t), LMP_KUBELET_OK);
	assert_int_equal(t->pods, 25);
	lmp_kubelet_stats(t->k, &st);
	assert_false(st.from_apiserver);
	assert_true(st.source_changed);
	assert_int_equal(st.kubelet_err, LMP_KUBELET_OK);
	/* a kubelet that answers, however badly (403), is not replaced */
	fake_kubelet_set_fault(t->fk, FK_403, 0);
	fake_kubelet_set_fault(api, FK_OK, 0);
	assert_int_equal(fetch(t), LMP_KUBELET_ERR_FORBIDDEN);
	lmp_kubelet_stats(t->k, &st);
	assert_false(st.from_apiserver);
	assert_int_equal(st.api_requests[0], 2);
	fake_kubelet_free(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kubelet_first_request_goes_out_by_itself,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_kubelet_each_fault_is_classified_counted_and_recovered, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_slow_kubelet_does_not_block_the_loop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_token_rotation_and_disappearance,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_recovers_by_itself_with_backoff, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_on_demand_refresh_is_rate_limited,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_insecure_and_size_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_base_url_and_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_each_change_of_cause_is_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_big_reply_parsed_off_the_loop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_apiserver_fallback, setup, teardown),
	};

	return cmocka_run_group_tests_name("kubelet", tests, NULL, NULL) ? 1 : 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * A hostile node, end to end (issues 15 and 18), as root: the real agent with a kubelet
 * stand-in that sends
 *
 *  - a 60 MB amplified reply ({"kind":"PodList","items":[],"x":[{},{},...]}): refused with
 *    a log line and counted, the agent's peak RSS stays under 256 MB;
 *  - then a realistic 50 MB PodList: taken, while /healthz (polled every 0.1 s, 2 s timeout)
 *    answers throughout the transfer and the parse;
 *  - from a --kubelet-url with no path (the kubelet's base URL): /pods is added;
 *
 * a --kubelet-url that answers 404 (log, /readyz and lmp_kubelet_up say so), a kubelet whose
 * certificate cannot be verified (the pods come from an API-server stand-in until it can),
 * and 64 slow
 * HTTP clients (one header line every 5 s, reconnecting when cut off) on the agent's port
 * for 25 s while /healthz is polled every 0.5 s with a 2 s timeout: every poll answered.
 * Figures (peak RSS, worst healthz latency) are printed for docs/hardening.md, not asserted
 * beyond those bounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "fake_kubelet.h"
#include "fixtures.h"
#include "harness.h"

#define SLOW_CLIENTS 64
#define SLOW_SECONDS 25

static struct {
	char dir[64], token[128], listen[64], base[96];
	int port;
	struct fake_kubelet *fk;
	struct lmp_test_agent agent;
	bool started;
} C;

static const char *fixture(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_agent(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(C.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * GET path with a timeout, on a connection of its own; returns the status code (0: no
 * answer in time) and, if body, the whole reply (malloc'd).
 */
static int http_get(const char *path, double timeout_s, char **body, double *took)
{
	struct timeval tv = { .tv_sec = (time_t)timeout_s,
			      .tv_usec = (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6) };
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), req[256];
	double t0 = now_s();
	int fd = connect_agent(), code = 0, n;

	assert_non_null(buf);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		     path);
	if (send(fd, req, n, MSG_NOSIGNAL) != n)
		goto out;
	for (;;) {
		ssize_t got;

		if (len + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
		got = recv(fd, buf + len, cap - 1 - len, 0);
		if (got <= 0 || now_s() - t0 > timeout_s)
			break;
		len += got;
	}
	buf[len] = '\0';
	if (!strncmp(buf, "HTTP/1.1 ", 9) && strstr(buf, "\r\n\r\n") && now_s() - t0 <= timeout_s)
		code = atoi(buf + 9);
out:
	if (fd >= 0)
		close(fd);
	if (took)
		*took = now_s() - t0;
	if (body)
		*body = buf;
	else
		free(buf);
	return code;
}

static double metric(const char *name)
{
	char *body, *p, key[256];
	double v = -1;

	snprintf(key, sizeof(key), "\n%s", name);
	if (http_get("/metrics", 5, &body, NULL) == 200 && (p = strstr(body, key)))
		v = atof(p + strlen(key));
	free(body);
	return v;
}

/* the metric once it reaches at least want (metrics are published every interval, 1 s) */
static double metric_at_least(const char *name, double want)
{
	double v = -1;

	for (int i = 0; i < 30 && (v = metric(name)) < want; i++)
		lmp_test_agent_pump(&C.agent, 200);
	return v;
}

static long peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static void agent_stop(void)
{
	if (C.started)
		lmp_test_agent_free(&C.agent);
	C.started = false;
}

static int agent_start_with(const char *url, const char *api_ca)
{
	const char *const args[] = { "--probes",
				     "process",
				     "--listen",
				     C.listen,
				     "--interval",
				     "1",
				     "--kubelet-url",
				     url,
				     "--kubelet-refresh",
				     "2",
				     "--kubelet-ca-file",
				     fake_kubelet_ca_file(C.fk),
				     "--kubelet-token-file",
				     C.token,
				     "--node-name",
				     "datagen-1-27",
				     "--apiserver-ca-file",
				     api_ca ? api_ca : "/nonexistent",
				     NULL };

	agent_stop(); /* a failed test left its agent */
	C.started = lmp_test_agent_start(&C.agent, args) == 0;
	return C.started ? 0 : -1;
}

static int agent_start(const char *url)
{
	return agent_start_with(url, NULL);
}

static int setup(void **state)
{
	FILE *f;

	lmp_test_require_root();
	snprintf(C.dir, sizeof(C.dir), "/tmp/lmp-hostile-%d", getpid());
	snprintf(C.token, sizeof(C.token), "%s/token", C.dir);
	C.port = 20000 + (getpid() + 7) % 20000;
	snprintf(C.listen, sizeof(C.listen), "127.0.0.1:%d", C.port);
	if (fake_kubelet_start(C.dir, 0, &C.fk) < 0)
		return -1;
	snprintf(C.base, sizeof(C.base), "https://127.0.0.1:%u", fake_kubelet_port(C.fk));
	fake_kubelet_set_token(C.fk, "hostile-token");
	f = fopen(C.token, "w");
	if (!f)
		return -1;
	fprintf(f, "hostile-token\n");
	fclose(f);
	*state = &C;
	return 0;
}

static void agent_stop(void);

static int teardown(void **state)
{
	agent_stop();
	fake_kubelet_free(C.fk);
	lmp_test_sh("rm -rf '%s'", C.dir);
	return 0;
}

/* {"kind":"PodList","items":[],"x":[{},{},...]} of about size bytes */
static char *amplified(size_t size, size_t *len)
{
	char *s = malloc(size + 64);
	size_t n;

	assert_non_null(s);
	n = sprintf(s, "{\"kind\":\"PodList\",\"items\":[],\"x\":[{}");
	while (n < size)
		memcpy(s + n, ",{}", 3), n += 3;
	n += sprintf(s + n, "]}");
	*len = n;
	return s;
}

static void test_big_kubelet_replies(void **state)
{
	size_t len;
	unsigned pods, polls = 0, answered = 0;
	double worst = 0, t_end;
	char *body = amplified(60 << 20, &len);
	long rss;

	assert_int_equal(fake_kubelet_set_body(C.fk, body, len), 0);
	free(body);
	/* the base URL: /pods is added */
	assert_int_equal(agent_start(C.base), 0);
	for (int i = 0; i < 100 && !lmp_test_agent_stderr_has(&C.agent, "unexpected member"); i++)
		lmp_test_agent_pump(&C.agent, 100);
	if (!lmp_test_agent_stderr_has(&C.agent, "not a PodList: unexpected member \"x\""))
		fail_msg("no log line for the amplified reply:\n%s", C.agent.errbuf);
	rss = peak_rss_kb(C.agent.pid);
	fprintf(stderr, "# amplified 60 MB reply: agent peak RSS %ld MB\n", rss / 1024);
	assert_true(rss > 0 && rss < 256 * 1024);
	assert_true(metric_at_least("lmp_kubelet_requests_total{result=\"body\"} ", 1) >= 1);
	assert_true(metric("lmp_kubelet_up ") == 0);

	/* a realistic 50 MB list, while /healthz is polled */
	body = fake_kubelet_big_podlist(50 << 20, &len, &pods);
	assert_non_null(body);
	assert_int_equal(fake_kubelet_set_body(C.fk, body, len), 0);
	free(body);
	t_end = now_s() + 30;
	while (now_s() < t_end) {
		double took;

		polls++;
		answered += http_get("/healthz", 2, NULL, &took) == 200;
		if (took > worst)
			worst = took;
		lmp_test_agent_pump(&C.agent, 100);
		if (polls % 10 == 0 && metric("lmp_kubelet_pods ") == pods)
			break;
	}
	assert_true(metric_at_least("lmp_kubelet_pods ", pods) == pods);
	rss = peak_rss_kb(C.agent.pid);
	fprintf(stderr,
		"# realistic 50 MB PodList (%u pods): agent peak RSS %ld MB; the request took "
		"%.0f ms; /healthz %u/%u answered, worst %.0f ms\n",
		pods, rss / 1024, metric("lmp_kubelet_request_duration_seconds ") * 1e3, answered,
		polls, worst * 1e3);
	assert_int_equal(answered, polls);
	assert_true(rss < 256 * 1024);
	agent_stop();
}

static void test_kubelet_url_404(void **state)
{
	char url[160], *body;

	snprintf(url, sizeof(url), "%s/api/v1/pods", C.base);
	assert_int_equal(fake_kubelet_set_body(C.fk, "{\"kind\":\"PodList\",\"items\":[]}", 29), 0);
	assert_int_equal(agent_start(url), 0);
	for (int i = 0; i < 50 && !lmp_test_agent_stderr_has(&C.agent, "HTTP 404"); i++)
		lmp_test_agent_pump(&C.agent, 100);
	assert_true(lmp_test_agent_stderr_has(&C.agent, url));
	assert_true(lmp_test_agent_stderr_has(&C.agent, "must be the kubelet's /pods endpoint"));
	assert_int_equal(http_get("/readyz", 5, &body, NULL), 503);
	if (!strstr(body, "kubelet: failing (http)") || !strstr(body, "HTTP 404") ||
	    !strstr(body, url))
		fail_msg("/readyz says:\n%s", body);
	free(body);
	assert_true(metric_at_least("lmp_kubelet_requests_total{result=\"http\"} ", 1) >= 1);
	assert_true(metric("lmp_kubelet_up ") == 0);
	agent_stop();
}

/* slowloris: SLOW_CLIENTS connections, one header line each every 5 s, back when cut off */
static void test_slow_clients_do_not_take_healthz(void **state)
{
	static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int fds[SLOW_CLIENTS];
	unsigned polls = 0, answered = 0, reconnects = 0;
	double t0, next_line, worst = 0;

	assert_int_equal(fake_kubelet_set_body(C.fk, "{\"kind\":\"PodList\",\"items\":[]}", 29), 0);
	assert_int_equal(agent_start(C.base), 0);
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		fds[i] = connect_agent();
		assert_true(fds[i] >= 0);
		assert_int_equal(send(fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL),
				 sizeof(start) - 1);
	}
	t0 = now_s();
	next_line = t0 + 5;
	while (now_s() - t0 < SLOW_SECONDS) {
		double took;

		if (now_s() >= next_line) {
			for (int i = 0; i < SLOW_CLIENTS; i++) {
				char junk[256];

				if (send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) == 11 &&
				    recv(fds[i], junk, sizeof(junk), MSG_DONTWAIT) != 0)
					continue;
				/* cut off (or answered 503): come back, as an attacker would */
				close(fds[i]);
				fds[i] = connect_agent();
				reconnects++;
				if (fds[i] >= 0)
					(void)!send(fds[i], start, sizeof(start) - 1, MSG_NOSIGNAL);
			}
			next_line += 5;
		}
		polls++;
		answered += http_get("/healthz", 2, NULL, &took) == 200;
		if (took > worst)
			worst = took;
		lmp_test_agent_pump(&C.agent, 400);
	}
	for (int i = 0; i < SLOW_CLIENTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	fprintf(stderr,
		"# %d slow clients for %d s: /healthz %u/%u answered, worst %.0f ms, "
		"%u reconnects; deadline closes %g, overflow connections %g\n",
		SLOW_CLIENTS, SLOW_SECONDS, answered, polls, worst * 1e3, reconnects,
		metric("lmp_http_connections_closed_total{reason=\"deadline\"} "),
		metric("lmp_http_overflow_connections_total "));
	assert_int_equal(answered, polls);
	assert_true(polls >= SLOW_SECONDS); /* ~2 a second */
	/* the slow ones were cut off at the deadline, not served forever */
	assert_true(metric("lmp_http_connections_closed_total{reason=\"deadline\"} ") >= 1);
	agent_stop();
}

static bool wait_stderr(const char *text, int ms)
{
	for (int i = 0; i < ms / 100 && !lmp_test_agent_stderr_has(&C.agent, text); i++)
		lmp_test_agent_pump(&C.agent, 100);
	return lmp_test_agent_stderr_has(&C.agent, text);
}

/*
 * Issue 18: a kubelet whose certificate the agent cannot verify; an API-server stand-in
 * (its own CA) serves this node's pods. The agent takes them from there, says so in the
 * log, on /readyz and in lmp_kubelet_pods_source, and goes back to the kubelet once its
 * certificate verifies.
 */
static void test_apiserver_fallback(void **state)
{
	struct fake_kubelet *api;
	char dir[96], port[16], fs[128], *body;

	snprintf(dir, sizeof(dir), "%s/api", C.dir);
	assert_int_equal(fake_kubelet_start(dir, 0, &api), 0);
	fake_kubelet_set_path(api, "/api/v1/pods");
	fake_kubelet_set_token(api, "hostile-token");
	assert_int_equal(
		fake_kubelet_set_body_file(api, fixture("nri-kubernetes_k8s-1_27_pods.json")), 0);
	assert_int_equal(
		fake_kubelet_set_body_file(C.fk, fixture("nri-kubernetes_k8s-1_22_pods.json")), 0);
	assert_int_equal(fake_kubelet_set_cert(C.fk, FK_CERT_OTHER_CA), 0);
	snprintf(port, sizeof(port), "%u", fake_kubelet_port(api));
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	assert_int_equal(agent_start_with(C.base, fake_kubelet_ca_file(api)), 0);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");

	if (!wait_stderr("pods: from the API server", 10000))
		fail_msg("no fallback:\n%s", C.agent.errbuf);
	assert_true(metric_at_least("lmp_kubelet_pods_source{source=\"apiserver\"} ", 1) == 1);
	assert_true(metric_at_least("lmp_kubelet_pods ", 23) == 23);
	assert_true(metric("lmp_kubelet_up ") == 0);
	assert_true(metric("lmp_kubelet_requests_total{result=\"tls\"} ") >= 1);
	fake_kubelet_field_selector(api, fs, sizeof(fs));
	assert_string_equal(fs, "spec.nodeName=datagen-1-27");
	assert_int_equal(http_get("/readyz", 5, &body, NULL), 200);
	if (!strstr(body, "kubelet: failing (tls)") || !strstr(body, "pods: from the API server"))
		fail_msg("/readyz says:\n%s", body);
	free(body);

	/* the kubelet's certificate verifies again: back to it */
	assert_int_equal(fake_kubelet_set_cert(C.fk, FK_CERT_GOOD), 0);
	if (!wait_stderr("pods: from the kubelet again", 10000))
		fail_msg("not back to the kubelet:\n%s", C.agent.errbuf);
	assert_true(metric_at_least("lmp_kubelet_pods_source{source=\"kubelet\"} ", 1) == 1);
	assert_true(metric_at_least("lmp_kubelet_pods ", 25) == 25);
	assert_true(metric_at_least("lmp_kubelet_up ", 1) == 1);
	agent_stop();
	fake_kubelet_free(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_kubelet_replies),
		cmocka_unit_test(test_kubelet_url_404),
		cmocka_unit_test(test_slow_clients_do_not_take_healthz),
		cmocka_unit_test(test_apiserver_fallback),
	};

	return cmocka_run_group_tests_name("hostile", tests, setup, teardown) ? 1 : 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP endpoint: a real server on 127.0.0.1 (free port), driven by the agent's real event
 * loop in a second thread, and real libcurl requests from the test thread: routes, status
 * codes, gzip, oversized headers, a slow client, the connection cap, and a live /metrics
 * scrape linted by promtool.
 *
 * One file over 600 lines: every case drives the same
 * server-and-loop fixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "expose/http.h"
#include "k8s/identity.h"
#include "base/loop.h"
#include "expose/metrics.h"

#include "agent_server.h"

#define MAX_CONNS 8
#define TIMEOUT_S 1

struct server {
	struct lmp_test_server t; /* first: the handlers' ctx is the server */
	atomic_int ready;
	atomic_int probes_fail;
};

static bool is_ready(void *ctx)
{
	return atomic_load(&((struct server *)ctx)->ready);
}

static int probes_json(void *ctx, char **out, size_t *len)
{
	struct server *s = ctx;

	if (atomic_load(&s->probes_fail))
		return -EIO;
	*out = strdup("[{\"probe\":\"process\",\"state\":\"attached\",\"attach\":\"tp_btf\"}]");
	*len = strlen(*out);
	return 0;
}

/* echoes the query it was given, so the test sees what the route parsed */
static int deaths_json(void *ctx, const char *ns, const char *pod, const char *container,
		       char **out, size_t *len)
{
	json_t *o =
		json_pack("{s:s?,s:s?,s:s?}", "namespace", ns, "pod", pod, "container", container);

	*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	*len = *out ? strlen(*out) : 0;
	return *out ? 0 : -ENOMEM;
}

static int setup(void **state)
{
	struct lmp_identity pod = { .namespace = "default", .pod = "web-1", .container = "nginx" };
	struct lmp_http_opts opts = { .listen = "127.0.0.1:0",
				      .max_conns = MAX_CONNS,
				      .conn_memory = 16 * 1024,
				      .timeout_s = TIMEOUT_S };
	struct lmp_http_handlers h = { .probes_json = probes_json,
				       .ready = is_ready,
				       .deaths_json = deaths_json };
	struct lmp_hist hist = { .slots = { [16] = 10 }, .sum = 10 * 70000 };
	struct server *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	h.ctx = s;
	lmp_test_server_new(&s->t, 1000);
	lmp_metrics_set2(s->t.m, &lmp_metric_probe_up, NULL, "process", "tp_btf", 1);
	lmp_metrics_set(s->t.m, &lmp_metric_events_lost_total, NULL, "process", 0);
	/* enough series that /metrics is well above the gzip threshold */
	for (int i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "web-%d", i);
		pod.pod = name;
		lmp_metrics_hist_add(s->t.m, &lmp_test_connlat, &pod, NULL, &hist);
	}
	lmp_metrics_interval_mark(s->t.m);
	lmp_test_server_start(&s->t, &opts, &h);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct server *s = *state;

	lmp_test_server_stop(&s->t);
	free(s);
	return 0;
}

struct resp {
	long code;
	char *body;
	size_t len;
	char headers[4096];
	size_t hlen;
	CURLcode rc;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	char *b = realloc(r->body, r->len + sz * n + 1);

	if (!b)
		return 0;
	memcpy(b + r->len, p, sz * n);
	r->len += sz * n;
	b[r->len] = '\0';
	r->body = b;
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;

	if (r->hlen + k < sizeof(r->headers)) {
		memcpy(r->headers + r->hlen, p, k);
		r->hlen += k;
		r->headers[r->hlen] = '\0';
	}
	return k;
}

/* one request; extra is a header line or NULL; timeout in ms */
static void request(const struct server *s, const char *method, const char *path, const char *extra,
		    long timeout_ms, struct resp *r)
{
	struct curl_slist *hdrs = NULL;
	CURL *c = curl_easy_init();
	char url[256];

	memset(r, 0, sizeof(*r));
	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->t.port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* see the raw gzip bytes */
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (extra) {
		hdrs = curl_slist_append(hdrs, extra);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* method path answers code within timeout_ms */
static void expect_code(const struct server *s, const char *method, const char *path,
			long timeout_ms, long code)
{
	struct resp r;

	request(s, method, path, NULL, timeout_ms, &r);
	assert_int_equal(r.code, code);
	free(r.body);
}

static void get(const struct server *s, const char *path, struct resp *r)
{
	request(s, "GET", path, NULL, 5000, r);
	assert_int_equal(r->rc, CURLE_OK);
}

static bool has_header(const struct resp *r, const char *line)
{
	return strcasestr(r->headers, line) != NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_http_routes_and_status_codes(void **state)
{
	struct server *s = *state;
	struct resp r;

	get(s, "/healthz", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);

	get(s, "/nope", &r);
	assert_int_equal(r.code, 404);
	free(r.body);
	get(s, "/metrics/", &r); /* no prefix matching */
	assert_int_equal(r.code, 404);
	free(r.body);

	request(s, "POST", "/metrics", NULL, 5000, &r);
	assert_int_equal(r.code, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD"));
	free(r.body);
	expect_code(s, "DELETE", "/api/v1/pods", 5000, 405);
	expect_code(s, "PUT", "/healthz", 5000, 405);

	request(s, "HEAD", "/metrics", NULL, 5000, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.len, 0);
	free(r.body);

	get(s, "/", &r);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "/api/v1/pods"));
	assert_non_null(strstr(r.body, "/api/v1/deaths"));
	free(r.body);
}

static void test_http_deaths_query(void **state)
{
	struct server *s = *state;
	struct resp r;

	get(s, "/api/v1/deaths?namespace=shop&pod=web%2D1&container=nginx", &r);
	assert_int_equal(r.code, 200);
	assert_true(has_header(&r, "Content-Type: application/json"));
	assert_string_equal(r.body, "{\"container\":\"nginx\",\"namespace\":\"shop\","
				    "\"pod\":\"web-1\"}");
	free(r.body);
	get(s, "/api/v1/deaths", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "{\"container\":null,\"namespace\":null,\"pod\":null}");
	free(r.body);
	expect_code(s, "POST", "/api/v1/deaths", 5000, 405);
}

static void test_http_readyz_follows_agent(void **state)
{
	struct server *s = *state;
	struct resp r;

	atomic_store(&s->ready, 0);
	get(s, "/readyz", &r);
	assert_int_equal(r.code, 503);
	free(r.body);
	atomic_store(&s->ready, 1);
	get(s, "/readyz", &r);
	assert_int_equal(r.code, 200);
	free(r.body);
}

static void test_http_api_json(void **state)
{
	struct server *s = *state;
	json_t *j, *row;
	struct resp r;

	get(s, "/api/v1/probes", &r);
	assert_int_equal(r.code, 200);
	assert_true(has_header(&r, "Content-Type: application/json"));
	j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "attach")),
			    "tp_btf");
	json_decref(j);
	free(r.body);

	atomic_store(&s->probes_fail, 1);
	get(s, "/api/v1/probes", &r);
	assert_int_equal(r.code, 500);
	free(r.body);
	atomic_store(&s->probes_fail, 0);

	/* no pods_json handler: the registry's own view */
	get(s, "/api/v1/pods", &r);
	assert_int_equal(r.code, 200);
	j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "pods")), 50);
	row = json_array_get(json_object_get(j, "pods"), 0);
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(json_object_get(row, "histograms"),
								 "lmp_tcp_connect_latency_seconds"),
						 "count")),
			 10);
	json_decref(j);
	free(r.body);
}

static char *gunzip(const char *in, size_t len, size_t *outlen)
{
	size_t cap = len * 64 + 4096;
	char *out = malloc(cap + 1);
	z_stream z = { 0 };

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = (Bytef *)out;
	z.avail_out = cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	out[*outlen] = '\0';
	inflateEnd(&z);
	return out;
}

static void test_http_metrics_gzip(void **state)
{
	struct server *s = *state;
	struct resp plain, gz, q0;
	char *unz, *cut;
	size_t unzlen;

	get(s, "/metrics", &plain);
	assert_int_equal(plain.code, 200);
	assert_true(has_header(&plain, "Content-Type: text/plain; version=0.0.4"));
	assert_false(has_header(&plain, "Content-Encoding"));
	assert_non_null(
		strstr(plain.body, "lmp_probe_up{probe=\"process\",attach=\"tp_btf\"} 1\n"));

	request(s, "GET", "/metrics", "Accept-Encoding: deflate, gzip;q=0.5", 5000, &gz);
	assert_int_equal(gz.rc, CURLE_OK);
	assert_int_equal(gz.code, 200);
	assert_true(has_header(&gz, "Content-Encoding: gzip"));
	assert_true(gz.len * 4 < plain.len); /* repetitive label text compresses well */
	unz = gunzip(gz.body, gz.len, &unzlen);
	/* identical up to the request counter, which counted the first scrape */
	cut = strstr(unz, "# HELP lmp_http_requests_total");
	assert_non_null(cut);
	assert_memory_equal(unz, plain.body, cut - unz);
	free(unz);

	request(s, "GET", "/metrics", "Accept-Encoding: gzip;q=0, identity", 5000, &q0);
	assert_int_equal(q0.code, 200);
	assert_false(has_header(&q0, "Content-Encoding"));
	assert_non_null(strstr(q0.body, "# TYPE lmp_tcp_connect_latency_seconds histogram\n"));
	free(plain.body);
	free(gz.body);
	free(q0.body);
}

static void test_http_accept_encoding_parser(void **state)
{
	assert_true(lmp_http_accepts_gzip("gzip"));
	assert_true(lmp_http_accepts_gzip("br, GZIP"));
	assert_true(lmp_http_accepts_gzip("deflate;q=1, gzip ; q=0.1"));
	assert_true(lmp_http_accepts_gzip("*"));
	assert_false(lmp_http_accepts_gzip(NULL));
	assert_false(lmp_http_accepts_gzip(""));
	assert_false(lmp_http_accepts_gzip("identity"));
	assert_false(lmp_http_accepts_gzip("gzip;q=0"));
	assert_false(lmp_http_accepts_gzip("gzip;q=0.000, br"));
	assert_false(lmp_http_accepts_gzip("gzipx, xgzip"));
}

/* a live scrape of the running server passes promtool's lint */
static void test_http_scrape_passes_promtool(void **state)
{
	struct server *s = *state;
	struct resp r;

	get(s, "/metrics", &r);
	assert_int_equal(r.code, 200);
	/* the requests of the earlier tests are counted by handler and code */
	assert_non_null(
		strstr(r.body, "lmp_http_requests_total{handler=\"healthz\",code=\"200\"}"));
	lmp_test_promtool_check(r.body, r.len);
	free(r.body);
}

static void test_http_oversized_headers(void **state)
{
	struct server *s = *state;
	size_t n = 40 * 1024; /* more than the 16 KiB a connection may use */
	char *big = malloc(n + 16);
	struct resp r;

	assert_non_null(big);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', n);
	big[7 + n] = '\0';
	request(s, "GET", "/metrics", big, 5000, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.code, 431);
	free(r.body);
	free(big);
	/* the server is fine afterwards */
	get(s, "/healthz", &r);
	assert_int_equal(r.code, 200);
	free(r.body);
}

static int raw_connect(const struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->t.port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void test_http_slow_client_does_not_block(void **state)
{
	static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct timeval tv = { .tv_sec = 5 };
	struct server *s = *state;
	double t0, t1;
	struct resp r;
	char buf[256];
	ssize_t got;
	int fd = raw_connect(s);

	/* half a request, then silence */
	assert_int_equal(send(fd, partial, sizeof(partial) - 1, 0), sizeof(partial) - 1);
	t0 = now_s();
	for (int i = 0; i < 5; i++) {
		get(s, "/metrics", &r);
		assert_int_equal(r.code, 200);
		free(r.body);
	}
	t1 = now_s();
	assert_true(t1 - t0 < 0.5 * TIMEOUT_S);
	/* the slow one is dropped after the timeout, without an answer */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	got = recv(fd, buf, sizeof(buf), 0);
	t1 = now_s();
	assert_true(got == 0 || (got < 0 && errno == ECONNRESET));
	assert_true(t1 - t0 >= TIMEOUT_S - 0.2);
	assert_true(t1 - t0 < TIMEOUT_S + 3);
	close(fd);
}

/*
 * Every slot taken by clients that send half a request (more than the server's slots, all
 * from one address): /healthz is still answered, every time, other paths get 503 "busy"
 * instead of waiting, and once the slow clients are gone everything is served again.
 */
static void test_http_healthz_answers_with_every_slot_taken(void **state)
{
	static const char partial[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct server *s = *state;
	int fds[2 * MAX_CONNS];
	struct resp r;

	for (int i = 0; i < 2 * MAX_CONNS; i++) {
		fds[i] = raw_connect(s);
		assert_int_equal(send(fds[i], partial, sizeof(partial) - 1, 0),
				 sizeof(partial) - 1);
	}
	usleep(100 * 1000); /* let the loop accept them */
	for (int i = 0; i < 10; i++) {
		request(s, "GET", "/healthz", NULL, 2000, &r);
		assert_int_equal(r.rc, CURLE_OK);
		assert_int_equal(r.code, 200);
		assert_string_equal(r.body, "ok\n");
		free(r.body);
	}
	expect_code(s, "HEAD", "/healthz", 2000, 200);
	request(s, "GET", "/metrics", NULL, 2000, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.code, 503);
	free(r.body);
	for (int i = 0; i < 2 * MAX_CONNS; i++)
		close(fds[i]);
	usleep(100 * 1000);
	get(s, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "lmp_http_overflow_connections_total "));
	free(r.body);
}

static int deadline_closed(struct server *s)
{
	static const char key[] = "lmp_http_connections_closed_total{reason=\"deadline\"} ";
	struct resp r;
	char *p;
	int n;

	get(s, "/metrics", &r);
	p = strstr(r.body, key);
	assert_non_null(p);
	n = atoi(p + sizeof(key) - 1);
	free(r.body);
	return n;
}

/*
 * A client that sends a header line every 200 ms is never idle, yet it is cut off at the
 * request deadline (TIMEOUT_S), and says so in lmp_http_connections_closed_total.
 */
static void test_http_trickling_client_meets_the_deadline(void **state)
{
	struct server *s = *state;
	int before = deadline_closed(s), fd = raw_connect(s);
	double t0 = now_s(), t1;
	char line[64];
	int i;

	assert_int_equal(send(fd, "GET /metrics HTTP/1.1\r\n", 23, 0), 23);
	for (i = 0; i < 50; i++) {
		int n = snprintf(line, sizeof(line), "X-Line-%d: a\r\n", i);

		usleep(200 * 1000);
		if (send(fd, line, n, MSG_NOSIGNAL) < 0)
			break;
		/* the server closed it: the next send or a read sees it */
		if (recv(fd, line, sizeof(line), MSG_DONTWAIT) == 0)
			break;
	}
	t1 = now_s();
	close(fd);
	assert_true(i < 50);
	assert_true(t1 - t0 >= TIMEOUT_S - 0.2);
	assert_true(t1 - t0 < TIMEOUT_S + 2);
	assert_int_equal(deadline_closed(s), before + 1);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ask a Prometheus server an instant query; returns the first sample's value or NAN */
static double prom_query(int port, const char *promql)
{
	char url[512], *q;
	CURL *c = curl_easy_init();
	struct resp r = { 0 };
	const char *vs;
	double v = NAN;
	json_t *j, *res;

	assert_non_null(c);
	q = curl_easy_escape(c, promql, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/query?query=%s", port, q);
	curl_free(q);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	if (curl_easy_perform(c) == CURLE_OK && r.body) {
		j = json_loads(r.body, 0, NULL);
		res = json_array_get(json_object_get(json_object_get(j, "data"), "result"), 0);
		vs = json_string_value(json_array_get(json_object_get(res, "value"), 1));
		if (vs)
			v = strtod(vs, NULL);
		json_decref(j);
	}
	free(r.body);
	curl_easy_cleanup(c);
	return v;
}

/*
 * A real Prometheus (Debian package prometheus) scrapes the server every second; its query
 * API must return the per-pod histogram series, and a quantile in the right log2 bucket.
 */
static void test_http_real_prometheus_scrapes(void **state)
{
	struct server *s = *state;
	char dir[] = "/tmp/lmp-prom-XXXXXX", cfg[128], data[128], log[128], listen[64], cmd[256];
	int pport = free_port(), st;
	double count = NAN, up = NAN, p50;
	pid_t pid;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", pport);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
		"global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
		"scrape_configs:\n"
		"  - job_name: lmp\n"
		"    static_configs: [{targets: ['127.0.0.1:%d']}]\n",
		s->t.port);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "--config.file=%s/prometheus.yml", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execlp("prometheus", "prometheus", cfg, data, listen, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300 && !(count >= 0 && up == 1); i++) {
		usleep(100 * 1000);
		count = prom_query(pport,
				   "lmp_tcp_connect_latency_seconds_count{namespace=\"default\","
				   "pod=\"web-7\",container=\"nginx\"}");
		up = prom_query(pport, "up{job=\"lmp\"}");
	}
	/* slot 16 holds [65536, 131072) ns: the median of 10 values interpolates to 98304 ns */
	p50 = prom_query(pport, "histogram_quantile(0.5, lmp_tcp_connect_latency_seconds_bucket"
				"{pod=\"web-7\"})");
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_true(up == 1);
	assert_true(count == 10);
	assert_true(fabs(p50 - 98304e-9) < 1e-12);
}

static void test_http_listen_addresses(void **state)
{
	struct lmp_http_opts o = { 0 };
	struct server *s = *state;
	struct lmp_http *h = (void *)1;
	struct lmp_loop *loop;
	struct lmp_metrics *m;
	char addr[64];

	assert_int_equal(lmp_loop_new(&loop), 0);
	assert_int_equal(lmp_metrics_new(10, &m), 0);
	o.listen = "none";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), 0);
	assert_null(h);
	o.listen = "";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), 0);
	assert_null(h);
	o.listen = "no-port";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), -EINVAL);
	o.listen = "127.0.0.1:";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), -EINVAL);
	o.listen = "999.1.1.1:80";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), -EINVAL);
	/* the test server's port is taken */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->t.port);
	o.listen = addr;
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), -EADDRINUSE);
	o.listen = "[::1]:0";
	assert_int_equal(lmp_http_new(loop, &o, m, NULL, &h), 0);
	assert_non_null(h);
	assert_true(lmp_http_port(h) > 0);
	lmp_http_free(h);
	lmp_http_free(NULL);
	lmp_metrics_free(m);
	lmp_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_routes_and_status_codes),
		cmocka_unit_test(test_http_deaths_query),
		cmocka_unit_test(test_http_readyz_follows_agent),
		cmocka_unit_test(test_http_api_json),
		cmocka_unit_test(test_http_metrics_gzip),
		cmocka_unit_test(test_http_accept_encoding_parser),
		cmocka_unit_test(test_http_scrape_passes_promtool),
		cmocka_unit_test(test_http_oversized_headers),
		cmocka_unit_test(test_http_slow_client_does_not_block),
		cmocka_unit_test(test_http_healthz_answers_with_every_slot_taken),
		cmocka_unit_test(test_http_trickling_client_meets_the_deadline),
		cmocka_unit_test(test_http_real_prometheus_scrapes),
		cmocka_unit_test(test_http_listen_addresses),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}

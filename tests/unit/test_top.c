// SPDX-License-Identifier: Apache-2.0
/*
 * `lmp top`: the table and JSON views of a known /api/v1/pods document (units, sorting by
 * worst p99, missing values), bad documents, and `lmp top --once` against a real agent HTTP
 * server on 127.0.0.1 fed by the metrics registry.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/config.h"
#include "expose/http.h"
#include "k8s/identity.h"
#include "base/loop.h"
#include "expose/metrics.h"
#include "core/fetch.h"
#include "core/top.h"

#include "agent_server.h"

static const char doc[] =
	"{\"interval_seconds\":10.0,\"pods\":["
	"{\"namespace\":\"default\",\"pod\":\"web-1\",\"container\":\"nginx\","
	" \"histograms\":{\"lmp_tcp_connect_latency_seconds\":"
	"   {\"count\":10,\"sum\":0.001,\"p50\":0.00012,\"p90\":0.0002,\"p99\":0.0031},"
	"  \"lmp_run_queue_latency_seconds\":"
	"   {\"count\":40,\"sum\":0.01,\"p50\":0.0001,\"p90\":0.001,\"p99\":0.0025}},"
	" \"counters\":{\"lmp_syscalls_total\":{\"total\":1000,\"rate\":812.4},"
	"   \"lmp_oom_kills_total\":{\"total\":1,\"rate\":0.1}},\"gauges\":{}},"
	"{\"namespace\":\"kube-system\",\"pod\":\"coredns-7\",\"container\":\"coredns\","
	" \"histograms\":{\"lmp_block_io_latency_seconds\":"
	"   {\"count\":3,\"sum\":1,\"p50\":0.25,\"p90\":1,\"p99\":1.5},"
	"   \"lmp_block_io_size_bytes\":{\"count\":3,\"sum\":12288,\"p50\":4096,\"p90\":null,"
	"   \"p99\":8000}},"
	" \"counters\":{\"lmp_signals_total\":{\"total\":3,\"rate\":null}},\"gauges\":{}},"
	"{\"namespace\":\"default\",\"pod\":\"idle\",\"container\":\"\","
	" \"histograms\":{},\"counters\":{},\"gauges\":{}}]}";

static char *print(const char *d, bool json, int want)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(lmp_top_print(f, d, strlen(d), json, err, sizeof(err)), want);
	fclose(f);
	if (want < 0) {
		assert_true(strlen(err) > 0);
		free(buf);
		return strdup(err);
	}
	return buf;
}

static void test_top_table_sorted_by_worst_p99(void **state)
{
	char *out = print(doc, false, 0);

	assert_string_equal(
		out, "NAMESPACE    POD        CONTAINER  CONNECT-P50  CONNECT-P99  RTT-P50  RTT-P99"
		     "  BIO-P50  BIO-P99  BIO-SIZE  RUNQ-P99  SYSCALLS/S      OOM  SIGNALS\n"
		     "kube-system  coredns-7  coredns              -            -        -        -"
		     "    250ms     1.5s      4.0K         -           -        -        3\n"
		     "default      web-1      nginx            120us        3.1ms        -        -"
		     "        -        -         -     2.5ms         812        1        -\n"
		     "default      idle       -                    -            -        -        -"
		     "        -        -         -         -           -        -        -\n"
		     "(quantiles and rates over the agent's last 10 s interval)\n");
	free(out);
}

/*
 * Names come from the agent's answer, which took them from the kubelet and the cgroup
 * tree: an escape sequence, a newline, invalid UTF-8 or a bidi override must reach the
 * terminal escaped, and the columns stay aligned on what is printed.
 */
static void test_top_table_escapes_names(void **state)
{
	static const char hostile[] =
		"{\"interval_seconds\":null,\"pods\":["
		"{\"namespace\":\"ns\\u001b[2J\",\"pod\":\"sl\\u001b\\n\\u00ff\\\"p\","
		" \"container\":\"c\\u009b\\u202e x\",\"histograms\":{},\"counters\":"
		"{\"lmp_oom_kills_total\":{\"total\":2,\"rate\":null}},\"gauges\":{}}]}";
	char *out = print(hostile, false, 0);

	print_message("%s", out);
	assert_string_equal(
		out,
		"NAMESPACE  POD             CONTAINER            CONNECT-P50  CONNECT-P99  RTT-P50"
		"  RTT-P99  BIO-P50  BIO-P99  BIO-SIZE  RUNQ-P99  SYSCALLS/S      OOM  SIGNALS\n"
		"ns\\x1b[2J  sl\\x1b\\x0a\xc3\xbf\"p  c\\u{009b}\\u{202e}_x            -"
		"            -        -        -        -        -         -         -           -        2"
		"        -\n");
	free(out);
}

static void test_top_json_rows(void **state)
{
	char *out = print(doc, true, 0);
	json_t *j = json_loads(out, 0, NULL), *row;

	assert_non_null(j);
	assert_int_equal(strchr(out, '\n') - out, strlen(out) - 1); /* one line */
	assert_int_equal(json_array_size(json_object_get(j, "pods")), 3);
	row = json_array_get(json_object_get(j, "pods"), 1);
	assert_string_equal(json_string_value(json_object_get(row, "pod")), "web-1");
	assert_true(json_number_value(json_object_get(row, "tcp_connect_p99_seconds")) == 0.0031);
	assert_true(json_number_value(json_object_get(row, "syscalls_per_second")) == 812.4);
	assert_true(json_number_value(json_object_get(row, "run_queue_p99_seconds")) == 0.0025);
	assert_true(json_is_null(json_object_get(row, "block_io_p99_seconds")));
	json_decref(j);
	free(out);
}

static void test_top_empty_and_bad_documents(void **state)
{
	char *out = print("{\"interval_seconds\":null,\"pods\":[]}", false, 0);

	assert_non_null(strstr(out, "no pod activity yet"));
	free(out);
	out = print("<html>", false, -EINVAL);
	assert_non_null(strstr(out, "not an lmp /api/v1/pods document"));
	free(out);
	out = print("{\"pods\":{}}", false, -EINVAL);
	free(out);
	out = print("{\"pods\":[{\"pod\":\"x\"}]}", true, -EINVAL);
	assert_non_null(strstr(out, "lacks namespace"));
	free(out);
}

/* ---- against a real agent HTTP server ---- */

/* run `lmp top` with stdout into a file; returns what it printed */
static char *run_top(struct lmp_config *cfg, int *status)
{
	char path[] = "/tmp/lmp-top-XXXXXX", *buf;
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	long n;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	*status = lmp_top_main(cfg);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
	unlink(path);
	return buf;
}

static void test_top_once_against_agent(void **state)
{
	struct lmp_identity a = { .namespace = "team-a", .pod = "api-0", .container = "app" };
	struct lmp_identity b = { .namespace = "team-b", .pod = "db-0", .container = "pg" };
	struct lmp_http_opts opts = { .listen = "127.0.0.1:0" };
	struct lmp_hist fast = { .slots = { [14] = 100 } }, slow = { .slots = { [24] = 100 } };
	struct lmp_config cfg = { .command = LMP_CMD_TOP, .once = true };
	struct lmp_test_server s = { 0 };
	char url[64], *out;
	int status;

	lmp_test_server_new(&s, 100);
	lmp_metrics_hist_add(s.m, &lmp_test_connlat, &a, NULL, &fast);
	lmp_metrics_hist_add(s.m, &lmp_test_connlat, &b, NULL, &slow);
	lmp_metrics_interval_mark(s.m);
	lmp_test_server_start(&s, &opts, NULL);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	cfg.agent_url = url;
	out = run_top(&cfg, &status);
	assert_int_equal(status, 0);
	/* db-0 (slot 24, p99 ~33 ms) above api-0 (slot 14, p99 ~33 us) */
	assert_non_null(strstr(out, "\nteam-b     db-0   pg   "));
	assert_true(strstr(out, "db-0") < strstr(out, "api-0"));
	assert_non_null(strstr(out, "  25ms         33ms  "));
	assert_non_null(strstr(out, "  25us         33us  "));
	free(out);

	cfg.json = true;
	out = run_top(&cfg, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "\"pod\":\"api-0\""));
	free(out);

	lmp_test_server_stop(&s);

	/* the agent is gone: exit status 1 and nothing on stdout */
	out = run_top(&cfg, &status);
	assert_int_equal(status, 1);
	assert_string_equal(out, "");
	free(out);
}

static void test_top_fetch_errors(void **state)
{
	const char *const query[] = { "namespace", "a/b", "pod", "x y", NULL };
	char err[256], *body = NULL, path[3000];
	size_t len;

	assert_int_equal(lmp_agent_get("http://127.0.0.1:1/", "/api/v1/pods", NULL, 1 << 20, &body,
				       &len, err, sizeof(err)),
			 -EIO);
	assert_non_null(strstr(err, "cannot read http://127.0.0.1:1/api/v1/pods"));
	assert_null(body);
	/* query values escaped, the agent URL's trailing slash dropped */
	assert_int_equal(lmp_agent_get("http://127.0.0.1:1//", "/api/v1/deaths", query, 1 << 20,
				       &body, &len, err, sizeof(err)),
			 -EIO);
	assert_non_null(strstr(
		err, "cannot read http://127.0.0.1:1/api/v1/deaths?namespace=a%2Fb&pod=x%20y:"));
	assert_null(body);
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	assert_int_equal(lmp_agent_get("http://127.0.0.1:1", path, NULL, 1 << 20, &body, &len, err,
				       sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "agent URL too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_table_sorted_by_worst_p99),
		cmocka_unit_test(test_top_json_rows),
		cmocka_unit_test(test_top_table_escapes_names),
		cmocka_unit_test(test_top_empty_and_bad_documents),
		cmocka_unit_test(test_top_once_against_agent),
		cmocka_unit_test(test_top_fetch_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

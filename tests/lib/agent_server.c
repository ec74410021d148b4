// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "agent_server.h"
#include "base/loop.h"

const struct lmp_metric_desc lmp_test_connlat = {
	.name = "lmp_tcp_connect_latency_seconds",
	.help = "TCP active open latency",
	.type = LMP_METRIC_HISTOGRAM,
	.scale = 1e-9,
	.per_pod = true,
};

static void check_stop(void *ctx)
{
	struct lmp_test_server *s = ctx;

	if (atomic_load(&s->stop))
		lmp_loop_stop(s->loop);
}

static void *run_loop(void *arg)
{
	lmp_loop_run(((struct lmp_test_server *)arg)->loop);
	return NULL;
}

void lmp_test_server_new(struct lmp_test_server *s, size_t max_series)
{
	assert_int_equal(lmp_loop_new(&s->loop), 0);
	assert_int_equal(lmp_metrics_new(max_series, &s->m), 0);
}

void lmp_test_server_start(struct lmp_test_server *s, const struct lmp_http_opts *opts,
			   const struct lmp_http_handlers *h)
{
	assert_int_equal(lmp_http_new(s->loop, opts, s->m, h, &s->http), 0);
	assert_non_null(s->http);
	s->port = lmp_http_port(s->http);
	assert_true(s->port > 0);
	assert_true(lmp_loop_add_timer(s->loop, 10, true, check_stop, s) > 0);
	assert_int_equal(pthread_create(&s->thread, NULL, run_loop, s), 0);
}

void lmp_test_server_stop(struct lmp_test_server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	lmp_http_free(s->http);
	lmp_metrics_free(s->m);
	lmp_loop_free(s->loop);
}

void lmp_test_promtool_check(const char *text, size_t len)
{
	char path[] = "/tmp/lmp-metrics-XXXXXX", cmd[128];
	int fd = mkstemp(path), st;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	st = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests of the HTTP side: the agent's HTTP server on its own event loop, run on a
 * thread, over a metrics registry the test fills. Used with cmocka (it asserts).
 */
#ifndef LMP_TEST_AGENT_SERVER_H
#define LMP_TEST_AGENT_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "expose/http.h"
#include "expose/metrics.h"

struct lmp_loop;

struct lmp_test_server {
	struct lmp_loop *loop;
	struct lmp_metrics *m;
	struct lmp_http *http;
	pthread_t thread;
	atomic_int stop;
	int port;
};

/* the TCP connect latency histogram, a per-pod metric the tests fill */
extern const struct lmp_metric_desc lmp_test_connlat;

/* make the loop and a metrics registry of at most max_series: fill s->m, then start */
void lmp_test_server_new(struct lmp_test_server *s, size_t max_series);
/* serve s->m as opts and h say (h may be NULL); the loop runs on a thread until stopped */
void lmp_test_server_start(struct lmp_test_server *s, const struct lmp_http_opts *opts,
			   const struct lmp_http_handlers *h);
/* stop the loop, join its thread, free the server, the metrics and the loop */
void lmp_test_server_stop(struct lmp_test_server *s);

/* promtool (Debian package prometheus) accepts text, len bytes of exposition format */
void lmp_test_promtool_check(const char *text, size_t len);

#endif /* LMP_TEST_AGENT_SERVER_H */

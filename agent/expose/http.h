/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's read-only HTTP endpoint: libmicrohttpd in external-epoll mode on the agent's
 * loop, no thread. Routes and the limits against slow clients: docs/metrics.md.
 */
#ifndef LMP_HTTP_H
#define LMP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct lmp_loop;
struct lmp_metrics;
struct lmp_http;

/*
 * Run on the loop thread. The JSON ones return 0 with a malloc'd *out (the server frees
 * it) or -errno (500). NULL: probes 503, pods lmp_metrics_pods_json, ready true.
 */
struct lmp_http_handlers {
	int (*probes_json)(void *ctx, char **out, size_t *len);
	int (*pods_json)(void *ctx, char **out, size_t *len);
	bool (*ready)(void *ctx);
	/* optional: added to the /readyz body */
	void (*ready_detail)(void *ctx, char *buf, size_t len);
	/* each NULL when absent from the query; NULL: 503 */
	int (*deaths_json)(void *ctx, const char *ns, const char *pod, const char *container,
			   char **out, size_t *len);
	bool (*stopping)(void *ctx); /* NULL: never */
	void *ctx;
};

struct lmp_http_opts {
	/* "ADDR:PORT" or "[v6]:PORT"; "" or "none": no server */
	const char *listen;
	unsigned max_conns; /* 0: 64 */
	size_t conn_memory; /* bounds the request head; 0: 32 KiB */
	unsigned timeout_s; /* first byte to answer; 0: 10 s */
	unsigned per_ip;    /* 0: max_conns / 4 */
};

/*
 * 0 with *out NULL when listen is "" or "none". -EINVAL for a bad address, -errno from
 * bind, -EIO when libmicrohttpd refuses. m and handlers must outlive the server.
 */
int lmp_http_new(struct lmp_loop *loop, const struct lmp_http_opts *opts, struct lmp_metrics *m,
		 const struct lmp_http_handlers *handlers, struct lmp_http **out);
void lmp_http_free(struct lmp_http *h);

int lmp_http_port(const struct lmp_http *h);

/* exported for tests */
bool lmp_http_accepts_gzip(const char *accept_encoding);

#endif /* LMP_HTTP_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's HTTP endpoint: libmicrohttpd in external-epoll mode, driven from the agent's
 * own event loop (no thread). Read-only routes:
 *
 *   GET /metrics         Prometheus text, gzip when Accept-Encoding allows it
 *   GET /healthz         200 while the loop runs; 503 "stopping" while the agent stops
 *   GET /readyz          200 when handlers->ready says so, else 503
 *   GET /api/v1/probes   JSON from handlers->probes_json; 503 "stopping" while stopping
 *   GET /api/v1/pods     JSON from handlers->pods_json, or lmp_metrics_pods_json
 *
 * Unknown paths get 404, other methods 405. Requests whose headers exceed the per-connection
 * memory get 431 from libmicrohttpd, connections beyond the limit are closed at accept, and
 * idle or slow clients are dropped after the timeout; none of them blocks the loop.
 */
#ifndef LMP_HTTP_H
#define LMP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct lmp_loop;
struct lmp_metrics;
struct lmp_http;

/*
 * Callbacks into the agent, all run on the loop thread. The JSON ones return 0 with a
 * malloc'd document in *out (freed by the server) or -errno (the client gets 500). A NULL
 * callback: probes answers 503, pods falls back to lmp_metrics_pods_json, ready counts as
 * ready, stopping as not stopping.
 */
struct lmp_http_handlers {
	int (*probes_json)(void *ctx, char **out, size_t *len);
	int (*pods_json)(void *ctx, char **out, size_t *len);
	bool (*ready)(void *ctx);
	bool (*stopping)(void *ctx); /* NULL: never */
	void *ctx;
};

struct lmp_http_opts {
	/* "ADDR:PORT" or "[v6]:PORT"; port 0 picks a free one; "" or "none": no server */
	const char *listen;
	unsigned max_conns; /* concurrent connections; 0: 64 */
	size_t conn_memory; /* bytes per connection, bounds the request head; 0: 32 KiB */
	unsigned timeout_s; /* idle/slow connection timeout; 0: 10 s */
};

/*
 * Bind, listen and register with the loop. *out is NULL (and 0 returned) when listen is
 * "" or "none". -EINVAL for a malformed address, -errno from bind (EADDRINUSE, EACCES...),
 * -EIO when libmicrohttpd refuses to start. metrics and handlers must outlive the server.
 */
int lmp_http_new(struct lmp_loop *loop, const struct lmp_http_opts *opts, struct lmp_metrics *m,
		 const struct lmp_http_handlers *handlers, struct lmp_http **out);
void lmp_http_free(struct lmp_http *h);

/* the bound TCP port (useful with port 0) */
int lmp_http_port(const struct lmp_http *h);

/* true if an Accept-Encoding header value admits gzip (exported for tests) */
bool lmp_http_accepts_gzip(const char *accept_encoding);

#endif /* LMP_HTTP_H */

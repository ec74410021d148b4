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
 *   GET /api/v1/deaths   JSON from handlers->deaths_json (?namespace=&pod=&container=)
 *
 * Unknown paths get 404, other methods 405. Requests whose headers exceed the per-connection
 * memory get 431 from libmicrohttpd. A request must arrive and be answered within the
 * timeout, however steadily it trickles in; one client address holds at most per_ip of the
 * max_conns slots; a connection beyond either limit still gets /healthz answered (anything
 * else: 503). None of them blocks the loop.
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
	/* optional: why (not) ready, a line or two added to the /readyz body */
	void (*ready_detail)(void *ctx, char *buf, size_t len);
	/* the query's namespace, pod and container, each NULL when absent; NULL: 503 */
	int (*deaths_json)(void *ctx, const char *ns, const char *pod, const char *container,
			   char **out, size_t *len);
	bool (*stopping)(void *ctx); /* NULL: never */
	void *ctx;
};

struct lmp_http_opts {
	/* "ADDR:PORT" or "[v6]:PORT"; port 0 picks a free one; "" or "none": no server */
	const char *listen;
	unsigned max_conns; /* concurrent connections; 0: 64 */
	size_t conn_memory; /* bytes per connection, bounds the request head; 0: 32 KiB */
	unsigned timeout_s; /* deadline of a request, from its first byte to its answer; 0: 10 s */
	unsigned per_ip;    /* connections one client address may hold; 0: max_conns / 4 */
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

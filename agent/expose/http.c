// SPDX-License-Identifier: Apache-2.0
/*
 * libmicrohttpd glue. MHD runs in external-epoll mode: it keeps its own epoll set of the
 * listening socket and client connections, and we watch that one fd in the agent loop.
 * When it is readable, or when the time MHD_get_timeout asks for has passed, MHD_run does
 * the ready work without blocking. Everything therefore runs on the loop thread, and the
 * registry needs no lock; the price is that rendering /metrics pauses event processing for
 * the few milliseconds it takes.
 *
 * We create and watch the listening socket ourselves (IPv4, IPv6 and port 0 alike) and hand
 * each accepted connection to MHD, so that no client can take the server over (issue 15):
 *
 *  - a request must be read and answered within the deadline (timeout_s) from its
 *    connection's start or the end of the previous request on it, however steadily it
 *    trickles in: MHD's own timeout is an idle timeout, which every byte restarts, so a
 *    sweep shuts down what is over time;
 *  - one client address gets at most per_ip of the max_conns slots;
 *  - a connection beyond either limit goes to the overflow responder, which answers
 *    /healthz (and says "busy" to anything else) from one read of the request head,
 *    TCP_DEFER_ACCEPT having the kernel hand the connection over once that head arrived;
 *    heads that come in pieces wait in a few slots for 2 s at most, the oldest making
 *    room for the newest.
 *
 * One file over 600 lines: routing, the connection limits and the overflow responder all
 * work on one connection table (struct lmp_http) from the loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <zlib.h>

#include "expose/http.h"
#include "base/loop.h"
#include "expose/metrics.h"

#define DEFAULT_MAX_CONNS 64
#define DEFAULT_CONN_MEMORY (32 * 1024)
#define DEFAULT_TIMEOUT_S 10
#define SAFETY_MS 1000
#define SWEEP_MS 250
#define OVERFLOW_SLOTS 16
#define OVERFLOW_MS 2000
#define OVERFLOW_HEAD 2048
#define GZIP_MIN_BYTES 1024 /* below this gzip costs more than it saves */

static const struct lmp_metric_desc http_requests = {
	.name = "lmp_http_requests_total",
	.help = "HTTP requests answered, by handler and status code",
	.type = LMP_METRIC_COUNTER,
	.label = "handler,code",
	.scale = 1,
};

static const struct lmp_metric_desc http_closed = {
	.name = "lmp_http_connections_closed_total",
	.help = "HTTP connections closed by the server before an answer, by reason: deadline "
		"(request not read and answered in time), overflow_evicted (a slow overflow "
		"connection made room for a new one), overflow_deadline, overflow_bad_head",
	.type = LMP_METRIC_COUNTER,
	.label = "reason",
	.scale = 1,
};

static const struct lmp_metric_desc http_overflow = {
	.name = "lmp_http_overflow_connections_total",
	.help = "HTTP connections beyond the server's or their client's share of slots, handed "
		"to the overflow responder (answers /healthz only)",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

/* a connection MHD serves: when its current request started, and from where */
struct conn {
	struct conn *next, **pprev;
	struct MHD_Connection *c;
	uint64_t start_ms;
	struct sockaddr_storage addr;
	bool closing;
};

/* a connection beyond the limits, waiting for its request head */
struct overflow {
	struct lmp_http *h;
	int fd; /* -1: free slot */
	uint64_t start_ms;
	size_t len;
	char head[OVERFLOW_HEAD];
};

struct lmp_http {
	struct lmp_loop *loop;
	struct MHD_Daemon *d;
	struct lmp_metrics *m;
	struct lmp_http_handlers handlers;
	int epfd;
	int timer, sweep_timer;
	int lfd;
	int port;
	unsigned max_conns, per_ip;
	uint64_t deadline_ms;
	struct conn *conns;
	unsigned n_conns;
	struct overflow ov[OVERFLOW_SLOTS];
	unsigned n_ov;
	bool sweeping;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

enum route { R_METRICS, R_HEALTHZ, R_READYZ, R_PROBES, R_PODS, R_DEATHS, R_INDEX, R_NONE };

static const struct {
	const char *path;
	const char *handler; /* label value of lmp_http_requests_total */
} routes[] = {
	[R_METRICS] = { "/metrics", "metrics" },
	[R_HEALTHZ] = { "/healthz", "healthz" },
	[R_READYZ] = { "/readyz", "readyz" },
	[R_PROBES] = { "/api/v1/probes", "probes" },
	[R_PODS] = { "/api/v1/pods", "pods" },
	[R_DEATHS] = { "/api/v1/deaths", "deaths" },
	[R_INDEX] = { "/", "index" },
	[R_NONE] = { NULL, "other" },
};

static const char error_json[] = "{\"error\":\"internal error\"}\n";

static const char index_body[] = "lmp agent\n"
				 "  /metrics         Prometheus metrics\n"
				 "  /healthz         liveness\n"
				 "  /readyz          readiness\n"
				 "  /api/v1/probes   probes and how they attached (JSON)\n"
				 "  /api/v1/pods     per-pod latency quantiles and rates (JSON)\n"
				 "  /api/v1/deaths   recent deaths per container (JSON)\n";

bool lmp_http_accepts_gzip(const char *ae)
{
	const char *p = ae;

	/* a list of "coding[;q=x]" items; gzip (or *) with a q other than 0 admits it */
	while (p && *p) {
		size_t n;
		const char *item, *semi, *end;
		bool match;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		item = p;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		semi = memchr(item, ';', end - item);
		n = (semi ? semi : end) - item;
		while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			n--;
		match = (n == 4 && !strncasecmp(item, "gzip", 4)) ||
			(n == 6 && !strncasecmp(item, "x-gzip", 6)) || (n == 1 && *item == '*');
		if (match) {
			const char *q = semi ? strstr(semi, "q=") : NULL;

			if (!q || q > end || strtod(q + 2, NULL) > 0)
				return true;
		}
		p = end;
	}
	return false;
}

/* gzip in[0..len) into a malloc'd buffer; -ENOMEM or -EIO */
static int gzip_buf(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream z = { 0 };
	char *buf;
	uLong bound;

	/* level 1: a scrape is mostly repeated label text, which even the fastest level shrinks
	 * by 10x or more; higher levels cost loop time for a few percent */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, len);
	buf = malloc(bound);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = (Bytef *)buf;
	z.avail_out = bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(buf);
		return -EIO;
	}
	*outlen = z.total_out;
	*out = buf;
	deflateEnd(&z);
	return 0;
}

/* who frees a response body */
enum owner {
	OWN_STATIC, /* a string constant */
	OWN_MALLOC, /* free() */
	OWN_RENDER, /* lmp_metrics_render_done(), so the next scrape reuses the buffer */
};

struct render_ref {
	struct lmp_metrics *m;
	char *buf;
};

static void render_free(void *cls)
{
	struct render_ref *ref = cls;

	lmp_metrics_render_done(ref->m, ref->buf);
	free(ref);
}

static void body_free(struct lmp_http *h, char *body, enum owner own)
{
	if (own == OWN_MALLOC)
		free(body);
	else if (own == OWN_RENDER)
		lmp_metrics_render_done(h->m, body);
}

static struct MHD_Response *response(struct lmp_http *h, char *body, size_t len, enum owner own)
{
	struct render_ref *ref;
	struct MHD_Response *resp;

	if (own == OWN_STATIC)
		return MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (own == OWN_MALLOC)
		return MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	ref = malloc(sizeof(*ref));
	if (!ref)
		return NULL;
	*ref = (struct render_ref){ h->m, body };
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body, render_free, ref);
	if (!resp)
		free(ref);
	return resp;
}

static enum MHD_Result reply(struct lmp_http *h, struct MHD_Connection *c, enum route r,
			     unsigned code, const char *type, char *body, size_t len,
			     enum owner own)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	struct MHD_Response *resp;
	bool gz = false;
	enum MHD_Result ret;
	char codebuf[8];

	if (len >= GZIP_MIN_BYTES && lmp_http_accepts_gzip(ae)) {
		char *z;
		size_t zlen;

		if (gzip_buf(body, len, &z, &zlen) == 0) {
			body_free(h, body, own);
			body = z;
			len = zlen;
			own = OWN_MALLOC;
			gz = true;
		}
	}
	resp = response(h, body, len, own);
	if (!resp) {
		body_free(h, body, own);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (len && r == R_METRICS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	snprintf(codebuf, sizeof(codebuf), "%u", code);
	lmp_metrics_add2(h->m, &http_requests, NULL, routes[r].handler, codebuf, 1);
	return ret;
}

static enum MHD_Result reply_text(struct lmp_http *h, struct MHD_Connection *c, enum route r,
				  unsigned code, const char *text)
{
	return reply(h, c, r, code, "text/plain; charset=utf-8", (char *)text, strlen(text),
		     OWN_STATIC);
}

static enum MHD_Result reply_json(struct lmp_http *h, struct MHD_Connection *c, enum route r,
				  int (*fn)(void *, char **, size_t *), void *ctx)
{
	char *body = NULL;
	size_t len = 0;
	int err = fn(ctx, &body, &len);

	if (err < 0 || !body) {
		free(body);
		return reply(h, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
			     (char *)error_json, sizeof(error_json) - 1, OWN_STATIC);
	}
	return reply(h, c, r, MHD_HTTP_OK, "application/json", body, len, OWN_MALLOC);
}

static int pods_default(void *ctx, char **out, size_t *len)
{
	return lmp_metrics_pods_json(ctx, out, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct lmp_http *h = cls;
	enum route r = R_NONE;

	for (int i = 0; i < R_NONE; i++)
		if (!strcmp(url, routes[i].path))
			r = i;
	/* answer at the first call: nothing here reads a body, and a body we did not ask for is
	 * discarded by MHD when it closes the connection after the response */
	if (r == R_NONE)
		return reply_text(h, c, r, MHD_HTTP_NOT_FOUND, "not found\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(h, c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");

	switch (r) {
	case R_METRICS: {
		char *body;
		size_t len;

		lmp_metrics_update_self(h->m);
		if (lmp_metrics_render(h->m, &body, &len) < 0)
			return reply_text(h, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "internal error\n");
		return reply(h, c, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body,
			     len, OWN_RENDER);
	}
	case R_HEALTHZ:
		if (h->handlers.stopping && h->handlers.stopping(h->handlers.ctx))
			return reply_text(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
		return reply_text(h, c, r, MHD_HTTP_OK, "ok\n");
	case R_READYZ: {
		bool ok = !h->handlers.ready || h->handlers.ready(h->handlers.ctx);
		char detail[512] = "", *body;
		int n;

		if (h->handlers.ready_detail)
			h->handlers.ready_detail(h->handlers.ctx, detail, sizeof(detail));
		if (!detail[0])
			return reply_text(h, c, r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
					  ok ? "ready\n" : "not ready\n");
		n = asprintf(&body, "%s\n%s\n", ok ? "ready" : "not ready", detail);
		if (n < 0)
			return reply_text(h, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "internal error\n");
		return reply(h, c, r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			     "text/plain; charset=utf-8", body, n, OWN_MALLOC);
	}
	case R_PROBES:
		if (h->handlers.stopping && h->handlers.stopping(h->handlers.ctx))
			return reply_text(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
		if (!h->handlers.probes_json)
			return reply_text(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "probe status not available\n");
		return reply_json(h, c, r, h->handlers.probes_json, h->handlers.ctx);
	case R_PODS:
		if (!h->handlers.pods_json)
			return reply_json(h, c, r, pods_default, h->m);
		return reply_json(h, c, r, h->handlers.pods_json, h->handlers.ctx);
	case R_DEATHS: {
		const char *ns = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "namespace");
		const char *pod = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pod");
		const char *ctr =
			MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "container");
		char *body = NULL;
		size_t len = 0;

		if (!h->handlers.deaths_json)
			return reply_text(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "deaths not available\n");
		if (h->handlers.deaths_json(h->handlers.ctx, ns, pod, ctr, &body, &len) < 0 ||
		    !body) {
			free(body);
			return reply(h, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
				     (char *)error_json, sizeof(error_json) - 1, OWN_STATIC);
		}
		return reply(h, c, r, MHD_HTTP_OK, "application/json", body, len, OWN_MALLOC);
	}
	case R_INDEX:
		return reply_text(h, c, r, MHD_HTTP_OK, index_body);
	case R_NONE:
		break;
	}
	return MHD_NO;
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return true;
}

static unsigned conns_from(const struct lmp_http *h, const struct sockaddr *addr)
{
	unsigned n = 0;

	for (const struct conn *x = h->conns; x; x = x->next)
		n += same_ip(&x->addr, addr);
	return n;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct lmp_http *h = cls;
	struct conn *x = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return; /* untracked: only MHD's idle timeout applies to it */
		x->c = c;
		x->start_ms = mono_ms();
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr)
			memcpy(&x->addr, ci->client_addr,
			       ci->client_addr->sa_family == AF_INET6 ?
				       sizeof(struct sockaddr_in6) :
				       sizeof(struct sockaddr_in));
		x->next = h->conns;
		x->pprev = &h->conns;
		if (h->conns)
			h->conns->pprev = &x->next;
		h->conns = x;
		h->n_conns++;
		*socket_context = x;
	} else if (x) {
		*x->pprev = x->next;
		if (x->next)
			x->next->pprev = x->pprev;
		h->n_conns--;
		free(x);
		*socket_context = NULL;
	}
}

/* a request answered: the next one on this connection gets a deadline of its own */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *x = ci ? ci->socket_context : NULL;

	if (x)
		x->start_ms = mono_ms();
}

static void ov_close(struct lmp_http *h, struct overflow *o, const char *reason)
{
	lmp_loop_del_fd(h->loop, o->fd);
	close(o->fd);
	o->fd = -1;
	h->n_ov--;
	if (reason)
		lmp_metrics_add(h->m, &http_closed, NULL, reason, 1);
}

/*
 * Answer a complete request head from the overflow path: /healthz (GET or HEAD) gets what
 * the server would say, anything else 503. Returns false while the head is incomplete.
 */
static bool ov_answer(struct lmp_http *h, int fd, char *head, size_t len)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
				 "Cache-Control: no-store\r\nContent-Length: 3\r\n"
				 "Connection: close\r\n\r\nok\n";
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
				   "Content-Length: 41\r\nConnection: close\r\n\r\n"
				   "busy: every connection slot is in use\n\n\n\n";
	static const char stopping[] = "HTTP/1.1 503 Service Unavailable\r\n"
				       "Content-Type: text/plain; charset=utf-8\r\n"
				       "Cache-Control: no-store\r\nContent-Length: 9\r\n"
				       "Connection: close\r\n\r\nstopping\n";
	bool get, healthz, head_only, stop;
	const char *resp;
	size_t n;

	head[len] = '\0';
	if (!strstr(head, "\r\n\r\n") && !strstr(head, "\n\n"))
		return false;
	get = !strncmp(head, "GET ", 4);
	head_only = !strncmp(head, "HEAD ", 5);
	healthz = (get || head_only) && !strncmp(head + (get ? 4 : 5), "/healthz", 8) &&
		  strchr(" ?", head[(get ? 4 : 5) + 8]);
	/* the same answer as the server's own /healthz, stopping included */
	stop = healthz && h->handlers.stopping && h->handlers.stopping(h->handlers.ctx);
	resp = stop ? stopping : healthz ? ok : busy;
	n = stop ? sizeof(stopping) - 1 : healthz ? sizeof(ok) - 1 : sizeof(busy) - 1;
	if (head_only) /* the head without the body */
		n = strstr(resp, "\r\n\r\n") + 4 - resp;
	/* a few hundred bytes into an empty socket buffer: one non-blocking send */
	(void)!send(fd, resp, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	lmp_metrics_add2(h->m, &http_requests, NULL, healthz ? "healthz" : "overflow",
			 healthz && !stop ? "200" : "503", 1);
	return true;
}

static void sweep_arm(struct lmp_http *h)
{
	bool want = h->n_conns || h->n_ov;

	if (want != h->sweeping)
		lmp_loop_set_timer(h->loop, h->sweep_timer, want ? SWEEP_MS : 0, true);
	h->sweeping = want;
}

static void on_ov_fd(void *ctx, int fd, uint32_t events)
{
	struct overflow *o = ctx;
	struct lmp_http *h = o->h;
	ssize_t n = recv(fd, o->head + o->len, sizeof(o->head) - 1 - o->len, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ov_close(h, o, NULL);
		sweep_arm(h);
		return;
	}
	o->len += n;
	if (ov_answer(h, fd, o->head, o->len))
		ov_close(h, o, NULL);
	else if (o->len == sizeof(o->head) - 1)
		ov_close(h, o, "overflow_bad_head");
	sweep_arm(h);
}

/* A connection beyond the limits: answer it now if its head is in, else park it. */
static void overflow(struct lmp_http *h, int fd)
{
	struct overflow *o = NULL, *oldest = NULL;
	char head[OVERFLOW_HEAD];
	ssize_t n = recv(fd, head, sizeof(head) - 1, MSG_DONTWAIT);

	lmp_metrics_add(h->m, &http_overflow, NULL, NULL, 1);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(fd);
		return;
	}
	if (n > 0 && ov_answer(h, fd, head, n)) {
		close(fd);
		return;
	}
	for (int i = 0; i < OVERFLOW_SLOTS && !o; i++) {
		if (h->ov[i].fd < 0)
			o = &h->ov[i];
		else if (!oldest || h->ov[i].start_ms < oldest->start_ms)
			oldest = &h->ov[i];
	}
	if (!o) {
		ov_close(h, oldest, "overflow_evicted");
		o = oldest;
	}
	if (lmp_loop_add_fd(h->loop, fd, EPOLLIN, on_ov_fd, o) < 0) {
		close(fd);
		return;
	}
	o->fd = fd;
	o->start_ms = mono_ms();
	o->len = n > 0 ? n : 0;
	if (n > 0)
		memcpy(o->head, head, n);
	h->n_ov++;
}

static void drive(struct lmp_http *h);

static void on_listen(void *ctx, int lfd, uint32_t events)
{
	struct lmp_http *h = ctx;

	for (int i = 0; i < 64; i++) { /* a burst at a time; the rest on the next turn */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		if (h->n_conns < h->max_conns &&
		    conns_from(h, (struct sockaddr *)&ss) < h->per_ip) {
			/* MHD closes the socket itself when it refuses it */
			MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, sl);
			continue;
		}
		overflow(h, fd);
	}
	drive(h);
}

/* Shut down what is over its deadline; MHD then sees the socket end and closes it. */
static void on_sweep(void *ctx)
{
	struct lmp_http *h = ctx;
	uint64_t now = mono_ms();
	bool any = false;

	for (struct conn *x = h->conns; x; x = x->next) {
		const union MHD_ConnectionInfo *ci;

		if (x->closing || now - x->start_ms < h->deadline_ms)
			continue;
		ci = MHD_get_connection_info(x->c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && shutdown(ci->connect_fd, SHUT_RDWR) == 0) {
			x->closing = true;
			any = true;
			lmp_metrics_add(h->m, &http_closed, NULL, "deadline", 1);
		}
	}
	for (int i = 0; i < OVERFLOW_SLOTS; i++)
		if (h->ov[i].fd >= 0 && now - h->ov[i].start_ms >= OVERFLOW_MS)
			ov_close(h, &h->ov[i], "overflow_deadline");
	if (any)
		drive(h);
	sweep_arm(h);
}

/*
 * Run MHD, then arm the timer for when it next needs to run without fd activity. When MHD
 * wants no timer, a slow one still runs it, so that no state of this kind can stall the
 * server.
 */
static void drive(struct lmp_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->d);
	sweep_arm(h);
	if (MHD_get_timeout(h->d, &ms) == MHD_YES)
		/* 0 means "work is pending now"; the loop's timer treats 0 as off, so use 1 */
		lmp_loop_set_timer(h->loop, h->timer, ms ? ms : 1, false);
	else
		lmp_loop_set_timer(h->loop, h->timer, SAFETY_MS, false);
}

static void on_fd(void *ctx, int fd, uint32_t events)
{
	drive(ctx);
}

static void on_timer(void *ctx)
{
	drive(ctx);
}

/* "host:port", "[v6]:port" -> bound, listening, non-blocking socket */
static int listen_on(const char *addr, int *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t hl;
	int fd = -1, one = 1, err;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = colon - addr;
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* hand a connection over once its first bytes are in (or after 1 s): the overflow path
	 * then answers /healthz from its first read */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		err = -errno;
		goto fail;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						 ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return err;
}

int lmp_http_new(struct lmp_loop *loop, const struct lmp_http_opts *opts, struct lmp_metrics *m,
		 const struct lmp_http_handlers *handlers, struct lmp_http **out)
{
	const union MHD_DaemonInfo *info;
	struct lmp_http *h;
	int fd, err;

	*out = NULL;
	if (!opts || !opts->listen || !*opts->listen || !strcmp(opts->listen, "none"))
		return 0;
	if (!loop || !m)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->m = m;
	h->epfd = -1;
	if (handlers)
		h->handlers = *handlers;
	h->lfd = -1;
	h->max_conns = opts->max_conns ? opts->max_conns : DEFAULT_MAX_CONNS;
	h->per_ip = opts->per_ip ? opts->per_ip : (h->max_conns + 3) / 4;
	h->deadline_ms = 1000ULL * (opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S);
	for (int i = 0; i < OVERFLOW_SLOTS; i++)
		h->ov[i] = (struct overflow){ .h = h, .fd = -1 };
	fd = listen_on(opts->listen, &h->port);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	h->lfd = fd;
	h->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, h,
		MHD_OPTION_CONNECTION_LIMIT, h->max_conns, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(opts->conn_memory ? opts->conn_memory : DEFAULT_CONN_MEMORY),
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S),
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, h, MHD_OPTION_END);
	if (!h->d) {
		err = -EIO;
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		err = -EIO;
		goto fail;
	}
	err = lmp_loop_add_fd(loop, info->epoll_fd, EPOLLIN, on_fd, h);
	if (err < 0)
		goto fail;
	h->epfd = info->epoll_fd;
	h->timer = lmp_loop_add_timer(loop, 0, false, on_timer, h);
	h->sweep_timer = lmp_loop_add_timer(loop, 0, true, on_sweep, h);
	if (h->timer < 0 || h->sweep_timer < 0) {
		err = h->timer < 0 ? h->timer : h->sweep_timer;
		goto fail;
	}
	err = lmp_loop_add_fd(loop, h->lfd, EPOLLIN, on_listen, h);
	if (err < 0)
		goto fail;
	lmp_metrics_declare(m, &http_closed);
	lmp_metrics_declare(m, &http_overflow);
	lmp_metrics_declare(m, &http_requests);
	drive(h);
	*out = h;
	return 0;
fail:
	lmp_http_free(h);
	return err;
}

void lmp_http_free(struct lmp_http *h)
{
	if (!h)
		return;
	if (h->lfd >= 0) {
		lmp_loop_del_fd(h->loop, h->lfd);
		close(h->lfd);
	}
	for (int i = 0; i < OVERFLOW_SLOTS; i++)
		if (h->ov[i].fd >= 0)
			ov_close(h, &h->ov[i], NULL);
	if (h->epfd >= 0)
		lmp_loop_del_fd(h->loop, h->epfd);
	if (h->timer > 0)
		lmp_loop_del_timer(h->loop, h->timer);
	if (h->sweep_timer > 0)
		lmp_loop_del_timer(h->loop, h->sweep_timer);
	if (h->d)
		MHD_stop_daemon(h->d); /* closes its connections: on_connection frees each */
	free(h);
}

int lmp_http_port(const struct lmp_http *h)
{
	return h ? h->port : -EINVAL;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * libmicrohttpd glue. MHD runs in external-epoll mode: it keeps its own epoll set of the
 * listening socket and client connections, and we watch that one fd in the agent loop.
 * When it is readable, or when the time MHD_get_timeout asks for has passed, MHD_run does
 * the ready work without blocking. Everything therefore runs on the loop thread, and the
 * registry needs no lock; the price is that rendering /metrics pauses event processing for
 * the few milliseconds it takes.
 *
 * We create the listening socket ourselves so that IPv4 and IPv6 addresses and port 0 work
 * the same way, and hand it to MHD, which closes it on stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <zlib.h>

#include "http.h"
#include "loop.h"
#include "metrics.h"

#define DEFAULT_MAX_CONNS 64
#define DEFAULT_CONN_MEMORY (32 * 1024)
#define DEFAULT_TIMEOUT_S 10
#define SAFETY_MS 1000
#define GZIP_MIN_BYTES 1024 /* below this gzip costs more than it saves */

static const struct lmp_metric_desc http_requests = {
	.name = "lmp_http_requests_total",
	.help = "HTTP requests answered, by handler and status code",
	.type = LMP_METRIC_COUNTER,
	.label = "handler,code",
	.scale = 1,
};

struct lmp_http {
	struct lmp_loop *loop;
	struct MHD_Daemon *d;
	struct lmp_metrics *m;
	struct lmp_http_handlers handlers;
	int epfd;
	int timer;
	int port;
};

enum route { R_METRICS, R_HEALTHZ, R_READYZ, R_PROBES, R_PODS, R_INDEX, R_NONE };

static const struct {
	const char *path;
	const char *handler; /* label value of lmp_http_requests_total */
} routes[] = {
	[R_METRICS] = { "/metrics", "metrics" },
	[R_HEALTHZ] = { "/healthz", "healthz" },
	[R_READYZ] = { "/readyz", "readyz" },
	[R_PROBES] = { "/api/v1/probes", "probes" },
	[R_PODS] = { "/api/v1/pods", "pods" },
	[R_INDEX] = { "/", "index" },
	[R_NONE] = { NULL, "other" },
};

static const char error_json[] = "{\"error\":\"internal error\"}\n";

static const char index_body[] = "lmp agent\n"
				 "  /metrics         Prometheus metrics\n"
				 "  /healthz         liveness\n"
				 "  /readyz          readiness\n"
				 "  /api/v1/probes   probes and how they attached (JSON)\n"
				 "  /api/v1/pods     per-pod latency quantiles and rates (JSON)\n";

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
	case R_READYZ:
		if (h->handlers.ready && !h->handlers.ready(h->handlers.ctx))
			return reply_text(h, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
		return reply_text(h, c, r, MHD_HTTP_OK, "ready\n");
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
	case R_INDEX:
		return reply_text(h, c, r, MHD_HTTP_OK, index_body);
	case R_NONE:
		break;
	}
	return MHD_NO;
}

/*
 * Run MHD, then arm the timer for when it next needs to run without fd activity.
 *
 * Twice, because at the connection limit MHD takes the listening socket out of its epoll
 * set, and puts it back only at the start of the run after the one that closed a
 * connection: with a single run, clients waiting in the backlog would wait for an unrelated
 * event. The second run costs one epoll_wait with a zero timeout. When MHD wants no timer,
 * a slow one still runs it, so that no other state of this kind can stall the server.
 */
static void drive(struct lmp_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->d);
	MHD_run(h->d);
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
	fd = listen_on(opts->listen, &h->port);
	if (fd < 0) {
		err = fd;
		goto fail;
	}
	h->d = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(opts->max_conns ? opts->max_conns : DEFAULT_MAX_CONNS),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(opts->conn_memory ? opts->conn_memory : DEFAULT_CONN_MEMORY),
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S), MHD_OPTION_END);
	if (!h->d) {
		/* whether MHD already closed the socket it was given is not documented */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
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
	if (h->timer < 0) {
		err = h->timer;
		h->timer = 0;
		goto fail;
	}
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
	if (h->epfd >= 0)
		lmp_loop_del_fd(h->loop, h->epfd);
	if (h->timer > 0)
		lmp_loop_del_timer(h->loop, h->timer);
	if (h->d)
		MHD_stop_daemon(h->d);
	free(h);
}

int lmp_http_port(const struct lmp_http *h)
{
	return h ? h->port : -EINVAL;
}

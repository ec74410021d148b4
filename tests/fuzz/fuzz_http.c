// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the agent's HTTP endpoint (agent/expose/http.c) fed raw bytes as a client
 * would send them. http.c is included whole so the harness can hand libmicrohttpd one end
 * of a socketpair per input (MHD_add_connection) instead of going through TCP: no ports,
 * no TIME_WAIT, thousands of requests a second. The server is the real one: lmp_http_new,
 * the agent's loop, a metrics registry with per-pod series (so /metrics is big enough to be
 * gzipped), and handlers for /api/v1/probes and /readyz.
 *
 * Each input: write it, half-close, run the server until it closes the connection, read
 * the reply. A reply must start with an HTTP status line; nothing the client sends may
 * change the registry other than the request counter (the endpoint is read-only).
 * lmp_http_accepts_gzip also gets the input as a header value.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "../../agent/expose/http.c"
#include "k8s/identity.h"

#define HTTP_MAX_INPUT (64 * 1024)

static struct lmp_loop *loop;
static struct lmp_metrics *metrics;
static struct lmp_http *server;
static bool ready_answer;

static const struct lmp_metric_desc lat = {
	"lmp_fuzz_latency_seconds", "fuzz fixture", LMP_METRIC_HISTOGRAM, NULL, 1e-9, true,
};
static const struct lmp_metric_desc cnt = {
	"lmp_fuzz_total", "fuzz fixture", LMP_METRIC_COUNTER, "kind", 1, true,
};

static int probes_json(void *ctx, char **out, size_t *len)
{
	static const char doc[] = "[{\"name\":\"process\",\"state\":\"running\"}]";

	*out = strdup(doc);
	if (!*out)
		return -ENOMEM;
	*len = sizeof(doc) - 1;
	return 0;
}

static bool ready(void *ctx)
{
	ready_answer = !ready_answer; /* both answers get exercised */
	return ready_answer;
}

static const struct lmp_http_handlers handlers = { .probes_json = probes_json, .ready = ready };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct lmp_http_opts o = { .listen = "127.0.0.1:0", .max_conns = 256, .timeout_s = 2 };
	char ns[32], pod[32], ctr[32];

	if (lmp_loop_new(&loop) < 0 || lmp_metrics_new(100000, &metrics) < 0 ||
	    lmp_http_new(loop, &o, metrics, &handlers, &server) < 0 || !server) {
		fprintf(stderr, "fuzz_http: cannot start the server\n");
		exit(1);
	}
	for (int i = 0; i < 50; i++) {
		struct lmp_hist h = { .sum = 1000 * i, .count = i + 1 };
		struct lmp_identity id = {
			.cgroup_id = i + 1, .namespace = ns, .pod = pod, .container = ctr
		};

		snprintf(ns, sizeof(ns), "ns-%d", i % 5);
		snprintf(pod, sizeof(pod), "pod-%d", i);
		snprintf(ctr, sizeof(ctr), "c-%d", i % 3);
		h.slots[i % LMP_HIST_SLOTS] = i + 1;
		lmp_metrics_hist_add(metrics, &lat, &id, NULL, &h);
		lmp_metrics_add(metrics, &cnt, &id, i % 2 ? "a" : "b", i);
	}
	lmp_metrics_interval_mark(metrics);
	return 0;
}

static unsigned connections(void)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(server->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/*
 * Run the server until the client sees EOF, the server dropped the connection, or nothing
 * moved for a few rounds (a request cut short that MHD keeps waiting on until its timeout).
 */
static size_t exchange(int cfd, char *reply, size_t cap)
{
	size_t got = 0;

	for (int idle = 0; idle < 4;) {
		size_t before = got;
		ssize_t n;

		MHD_run(server->d);
		while ((n = read(cfd, reply + got, cap - 1 - got)) > 0)
			got += n;
		if (n == 0 || (n < 0 && errno != EAGAIN) || got == cap - 1 || !connections())
			break;
		idle = got == before ? idle + 1 : 0;
	}
	reply[got] = 0;
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char reply[4 << 20];
	struct sockaddr_in peer = { .sin_family = AF_INET,
				    .sin_port = htons(40000),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	size_t series = lmp_metrics_series_count(metrics);
	char *hdr;
	int sv[2];
	size_t got;

	if (size > HTTP_MAX_INPUT)
		return -1; /* not added to the corpus */
	hdr = strndup((const char *)data, size);
	if (hdr) {
		lmp_http_accepts_gzip(hdr);
		free(hdr);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (size && write(sv[0], data, size) != (ssize_t)size)
		abort(); /* the socket buffer holds HTTP_MAX_INPUT */
	shutdown(sv[0], SHUT_WR);
	if (MHD_add_connection(server->d, sv[1], (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES)
		abort();
	got = exchange(sv[0], reply, sizeof(reply));
	if (got && strncmp(reply, "HTTP/1.", 7) != 0)
		abort();
	close(sv[0]);
	/* the server notices the closed client and forgets the connection */
	for (int i = 0; i < 64 && connections(); i++)
		MHD_run(server->d);
	/* read-only: at most the request counter gained series (one per handler and code) */
	if (lmp_metrics_series_count(metrics) > series + 1)
		abort();
	return 0;
}

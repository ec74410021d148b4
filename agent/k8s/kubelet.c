// SPDX-License-Identifier: Apache-2.0
/*
 * Kubelet /pods over libcurl's multi-socket API: curl tells us which sockets to watch and
 * when to wake it (sock_cb, timer_cb); the agent's epoll loop does the waiting. One easy
 * handle is reused for every request, which keeps the TLS connection alive between
 * refreshes.
 *
 * Scheduling is one loop timer: after a good reply the next refresh is refresh_ms away;
 * after a failure 1 s, then doubling up to refresh_ms, so a kubelet that comes back is
 * noticed within seconds and a dead one costs one request per period. A request is only
 * ever started from that timer, so no callback runs inside a caller's stack.
 *
 * One file over 600 lines: the request, its parse thread and the back-off are one state
 * machine on struct lmp_kubelet; parsing itself is podlist.c and podfilter.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "k8s/kubelet.h"
#include "base/loop.h"
#include "k8s/podlist.h"

#define TOKEN_MAX 65536
#define BACKOFF_MIN_MS 1000
#define RELOG_MS (10 * 60 * 1000) /* the same failure, said again this often */
#define SA_CA "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

struct lmp_kubelet {
	struct lmp_kubelet_opts o;
	char *url, *token_file, *ca_file;
	char *api_url, *api_ca_file; /* NULL: no API-server fallback */
	bool on_api;		     /* the request in flight goes to the API server */
	struct lmp_loop *loop;
	lmp_kubelet_fn cb;
	void *ctx;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	int curl_timer, sched_timer;
	/* reply */
	char *body;
	size_t len, cap;
	bool too_large;
	/* parse thread: owns body while parsing, hands the result back through parse_fd */
	pthread_t parser;
	bool parsing;
	int parse_fd;
	long parse_code;
	int parse_r;
	struct lmp_podlist *parsed;
	char perr[160];
	/* the failure last reported for logging (lmp_kubelet_stats.report) */
	uint64_t cause, cause_ms;
	/* token file identity, to notice rotation */
	struct stat token_st;
	bool have_token;
	/* schedule */
	bool in_flight, again;
	uint64_t start_ms, due_ms;
	unsigned backoff_ms;
	struct lmp_kubelet_stats st;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *lmp_kubelet_err_name(enum lmp_kubelet_err e)
{
	static const char *const n[] = {
		[LMP_KUBELET_OK] = "ok",
		[LMP_KUBELET_ERR_TOKEN] = "token",
		[LMP_KUBELET_ERR_CONNECT] = "connect",
		[LMP_KUBELET_ERR_TIMEOUT] = "timeout",
		[LMP_KUBELET_ERR_TLS] = "tls",
		[LMP_KUBELET_ERR_AUTH] = "unauthorized",
		[LMP_KUBELET_ERR_FORBIDDEN] = "forbidden",
		[LMP_KUBELET_ERR_HTTP] = "http",
		[LMP_KUBELET_ERR_TRANSFER] = "transfer",
		[LMP_KUBELET_ERR_BODY] = "body",
		[LMP_KUBELET_ERR_TOO_LARGE] = "too_large",
		[LMP_KUBELET_ERR_INTERNAL] = "internal",
	};

	return (unsigned)e < _LMP_KUBELET_ERR_MAX ? n[e] : "unknown";
}

/* Arm the schedule timer to fire in ms (0 is "now": the loop's next turn). */
static void schedule(struct lmp_kubelet *k, uint64_t ms)
{
	k->due_ms = mono_ms() + ms;
	lmp_loop_set_timer(k->loop, k->sched_timer, ms ? ms : 1, false);
}

/*
 * (Re)load the token when the file changed. A file that cannot be read fails the request:
 * the file is the source of truth, and a rotated-away token would be refused anyway.
 */
static int load_token(struct lmp_kubelet *k, char *msg, size_t msglen)
{
	static const char prefix[] = "Authorization: Bearer ";
	const size_t pl = sizeof(prefix) - 1;
	struct curl_slist *h = NULL, *h2 = NULL;
	struct stat st;
	char *hdr, *tok;
	ssize_t n;
	int fd, err;

	if (!k->token_file)
		return 0;
	if (stat(k->token_file, &st) < 0) {
		err = -errno;
		snprintf(msg, msglen, "token file %s: %s", k->token_file, strerror(-err));
		k->have_token = false;
		return err;
	}
	if (k->have_token && st.st_ino == k->token_st.st_ino && st.st_dev == k->token_st.st_dev &&
	    st.st_size == k->token_st.st_size && st.st_mtim.tv_sec == k->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == k->token_st.st_mtim.tv_nsec)
		return 0;
	k->have_token = false;
	hdr = malloc(pl + TOKEN_MAX + 1);
	if (!hdr) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	memcpy(hdr, prefix, pl);
	tok = hdr + pl;
	fd = open(k->token_file, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, tok, TOKEN_MAX);
	err = n < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (err) {
		snprintf(msg, msglen, "token file %s: %s", k->token_file, strerror(-err));
		goto out;
	}
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		n--;
	tok[n] = '\0';
	if (n == 0 || strpbrk(tok, "\r\n") || strlen(tok) != (size_t)n) {
		snprintf(msg, msglen, "token file %s: %s", k->token_file,
			 n ? "not a single-line token" : "empty");
		err = -EINVAL;
		goto out;
	}
	h = curl_slist_append(NULL, "Accept: application/json");
	h2 = h ? curl_slist_append(h, hdr) : NULL;
	if (!h2) {
		curl_slist_free_all(h);
		snprintf(msg, msglen, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(k->easy, CURLOPT_HTTPHEADER, h2);
	curl_slist_free_all(k->headers);
	k->headers = h2;
	k->token_st = st;
	k->have_token = true;
	k->st.token_reads++;
out:
	/* curl keeps its own copy in the header list: leave none in freed heap */
	explicit_bzero(hdr, pl + TOKEN_MAX + 1);
	free(hdr);
	return err;
}

/*
 * Whether a failure is worth a log line: its cause (kind, HTTP status, libcurl code) differs
 * from the last one reported, or the same cause has lasted RELOG_MS since. Requests follow
 * the back-off, so this is at most one line per request, and mostly far fewer.
 */
static bool report(struct lmp_kubelet *k, enum lmp_kubelet_err err, long code, int detail)
{
	uint64_t cause = (uint64_t)err << 48 | (uint64_t)(code & 0xffff) << 32 | (uint32_t)detail,
		 now = mono_ms();

	if (err == LMP_KUBELET_OK) {
		k->cause = 0;
		return false;
	}
	if (cause == k->cause && now - k->cause_ms < RELOG_MS)
		return false;
	k->cause = cause;
	k->cause_ms = now;
	return true;
}

static void start_request(struct lmp_kubelet *k);

/* the kubelet cannot be reached or its certificate verified: the API server may do */
static bool falls_back(enum lmp_kubelet_err err)
{
	return err == LMP_KUBELET_ERR_CONNECT || err == LMP_KUBELET_ERR_TIMEOUT ||
	       err == LMP_KUBELET_ERR_TLS;
}

static void finish(struct lmp_kubelet *k, struct lmp_podlist *pl, enum lmp_kubelet_err err,
		   long code, int detail, const char *msg)
{
	bool was_api = k->on_api, src;
	unsigned next;

	if (!k->on_api && k->api_url && falls_back(err)) {
		/* counted as the kubelet's failure; the outcome is the API server's */
		k->st.requests_failed++;
		k->st.failures[err]++;
		k->st.kubelet_err = err;
		snprintf(k->st.kubelet_msg, sizeof(k->st.kubelet_msg), "%s", msg);
		k->on_api = true;
		start_request(k);
		return;
	}
	k->on_api = false; /* every refresh tries the kubelet first */
	if (!was_api) {
		k->st.kubelet_err = err;
		snprintf(k->st.kubelet_msg, sizeof(k->st.kubelet_msg), "%s", msg);
	} else {
		k->st.api_requests[err == LMP_KUBELET_OK ? 0 : 1]++;
	}
	k->st.report = report(k, err, code, detail ^ (was_api ? 0x5a5a : 0));
	if (was_api && err != LMP_KUBELET_OK)
		snprintf(k->st.last_msg, sizeof(k->st.last_msg), "%.120s; API server fallback: %s",
			 k->st.kubelet_msg, msg);
	else
		snprintf(k->st.last_msg, sizeof(k->st.last_msg), "%s", msg);
	src = err == LMP_KUBELET_OK ? was_api : k->st.from_apiserver;
	k->st.source_changed = src != k->st.from_apiserver;
	k->st.from_apiserver = src;
	k->in_flight = false;
	k->st.in_flight = false;
	k->st.last_err = err;
	k->st.last_http_code = code;
	k->st.last_duration = (mono_ms() - k->start_ms) / 1000.0;
	if (err == LMP_KUBELET_OK) {
		k->st.requests_ok++;
		k->st.last_sync = wall_now();
		k->st.pods_known = pl->n_pods;
		k->st.containers_known = pl->n_ctrs - pl->stats.n_previous;
		k->backoff_ms = 0;
		next = k->o.refresh_ms;
		/* an unknown pod was asked for while this reply was already on its way */
		if (k->again)
			next = k->o.miss_interval_ms;
	} else {
		k->st.requests_failed++;
		k->st.failures[err]++;
		k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (k->backoff_ms > k->o.refresh_ms)
			k->backoff_ms = k->o.refresh_ms;
		next = k->backoff_ms;
	}
	k->again = false;
	schedule(k, next);
	k->cb(k->ctx, pl, err, k->st.last_msg);
}

static enum lmp_kubelet_err classify(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return LMP_KUBELET_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return LMP_KUBELET_ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CIPHER:
		return LMP_KUBELET_ERR_TLS;
	case CURLE_WRITE_ERROR:
		return LMP_KUBELET_ERR_TOO_LARGE; /* only our write callback refuses */
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
		return LMP_KUBELET_ERR_INTERNAL;
	default: /* partial file, got nothing, recv/send errors, HTTP/2 stream errors */
		return LMP_KUBELET_ERR_TRANSFER;
	}
}

static const char *cur_url(const struct lmp_kubelet *k)
{
	return k->on_api ? k->api_url : k->url;
}

static void release_body(struct lmp_kubelet *k)
{
	/* a big reply's buffer is not worth keeping for 30 s */
	if (k->cap > (1 << 20)) {
		free(k->body);
		k->body = NULL;
		k->cap = 0;
	}
	k->len = 0;
}

/* what kind of body error: the reason up to its details (line and column, names) */
static int reason_hash(const char *reason)
{
	uint32_t h = 2166136261u;

	for (; *reason && !strchr("(\"'", *reason); reason++)
		h = (h ^ (unsigned char)*reason) * 16777619u;
	return (int)h;
}

/* On its own thread: a big reply takes a while to parse, and the loop must not wait. */
static void *parse_main(void *arg)
{
	struct lmp_kubelet *k = arg;
	uint64_t one = 1;

	k->parse_r = lmp_podlist_parse(k->body, k->len, &k->parsed, k->perr, sizeof(k->perr));
	/* an eventfd write fails only on overflow, which one write per parse cannot cause */
	(void)!write(k->parse_fd, &one, sizeof(one));
	return NULL;
}

static void parse_done(struct lmp_kubelet *k)
{
	enum lmp_kubelet_err err;
	char msg[CURL_ERROR_SIZE + 256];
	int r = k->parse_r;

	pthread_join(k->parser, NULL);
	k->parsing = false;
	err = r == 0	   ? LMP_KUBELET_OK :
	      r == -ENOMEM ? LMP_KUBELET_ERR_INTERNAL :
	      r == -E2BIG  ? LMP_KUBELET_ERR_TOO_LARGE :
			     LMP_KUBELET_ERR_BODY;
	snprintf(msg, sizeof(msg), "%s: %s", cur_url(k), r == 0 ? "ok" : k->perr);
	release_body(k);
	finish(k, k->parsed, err, k->parse_code, r ? reason_hash(k->perr) : 0, msg);
	k->parsed = NULL;
}

static void on_parse_fd(void *ctx, int fd, uint32_t events)
{
	struct lmp_kubelet *k = ctx;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n) && k->parsing)
		parse_done(k);
}

static void request_done(struct lmp_kubelet *k, CURLcode res)
{
	enum lmp_kubelet_err err;
	char msg[CURL_ERROR_SIZE + 256];
	long code = 0;

	curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(k->multi, k->easy);
	if (res == CURLE_OK && code == 200) {
		k->parse_code = code;
		k->parsed = NULL;
		if (pthread_create(&k->parser, NULL, parse_main, k) == 0) {
			k->parsing = true;
			return;
		}
		parse_main(k); /* no thread to be had: parse here, once */
		k->parsing = true;
		parse_done(k);
		return;
	}
	if (res != CURLE_OK) {
		err = k->too_large ? LMP_KUBELET_ERR_TOO_LARGE : classify(res);
		snprintf(msg, sizeof(msg), "%s: %s", cur_url(k),
			 k->too_large ? "reply larger than the limit" :
			 k->errbuf[0] ? k->errbuf :
					curl_easy_strerror(res));
	} else if (code == 404 && !k->on_api) {
		err = LMP_KUBELET_ERR_HTTP;
		snprintf(msg, sizeof(msg),
			 "%s: HTTP 404: not found; --kubelet-url must be the "
			 "kubelet's /pods endpoint (https://NODE:10250/pods) or its base URL "
			 "(https://NODE:10250)",
			 k->url);
	} else {
		err = code == 401 ? LMP_KUBELET_ERR_AUTH :
		      code == 403 ? LMP_KUBELET_ERR_FORBIDDEN :
				    LMP_KUBELET_ERR_HTTP;
		snprintf(msg, sizeof(msg), "%s: HTTP %ld", cur_url(k), code);
	}
	release_body(k);
	finish(k, NULL, err, code, res, msg);
}

static void drain(struct lmp_kubelet *k)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(k->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == k->easy)
			request_done(k, m->data.result);
}

static void on_fd(void *ctx, int fd, uint32_t events)
{
	struct lmp_kubelet *k = ctx;
	int running, mask = 0;

	mask |= events & EPOLLIN ? CURL_CSELECT_IN : 0;
	mask |= events & EPOLLOUT ? CURL_CSELECT_OUT : 0;
	mask |= events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0;
	curl_multi_socket_action(k->multi, fd, mask, &running);
	drain(k);
}

static void on_curl_timer(void *ctx)
{
	struct lmp_kubelet *k = ctx;
	int running;

	curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(k);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct lmp_kubelet *k = userp;
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

	if (what == CURL_POLL_REMOVE) {
		lmp_loop_del_fd(k->loop, s);
		curl_multi_assign(k->multi, s, NULL);
	} else if (!socketp) {
		if (lmp_loop_add_fd(k->loop, s, ev, on_fd, k) == 0)
			curl_multi_assign(k->multi, s, k);
	} else {
		lmp_loop_mod_fd(k->loop, s, ev);
	}
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct lmp_kubelet *k = userp;

	/* -1: no timeout wanted; 0: act now, which the loop does on its next turn */
	lmp_loop_set_timer(k->loop, k->curl_timer,
			   timeout_ms < 0 ? 0 :
			   timeout_ms	  ? timeout_ms :
					    1,
			   false);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct lmp_kubelet *k = userp;
	size_t add = size * n;

	if (k->len + add > k->o.max_body) {
		k->too_large = true;
		return 0;
	}
	if (k->len + add + 1 > k->cap) {
		size_t cap = k->cap ? k->cap : 65536;
		char *p;

		while (cap < k->len + add + 1)
			cap *= 2;
		p = realloc(k->body, cap);
		if (!p)
			return 0;
		k->body = p;
		k->cap = cap;
	}
	memcpy(k->body + k->len, data, add);
	k->len += add;
	return add;
}

static void start_request(struct lmp_kubelet *k)
{
	char msg[512];

	k->start_ms = mono_ms();
	k->in_flight = k->st.in_flight = true;
	k->len = 0;
	k->too_large = false;
	k->errbuf[0] = '\0';
	int err = load_token(k, msg, sizeof(msg));

	if (err < 0) {
		k->on_api = false; /* the API server needs the same token */
		finish(k, NULL, LMP_KUBELET_ERR_TOKEN, 0, -err, msg);
		return;
	}
	/* the API server is always verified, against the service-account CA */
	curl_easy_setopt(k->easy, CURLOPT_URL, cur_url(k));
	curl_easy_setopt(k->easy, CURLOPT_CAINFO, k->on_api ? k->api_ca_file : k->ca_file);
	curl_easy_setopt(k->easy, CURLOPT_SSL_VERIFYPEER,
			 k->on_api || !k->o.insecure_skip_verify ? 1L : 0L);
	curl_easy_setopt(k->easy, CURLOPT_SSL_VERIFYHOST,
			 k->on_api || !k->o.insecure_skip_verify ? 2L : 0L);
	if (curl_multi_add_handle(k->multi, k->easy) != CURLM_OK)
		finish(k, NULL, LMP_KUBELET_ERR_INTERNAL, 0, 0, "curl_multi_add_handle failed");
}

static void on_sched(void *ctx)
{
	struct lmp_kubelet *k = ctx;

	if (k->in_flight) /* rescheduled by finish() */
		return;
	start_request(k);
}

bool lmp_kubelet_refresh(struct lmp_kubelet *k, bool on_miss)
{
	uint64_t now = mono_ms(), earliest;

	if (k->in_flight) {
		/* the reply in flight may predate the new pod: ask again once it is in */
		if (on_miss && now - k->start_ms >= 50)
			k->again = true;
		return true;
	}
	if (!on_miss) {
		schedule(k, 0);
		return true;
	}
	if (k->backoff_ms) /* failing: keep to the back-off, do not hold events for it */
		return false;
	earliest = k->start_ms + k->o.miss_interval_ms;
	if (earliest <= now)
		schedule(k, 0);
	else if (earliest < k->due_ms)
		schedule(k, earliest - now);
	return true;
}

void lmp_kubelet_stats(const struct lmp_kubelet *k, struct lmp_kubelet_stats *out)
{
	*out = k->st;
}

static int setup_curl(struct lmp_kubelet *k)
{
	CURL *e = k->easy;
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, k->url);
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)k->o.connect_timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)k->o.timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, k);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, k->errbuf);
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip if the kubelet offers */
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "lmp");
	if (k->ca_file)
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, k->ca_file);
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, k->o.insecure_skip_verify ? 0L : 1L);
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, k->o.insecure_skip_verify ? 0L : 2L);
	k->headers = curl_slist_append(NULL, "Accept: application/json");
	bad |= !k->headers || curl_easy_setopt(e, CURLOPT_HTTPHEADER, k->headers);
	bad |= curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	bad |= curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
	bad |= curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	bad |= curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
	return bad ? -EINVAL : 0;
}

/*
 * A URL with no path is the kubelet's base URL, as other tools take it: /pods is added.
 * Any path given is used as it is.
 */
static char *pods_url(const char *url)
{
	const char *auth = strstr(url, "://"), *p;
	size_t n;
	char *out;

	if (!auth)
		return strdup(url);
	p = strpbrk(auth + 3, "/?#");
	if (p && !(p[0] == '/' && p[1] == '\0'))
		return strdup(url);
	n = p ? (size_t)(p - url) : strlen(url);
	out = malloc(n + sizeof("/pods"));
	if (out) {
		memcpy(out, url, n);
		memcpy(out + n, "/pods", sizeof("/pods"));
	}
	return out;
}

const char *lmp_kubelet_url(const struct lmp_kubelet *k)
{
	return k->url;
}

const char *lmp_kubelet_apiserver_url(const struct lmp_kubelet *k)
{
	return k->api_url;
}

int lmp_kubelet_apiserver_from_env(char *buf, size_t len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	if (!host || !*host)
		return 0;
	if (!port || !*port)
		port = "443";
	return snprintf(buf, len, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
			port) < (int)len ?
		       1 :
		       -ENAMETOOLONG;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int lmp_kubelet_new(const struct lmp_kubelet_opts *o, struct lmp_loop *loop, lmp_kubelet_fn cb,
		    void *ctx, struct lmp_kubelet **out)
{
	static bool curl_ready;
	struct lmp_kubelet *k;
	int r = -ENOMEM;

	if (!o->url || !*o->url || !cb)
		return -EINVAL;
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	curl_ready = true;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->o = *o;
	k->o.refresh_ms = o->refresh_ms ? o->refresh_ms : 30000;
	k->o.connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 3000;
	k->o.timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	k->o.miss_interval_ms = o->miss_interval_ms ? o->miss_interval_ms : 500;
	k->o.max_body = o->max_body ? o->max_body : 64 << 20;
	k->loop = loop;
	k->cb = cb;
	k->ctx = ctx;
	k->curl_timer = k->sched_timer = k->parse_fd = -1;
	k->url = pods_url(o->url);
	if (o->apiserver_url && *o->apiserver_url && o->node_name && *o->node_name) {
		const char *base = o->apiserver_url;
		size_t bl = strlen(base);

		while (bl && base[bl - 1] == '/')
			bl--;
		/* node names are DNS subdomains: nothing to escape */
		if (asprintf(&k->api_url, "%.*s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s",
			     (int)bl, base, o->node_name) < 0)
			k->api_url = NULL;
		k->api_ca_file = strdup(o->apiserver_ca_file && *o->apiserver_ca_file ?
						o->apiserver_ca_file :
						SA_CA);
		if (!k->api_url || !k->api_ca_file)
			goto fail;
	}
	k->token_file = dup_or_null(o->token_file);
	k->ca_file = dup_or_null(o->ca_file);
	k->multi = curl_multi_init();
	k->easy = curl_easy_init();
	if (!k->url || !k->multi || !k->easy ||
	    (o->token_file && *o->token_file && !k->token_file) ||
	    (o->ca_file && *o->ca_file && !k->ca_file))
		goto fail;
	r = setup_curl(k);
	if (r < 0)
		goto fail;
	k->curl_timer = lmp_loop_add_timer(loop, 0, false, on_curl_timer, k);
	k->sched_timer = lmp_loop_add_timer(loop, 0, false, on_sched, k);
	if (k->curl_timer < 0 || k->sched_timer < 0) {
		r = k->curl_timer < 0 ? k->curl_timer : k->sched_timer;
		goto fail;
	}
	k->parse_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = k->parse_fd < 0 ? -errno : lmp_loop_add_fd(loop, k->parse_fd, EPOLLIN, on_parse_fd, k);
	if (r < 0) {
		if (k->parse_fd >= 0)
			close(k->parse_fd);
		k->parse_fd = -1;
		goto fail;
	}
	k->start_ms = mono_ms() - k->o.miss_interval_ms;
	schedule(k, 0);
	*out = k;
	return 0;
fail:
	lmp_kubelet_free(k);
	return r;
}

void lmp_kubelet_free(struct lmp_kubelet *k)
{
	if (!k)
		return;
	if (k->parsing) { /* bounded: the parser refuses what is too big to finish soon */
		pthread_join(k->parser, NULL);
		lmp_podlist_free(k->parsed);
	}
	if (k->parse_fd >= 0) {
		lmp_loop_del_fd(k->loop, k->parse_fd);
		close(k->parse_fd);
	}
	if (k->multi && k->easy)
		curl_multi_remove_handle(k->multi, k->easy); /* closes its sockets via sock_cb */
	if (k->easy)
		curl_easy_cleanup(k->easy);
	if (k->multi)
		curl_multi_cleanup(k->multi);
	if (k->curl_timer > 0)
		lmp_loop_del_timer(k->loop, k->curl_timer);
	if (k->sched_timer > 0)
		lmp_loop_del_timer(k->loop, k->sched_timer);
	curl_slist_free_all(k->headers);
	free(k->body);
	free(k->url);
	free(k->api_url);
	free(k->api_ca_file);
	free(k->token_file);
	free(k->ca_file);
	free(k);
}

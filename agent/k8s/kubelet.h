/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubelet /pods client: libcurl multi driven by the agent's epoll loop, so a slow or dead
 * kubelet never blocks event processing. Refreshes every refresh period, sooner on demand
 * (a pod UID seen in a cgroup but not in the last reply), backs off after failures and
 * recovers by itself. Re-reads the bearer token file whenever it changes. A reply is parsed
 * on a thread of its own (one at a time, joined before its result is used), so a big reply
 * does not stall the loop. Does not log: the owner gets every outcome through the callback
 * and logs those lmp_kubelet_stats.report marks.
 */
#ifndef LMP_KUBELET_H
#define LMP_KUBELET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lmp_loop;
struct lmp_ident;
struct lmp_podlist;
struct lmp_kubelet;

enum lmp_kubelet_err {
	LMP_KUBELET_OK,
	LMP_KUBELET_ERR_TOKEN,	   /* token file unreadable or empty */
	LMP_KUBELET_ERR_CONNECT,   /* refused, unreachable, unresolvable */
	LMP_KUBELET_ERR_TIMEOUT,   /* connect or total timeout */
	LMP_KUBELET_ERR_TLS,	   /* CA, certificate name, handshake */
	LMP_KUBELET_ERR_AUTH,	   /* HTTP 401: token rejected */
	LMP_KUBELET_ERR_FORBIDDEN, /* HTTP 403: RBAC lacks nodes/proxy (or nodes/pods) */
	LMP_KUBELET_ERR_HTTP,	   /* any other non-200 status */
	LMP_KUBELET_ERR_TRANSFER,  /* connection dropped mid-reply */
	LMP_KUBELET_ERR_BODY,	   /* reply is not a PodList (not JSON, cut short, odd members) */
	LMP_KUBELET_ERR_TOO_LARGE, /* reply over the size or value limit */
	LMP_KUBELET_ERR_INTERNAL,  /* out of memory, libcurl setup */
	_LMP_KUBELET_ERR_MAX,
};

struct lmp_kubelet_opts {
	const char *url; /* the /pods URL, or the kubelet's base URL (no path): /pods is added */
	const char *token_file; /* NULL or "": no Authorization header */
	const char *ca_file;	/* NULL or "": the system CA store */
	bool insecure_skip_verify;
	unsigned refresh_ms;	     /* periodic refresh */
	unsigned connect_timeout_ms; /* 0: 3000 */
	unsigned timeout_ms;	     /* whole request; 0: 10000 */
	unsigned miss_interval_ms;   /* least gap between on-demand refreshes; 0: 500 */
	size_t max_body;	     /* 0: 64 MiB */
	/*
	 * API-server fallback: when the kubelet cannot be reached or verified (connect,
	 * timeout, tls), the same refresh lists this node's pods from
	 * apiserver_url/api/v1/pods?fieldSelector=spec.nodeName=node_name, always verified
	 * against apiserver_ca_file (NULL: the service-account CA), with the same token. Every
	 * refresh tries the kubelet first. NULL or "" url or node name: no fallback.
	 */
	const char *apiserver_url;
	const char *apiserver_ca_file;
	const char *node_name;
};

/* What the metrics layer exports; all counters are since start. */
struct lmp_kubelet_stats {
	uint64_t requests_ok;
	uint64_t requests_failed;
	uint64_t failures[_LMP_KUBELET_ERR_MAX]; /* by cause */
	uint64_t token_reads;			 /* token file (re)loaded */
	double last_sync;			 /* unix time of the last good reply, 0 = never */
	double last_duration;			 /* seconds the last request took */
	uint32_t pods_known, containers_known;
	enum lmp_kubelet_err last_err; /* cause of the last request's failure, or OK */
	long last_http_code;	       /* of the last request, 0 if none */
	bool in_flight;
	/* the last request failed for a cause not reported in the last RELOG_MS (10 min): the
	 * owner logs it. A change of cause is a change of kind, HTTP status or libcurl code. */
	bool report;
	char last_msg[256]; /* one-line outcome of the last request, for /readyz */
	/* the pods in use came from the API server (the kubelet failed: kubelet_err) */
	bool from_apiserver;
	bool source_changed;		  /* by the last request: the owner logs it */
	enum lmp_kubelet_err kubelet_err; /* the kubelet's own last outcome */
	char kubelet_msg[256];
	uint64_t api_requests[2]; /* fallback requests: ok, failed */
};

/*
 * Called on the loop after each request: on success pl is the new table (the callee owns
 * it) and err is OK; on failure pl is NULL, err the cause and msg a one-line reason.
 */
typedef void (*lmp_kubelet_fn)(void *ctx, struct lmp_podlist *pl, enum lmp_kubelet_err err,
			       const char *msg);

/* The first request goes out on the loop's next turn. */
int lmp_kubelet_new(const struct lmp_kubelet_opts *o, struct lmp_loop *loop, lmp_kubelet_fn cb,
		    void *ctx, struct lmp_kubelet **out);
/* Free before the loop: it unregisters its fds and timers. */
void lmp_kubelet_free(struct lmp_kubelet *k);

/*
 * Ask for a refresh soon (on_miss: because of an unknown pod UID; rate-limited by
 * miss_interval_ms, and not while backing off after a failure). Returns true when a request
 * is in flight or will start within miss_interval_ms: worth holding an event for.
 */
bool lmp_kubelet_refresh(struct lmp_kubelet *k, bool on_miss);
void lmp_kubelet_stats(const struct lmp_kubelet *k, struct lmp_kubelet_stats *out);
/* the URL asked (with /pods added to a base URL) */
const char *lmp_kubelet_url(const struct lmp_kubelet *k);
/* the API server's pods URL of the fallback, or NULL */
const char *lmp_kubelet_apiserver_url(const struct lmp_kubelet *k);
/* https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT into buf: 1, 0 when unset */
int lmp_kubelet_apiserver_from_env(char *buf, size_t len);
const char *lmp_kubelet_err_name(enum lmp_kubelet_err e);

/*
 * For the metrics layer: the kubelet client's counters, plus pods known. -ENOENT when the
 * agent runs without a kubelet (outside Kubernetes). Implemented in identity.c.
 */
int lmp_ident_kubelet_stats(const struct lmp_ident *ic, struct lmp_kubelet_stats *out);

/* The pods of the last good kubelet reply (NULL before the first, or outside Kubernetes). */
const struct lmp_podlist *lmp_ident_podlist(const struct lmp_ident *ic);

#endif /* LMP_KUBELET_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubelet /pods client on the agent's loop (libcurl multi), so a slow kubelet never blocks
 * events; replies are parsed on a thread of their own. Does not log: the owner gets every
 * outcome through the callback and logs those lmp_kubelet_stats.report marks.
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
	LMP_KUBELET_ERR_TOKEN,
	LMP_KUBELET_ERR_CONNECT,
	LMP_KUBELET_ERR_TIMEOUT,
	LMP_KUBELET_ERR_TLS,
	LMP_KUBELET_ERR_AUTH,	   /* 401 */
	LMP_KUBELET_ERR_FORBIDDEN, /* 403: RBAC lacks nodes/proxy */
	LMP_KUBELET_ERR_HTTP,
	LMP_KUBELET_ERR_TRANSFER,
	LMP_KUBELET_ERR_BODY, /* not a PodList */
	LMP_KUBELET_ERR_TOO_LARGE,
	LMP_KUBELET_ERR_INTERNAL,
	_LMP_KUBELET_ERR_MAX,
};

struct lmp_kubelet_opts {
	const char *url;	/* /pods is added to a base URL */
	const char *token_file; /* NULL or "": none */
	const char *ca_file;	/* NULL or "": the system CA store */
	bool insecure_skip_verify;
	unsigned refresh_ms;
	unsigned connect_timeout_ms; /* 0: 3000 */
	unsigned timeout_ms;	     /* 0: 10000 */
	unsigned miss_interval_ms;   /* 0: 500 */
	size_t max_body;	     /* 0: 64 MiB */
	/*
	 * Asked for this node's pods when the kubelet cannot be reached or verified
	 * (docs/kubernetes.md); NULL or "" url or node name: no fallback.
	 */
	const char *apiserver_url;
	const char *apiserver_ca_file;
	const char *node_name;
};

/* counters since start */
struct lmp_kubelet_stats {
	uint64_t requests_ok;
	uint64_t requests_failed;
	uint64_t failures[_LMP_KUBELET_ERR_MAX];
	uint64_t token_reads;
	double last_sync; /* unix time, 0 = never */
	double last_duration;
	uint32_t pods_known, containers_known;
	enum lmp_kubelet_err last_err;
	long last_http_code; /* 0 if none */
	bool in_flight;
	bool report; /* a cause not reported lately: the owner logs it */
	char last_msg[256];
	bool from_apiserver;
	bool source_changed; /* the owner logs it */
	enum lmp_kubelet_err kubelet_err;
	char kubelet_msg[256];
	uint64_t api_requests[2]; /* ok, failed */
};

/* on the loop after each request: pl (the callee owns it), or NULL with err and msg */
typedef void (*lmp_kubelet_fn)(void *ctx, struct lmp_podlist *pl, enum lmp_kubelet_err err,
			       const char *msg);

int lmp_kubelet_new(const struct lmp_kubelet_opts *o, struct lmp_loop *loop, lmp_kubelet_fn cb,
		    void *ctx, struct lmp_kubelet **out);
/* before the loop */
void lmp_kubelet_free(struct lmp_kubelet *k);

/*
 * on_miss (an unknown pod UID) is rate-limited and not done while backing off. True when a
 * request is in flight or starts soon: worth holding an event for.
 */
bool lmp_kubelet_refresh(struct lmp_kubelet *k, bool on_miss);
void lmp_kubelet_stats(const struct lmp_kubelet *k, struct lmp_kubelet_stats *out);
const char *lmp_kubelet_url(const struct lmp_kubelet *k);
/* or NULL */
const char *lmp_kubelet_apiserver_url(const struct lmp_kubelet *k);
/* from $KUBERNETES_SERVICE_HOST/PORT: 1, 0 when unset */
int lmp_kubelet_apiserver_from_env(char *buf, size_t len);
const char *lmp_kubelet_err_name(enum lmp_kubelet_err e);

/* -ENOENT without a kubelet; in identity.c */
int lmp_ident_kubelet_stats(const struct lmp_ident *ic, struct lmp_kubelet_stats *out);

/* of the last good reply, or NULL */
const struct lmp_podlist *lmp_ident_podlist(const struct lmp_ident *ic);

#endif /* LMP_KUBELET_H */

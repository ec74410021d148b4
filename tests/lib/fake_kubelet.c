// SPDX-License-Identifier: Apache-2.0
/*
 * Fake kubelet /pods endpoint. One microhttpd daemon (thread per connection, so a slow
 * reply does not stall the next request) whose certificate can be swapped by restarting it
 * on the same port. All settings sit behind one mutex: the test thread changes them while
 * the daemon's threads read them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <microhttpd.h>

#include "fake_kubelet.h"

struct fake_kubelet {
	char dir[256];
	char url[64];
	char ca_file[300];
	uint16_t port;
	struct MHD_Daemon *d;
	enum fake_kubelet_cert cert;
	pthread_mutex_t mu;
	char *token;
	char *body;
	size_t len;
	enum fake_kubelet_fault fault;
	unsigned slow_ms;
	unsigned requests, token_rejects;
	char path[64];		  /* the one path served: /pods, or /api/v1/pods */
	char field_selector[128]; /* of the last request */
	volatile int stopping;
	char *pem_key, *pem_cert;
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}

static int run(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "fake_kubelet: '%s' failed (%d)\n", cmd, r);
	return r == 0 ? 0 : -EIO;
}

/* Two CAs, three server certificates; EC P-256 keys make this fast (~0.3 s). */
static int make_certs(const char *dir)
{
	static const char *const steps[] = {
		"mkdir -p %1$s",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout %1$s/ca.key -out %1$s/ca.crt -days 2 -subj /CN=lmp-test-ca "
		"-addext basicConstraints=critical,CA:TRUE "
		"-addext keyUsage=critical,keyCertSign,cRLSign",
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout %1$s/other-ca.key -out %1$s/other-ca.crt -days 2 -subj /CN=lmp-other-ca "
		"-addext basicConstraints=critical,CA:TRUE "
		"-addext keyUsage=critical,keyCertSign,cRLSign",
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		"-keyout %1$s/server.key -out %1$s/server.csr -subj /CN=lmp-fake-kubelet",
		"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > %1$s/good.ext",
		"printf 'subjectAltName=DNS:wrong.example\\n' > %1$s/wrong.ext",
		"openssl x509 -req -in %1$s/server.csr -CA %1$s/ca.crt -CAkey %1$s/ca.key "
		"-set_serial 1 -days 2 -extfile %1$s/good.ext -out %1$s/good.crt",
		"openssl x509 -req -in %1$s/server.csr -CA %1$s/other-ca.crt "
		"-CAkey %1$s/other-ca.key -set_serial 2 -days 2 -extfile %1$s/good.ext "
		"-out %1$s/other.crt",
		"openssl x509 -req -in %1$s/server.csr -CA %1$s/ca.crt -CAkey %1$s/ca.key "
		"-set_serial 3 -days 2 -extfile %1$s/wrong.ext -out %1$s/wrong.crt",
	};
	char cmd[1024], full[1100];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(cmd, sizeof(cmd), steps[i], dir);
		snprintf(full, sizeof(full), "{ %s; } >/dev/null 2>&1", cmd);
		if (run(full) < 0)
			return -EIO;
	}
	return 0;
}

/* body is copied; len SIZE_MAX: body is a C string */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len == SIZE_MAX ? strlen(body) : len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

struct cut {
	char *body;
	size_t len;
};

/* Hands out the first half of the body, then reports an error: MHD drops the connection. */
static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cut *c = cls;
	size_t half = c->len / 2, n;

	if (pos >= half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = half - pos < max ? half - pos : max;
	memcpy(buf, c->body + pos, n);
	return n;
}

static void cut_free(void *cls)
{
	struct cut *c = cls;

	free(c->body);
	free(c);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct fake_kubelet *fk = cls;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	enum fake_kubelet_fault fault;
	char *body = NULL;
	size_t len;
	unsigned slow;
	bool token_ok;
	enum MHD_Result ret;

	pthread_mutex_lock(&fk->mu);
	if (strcmp(url, fk->path)) {
		pthread_mutex_unlock(&fk->mu);
		return reply(c, 404, "text/plain", "404 page not found\n", SIZE_MAX);
	}
	{
		const char *fs =
			MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fieldSelector");

		snprintf(fk->field_selector, sizeof(fk->field_selector), "%s", fs ? fs : "");
	}
	fk->requests++;
	token_ok = !fk->token ||
		   (auth && !strncmp(auth, "Bearer ", 7) && !strcmp(auth + 7, fk->token));
	fk->token_rejects += !token_ok;
	fault = fk->fault;
	slow = fk->slow_ms;
	len = fk->len;
	if (fk->body) {
		body = malloc(len + 1);
		if (body)
			memcpy(body, fk->body, len);
	}
	pthread_mutex_unlock(&fk->mu);
	if (!token_ok || fault == FK_401) {
		free(body);
		return reply(c, 401, "text/plain", "Unauthorized\n", SIZE_MAX);
	}
	switch (fault) {
	case FK_403:
		ret = reply(c, 403, "text/plain",
			    "Forbidden (user=system:serviceaccount:lmp:lmp, verb=get, "
			    "resource=nodes, subresource=proxy)\n",
			    SIZE_MAX);
		break;
	case FK_500:
		ret = reply(c, 500, "text/plain", "Internal Server Error\n", SIZE_MAX);
		break;
	case FK_NOT_JSON:
		ret = reply(c, 200, "text/html", "<html><body>502 Bad Gateway</body></html>",
			    SIZE_MAX);
		break;
	case FK_CUT_JSON:
		ret = reply(c, 200, "application/json", body ? body : "", body ? len / 2 : 0);
		break;
	case FK_CUT_TRANSFER: {
		struct cut *cu = calloc(1, sizeof(*cu));
		struct MHD_Response *r;

		cu->body = body;
		cu->len = len;
		body = NULL;
		r = MHD_create_response_from_callback(cu->len, 4096, cut_reader, cu, cut_free);
		MHD_add_response_header(r, "Content-Type", "application/json");
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		break;
	}
	case FK_SLOW:
		for (unsigned waited = 0; waited < slow && !fk->stopping; waited += 10)
			usleep(10 * 1000);
		/* fall through */
	default:
		ret = reply(c, 200, "application/json", body ? body : "", body ? len : 0);
		break;
	}
	free(body);
	return ret;
}

static int daemon_start(struct fake_kubelet *fk)
{
	static const char *const crt[] = { "good.crt", "other.crt", "wrong.crt" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(fk->port) };
	char p[320];
	const union MHD_DaemonInfo *info;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	free(fk->pem_key);
	free(fk->pem_cert);
	snprintf(p, sizeof(p), "%s/server.key", fk->dir);
	fk->pem_key = read_file(p, NULL);
	snprintf(p, sizeof(p), "%s/%s", fk->dir, crt[fk->cert]);
	fk->pem_cert = read_file(p, NULL);
	if (!fk->pem_key || !fk->pem_cert)
		return -ENOENT;
	fk->stopping = 0;
	fk->d = MHD_start_daemon(
		MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
		NULL, NULL, handle, fk, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_HTTPS_MEM_KEY, fk->pem_key,
		MHD_OPTION_HTTPS_MEM_CERT, fk->pem_cert, MHD_OPTION_END);
	if (!fk->d) {
		fprintf(stderr, "fake_kubelet: cannot listen on 127.0.0.1:%u\n", fk->port);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(fk->d, MHD_DAEMON_INFO_BIND_PORT);
	fk->port = info ? info->port : fk->port;
	snprintf(fk->url, sizeof(fk->url), "https://127.0.0.1:%u/pods", fk->port);
	return 0;
}

static void daemon_stop(struct fake_kubelet *fk)
{
	if (!fk->d)
		return;
	fk->stopping = 1; /* cuts a slow reply short so the connection thread can end */
	MHD_stop_daemon(fk->d);
	fk->d = NULL;
}

int fake_kubelet_start(const char *dir, uint16_t port, struct fake_kubelet **out)
{
	struct fake_kubelet *fk = calloc(1, sizeof(*fk));
	int r;

	if (!fk)
		return -ENOMEM;
	pthread_mutex_init(&fk->mu, NULL);
	strcpy(fk->path, "/pods");
	snprintf(fk->dir, sizeof(fk->dir), "%s", dir);
	snprintf(fk->ca_file, sizeof(fk->ca_file), "%s/ca.crt", dir);
	fk->port = port;
	r = make_certs(dir);
	if (r == 0)
		r = daemon_start(fk);
	if (r < 0) {
		fake_kubelet_free(fk);
		return r;
	}
	*out = fk;
	return 0;
}

void fake_kubelet_free(struct fake_kubelet *fk)
{
	if (!fk)
		return;
	daemon_stop(fk);
	pthread_mutex_destroy(&fk->mu);
	free(fk->token);
	free(fk->body);
	free(fk->pem_key);
	free(fk->pem_cert);
	free(fk);
}

uint16_t fake_kubelet_port(const struct fake_kubelet *fk)
{
	return fk->port;
}

void fake_kubelet_set_path(struct fake_kubelet *fk, const char *path)
{
	pthread_mutex_lock(&fk->mu);
	snprintf(fk->path, sizeof(fk->path), "%s", path);
	pthread_mutex_unlock(&fk->mu);
}

void fake_kubelet_field_selector(struct fake_kubelet *fk, char *buf, size_t len)
{
	pthread_mutex_lock(&fk->mu);
	snprintf(buf, len, "%s", fk->field_selector);
	pthread_mutex_unlock(&fk->mu);
}

const char *fake_kubelet_url(const struct fake_kubelet *fk)
{
	return fk->url;
}

const char *fake_kubelet_ca_file(const struct fake_kubelet *fk)
{
	return fk->ca_file;
}

void fake_kubelet_set_token(struct fake_kubelet *fk, const char *token)
{
	pthread_mutex_lock(&fk->mu);
	free(fk->token);
	fk->token = token ? strdup(token) : NULL;
	pthread_mutex_unlock(&fk->mu);
}

int fake_kubelet_set_body(struct fake_kubelet *fk, const char *json, size_t len)
{
	char *b = malloc(len + 1);

	if (!b)
		return -ENOMEM;
	memcpy(b, json, len);
	b[len] = '\0';
	pthread_mutex_lock(&fk->mu);
	free(fk->body);
	fk->body = b;
	fk->len = len;
	pthread_mutex_unlock(&fk->mu);
	return 0;
}

int fake_kubelet_set_body_file(struct fake_kubelet *fk, const char *path)
{
	size_t len;
	char *b = read_file(path, &len);
	int r;

	if (!b) {
		fprintf(stderr, "fake_kubelet: cannot read %s\n", path);
		return -ENOENT;
	}
	r = fake_kubelet_set_body(fk, b, len);
	free(b);
	return r;
}

void fake_kubelet_set_fault(struct fake_kubelet *fk, enum fake_kubelet_fault f, unsigned slow_ms)
{
	pthread_mutex_lock(&fk->mu);
	fk->fault = f;
	fk->slow_ms = slow_ms;
	pthread_mutex_unlock(&fk->mu);
}

int fake_kubelet_set_cert(struct fake_kubelet *fk, enum fake_kubelet_cert c)
{
	daemon_stop(fk);
	fk->cert = c;
	return daemon_start(fk);
}

void fake_kubelet_down(struct fake_kubelet *fk)
{
	daemon_stop(fk);
}

int fake_kubelet_up(struct fake_kubelet *fk)
{
	return fk->d ? 0 : daemon_start(fk);
}

static unsigned read_locked(struct fake_kubelet *fk, const unsigned *counter)
{
	unsigned n;

	pthread_mutex_lock(&fk->mu);
	n = *counter;
	pthread_mutex_unlock(&fk->mu);
	return n;
}

unsigned fake_kubelet_requests(struct fake_kubelet *fk)
{
	return read_locked(fk, &fk->requests);
}

unsigned fake_kubelet_token_rejects(struct fake_kubelet *fk)
{
	return read_locked(fk, &fk->token_rejects);
}

char *fake_kubelet_big_podlist(size_t size, size_t *len, unsigned *pods)
{
	char pad[2001];
	char *s = malloc(size + 8192), *p = s;

	if (!s)
		return NULL;
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	p += sprintf(p, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
	for (*pods = 0; (size_t)(p - s) < size; (*pods)++)
		p += sprintf(
			p,
			"%s{\"metadata\":{\"name\":\"p%u\",\"namespace\":\"ns\",\"uid\":\"u-%u\","
			"\"labels\":{\"app\":\"a\"},\"annotations\":{\"a\":\"%s\"}},"
			"\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\",\"args\":"
			"[\"%s\"]}]},\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\","
			"\"containerStatuses\":[{\"name\":\"c\",\"ready\":true,\"containerID\":"
			"\"containerd://%064x\"}]}}",
			*pods ? "," : "", *pods, *pods, pad, pad, *pods + 1);
	p += sprintf(p, "]}");
	*len = p - s;
	return s;
}

// SPDX-License-Identifier: Apache-2.0
/* `lmp why`: a client of GET /api/v1/deaths; it shares no state with the agent process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

#include "core/config.h"
#include "core/fetch.h"
#include "core/why.h"

#define MAX_BODY (16u << 20) /* 8 deaths per container, a few KiB each */

/* GET <agent>/api/v1/deaths?namespace=..&pod=..[&container=..] */
static int fetch(const struct lmp_config *cfg, char **out, size_t *len, char *err, size_t errlen)
{
	const char *slash = strchr(cfg->why_pod, '/');
	char *ns = strndup(cfg->why_pod, slash - cfg->why_pod);
	const char *query[] = { "namespace",	    ns,	 "pod", slash + 1, "container",
				cfg->why_container, NULL };
	int r;

	if (!ns) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!cfg->why_container)
		query[4] = NULL;
	r = lmp_agent_get(cfg->agent_url, "/api/v1/deaths", query, MAX_BODY, out, len, err, errlen);
	free(ns);
	return r;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void bytes(FILE *f, const char *label, json_t *v)
{
	if (json_is_integer(v))
		fprintf(f, " %s %.1f MiB", label, json_integer_value(v) / 1048576.0);
}

static void print_signal(FILE *f, json_t *s)
{
	json_t *snd = json_object_get(s, "sender");
	json_t *k8s = json_object_get(snd, "k8s");

	fprintf(f, "      %-8s %6.1f s before: %s (pid %lld), %s", str(s, "signal"),
		json_number_value(json_object_get(s, "before_death_s")), str(snd, "comm"),
		json_integer_value(json_object_get(snd, "pid")), str(snd, "role"));
	if (k8s)
		fprintf(f, " %s/%s", str(k8s, "namespace"), str(k8s, "pod"));
	if (*str(snd, "cmdline"))
		fprintf(f, ": %s", str(snd, "cmdline"));
	fputc('\n', f);
}

static void print_death(FILE *f, json_t *d)
{
	json_t *oom = json_object_get(d, "oom"), *sig = json_object_get(d, "signals"), *x;
	json_t *k8s = json_object_get(d, "k8s");
	size_t i;

	fprintf(f, "%s  %s/%s container %s\n", str(d, "ts"), str(k8s, "namespace"), str(k8s, "pod"),
		*str(k8s, "container") ? str(k8s, "container") : "-");
	fprintf(f, "  %s\n", str(d, "summary"));
	fprintf(f, "    cause %s, pid %lld (%s)%s, status %lld, lived %.3f s\n", str(d, "cause"),
		json_integer_value(json_object_get(d, "pid")), str(d, "comm"),
		json_is_true(json_object_get(d, "main_process")) ? ", main process" : "",
		json_integer_value(json_object_get(d, "status_code")),
		json_number_value(json_object_get(d, "lifetime_s")));
	if (json_array_size(sig)) {
		fprintf(f, "    signals:\n");
		json_array_foreach(sig, i, x)
			print_signal(f, x);
	}
	if (oom) {
		json_t *ms = json_object_get(oom, "memory_stat");

		fprintf(f, "    oom: scope %s,", str(oom, "scope"));
		bytes(f, "limit", json_object_get(oom, "limit_bytes"));
		bytes(f, "usage", json_object_get(oom, "usage_bytes"));
		bytes(f, "victim rss", json_object_get(oom, "victim_rss_bytes"));
		fputc('\n', f);
		if (ms) {
			fprintf(f, "    memory.stat %.1f ms after the kill:",
				json_number_value(json_object_get(oom, "read_after_ms")));
			bytes(f, "anon", json_object_get(ms, "anon_bytes"));
			bytes(f, "file", json_object_get(ms, "file_bytes"));
			bytes(f, "kernel", json_object_get(ms, "kernel_bytes"));
			bytes(f, "slab", json_object_get(ms, "slab_bytes"));
			bytes(f, "shmem", json_object_get(ms, "shmem_bytes"));
			bytes(f, "sock", json_object_get(ms, "sock_bytes"));
			fputc('\n', f);
		}
	}
}

int lmp_why_print(FILE *f, const char *doc, size_t len, const char *what, char *err, size_t errlen)
{
	json_t *root = json_loadb(doc, len, 0, NULL);
	json_t *arr = json_object_get(root, "deaths"), *d;
	size_t i;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "the agent's answer is not a deaths document");
		json_decref(root);
		return -EINVAL;
	}
	if (!json_array_size(arr))
		fprintf(f, "no deaths recorded for %s since the agent started\n", what);
	json_array_foreach(arr, i, d) {
		if (i)
			fputc('\n', f);
		print_death(f, d);
	}
	json_decref(root);
	return 0;
}

int lmp_why_main(const struct lmp_config *cfg)
{
	char err[2200], what[600];
	char *body = NULL;
	size_t len = 0;
	int r;

	snprintf(what, sizeof(what), "%s%s%s", cfg->why_pod,
		 cfg->why_container ? " container " : "",
		 cfg->why_container ? cfg->why_container : "");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "lmp why: cannot initialise libcurl\n");
		return 1;
	}
	r = fetch(cfg, &body, &len, err, sizeof(err));
	if (r == 0 && cfg->json) {
		fwrite(body, 1, len, stdout);
		if (!len || body[len - 1] != '\n')
			fputc('\n', stdout);
	} else if (r == 0) {
		r = lmp_why_print(stdout, body, len, what, err, sizeof(err));
	}
	free(body);
	curl_global_cleanup();
	if (r < 0) {
		fprintf(stderr, "lmp why: %s\n", err);
		return 1;
	}
	return 0;
}

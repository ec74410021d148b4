// SPDX-License-Identifier: Apache-2.0
/*
 * `lmp top`. The agent already computes per-pod quantiles over its last interval
 * (/api/v1/pods); this client only fetches, picks the columns an SRE looks at first, sorts
 * by the worst p99 latency and prints. It shares no state with the agent process.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "core/config.h"
#include "core/fetch.h"
#include "expose/out.h"
#include "core/top.h"

#define REFRESH_S 2
#define MAX_BODY (64u << 20) /* an /api/v1/pods for thousands of containers is a few MiB */

/* Columns. Quantile columns read histograms, the others counters. */
enum col_kind { COL_P50, COL_P99, COL_RATE, COL_TOTAL };
enum col_unit { U_SECONDS, U_BYTES, U_COUNT };

static const struct col {
	const char *head;
	const char *json; /* key in -o json output */
	const char *family;
	enum col_kind kind;
	enum col_unit unit;
	bool latency; /* used to sort */
} cols[] = {
	{ "CONNECT-P50", "tcp_connect_p50_seconds", "lmp_tcp_connect_latency_seconds", COL_P50,
	  U_SECONDS },
	{ "CONNECT-P99", "tcp_connect_p99_seconds", "lmp_tcp_connect_latency_seconds", COL_P99,
	  U_SECONDS, true },
	{ "RTT-P50", "tcp_rtt_p50_seconds", "lmp_tcp_rtt_seconds", COL_P50, U_SECONDS },
	{ "RTT-P99", "tcp_rtt_p99_seconds", "lmp_tcp_rtt_seconds", COL_P99, U_SECONDS, true },
	{ "BIO-P50", "block_io_p50_seconds", "lmp_block_io_latency_seconds", COL_P50, U_SECONDS },
	{ "BIO-P99", "block_io_p99_seconds", "lmp_block_io_latency_seconds", COL_P99, U_SECONDS,
	  true },
	{ "BIO-SIZE", "block_io_size_p50_bytes", "lmp_block_io_size_bytes", COL_P50, U_BYTES },
	{ "RUNQ-P99", "run_queue_p99_seconds", "lmp_run_queue_latency_seconds", COL_P99, U_SECONDS,
	  true },
	{ "SYSCALLS/S", "syscalls_per_second", "lmp_syscalls_total", COL_RATE, U_COUNT },
	{ "OOM", "oom_kills", "lmp_oom_kills_total", COL_TOTAL, U_COUNT },
	{ "SIGNALS", "signals", "lmp_signals_total", COL_TOTAL, U_COUNT },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct row {
	const char *ns, *pod, *container;
	double v[NCOLS]; /* NAN when the agent has no value */
	double worst;	 /* largest p99 latency, -1 when none */
};

static double num(json_t *j)
{
	return json_is_number(j) ? json_number_value(j) : NAN;
}

static void fill_row(json_t *pod, struct row *r)
{
	json_t *hist = json_object_get(pod, "histograms");
	json_t *ctr = json_object_get(pod, "counters");

	r->ns = json_string_value(json_object_get(pod, "namespace"));
	r->pod = json_string_value(json_object_get(pod, "pod"));
	r->container = json_string_value(json_object_get(pod, "container"));
	r->worst = -1;
	for (size_t i = 0; i < NCOLS; i++) {
		const struct col *c = &cols[i];

		switch (c->kind) {
		case COL_P50:
		case COL_P99:
			r->v[i] = num(json_object_get(json_object_get(hist, c->family),
						      c->kind == COL_P50 ? "p50" : "p99"));
			break;
		case COL_RATE:
			r->v[i] = num(json_object_get(json_object_get(ctr, c->family), "rate"));
			break;
		case COL_TOTAL:
			r->v[i] = num(json_object_get(json_object_get(ctr, c->family), "total"));
			break;
		}
		if (c->latency && !isnan(r->v[i]) && r->v[i] > r->worst)
			r->worst = r->v[i];
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int r;

	if (x->worst != y->worst)
		return x->worst > y->worst ? -1 : 1;
	if ((r = strcmp(x->ns, y->ns)) || (r = strcmp(x->pod, y->pod)))
		return r;
	return strcmp(x->container, y->container);
}

/* three significant digits at most, in the unit a human reads fastest */
static void fmt(char *buf, size_t n, double v, enum col_unit u, enum col_kind k)
{
	static const char *const sec[] = { "ns", "us", "ms", "s" };
	static const char *const byt[] = { "B", "K", "M", "G", "T" };
	int i = 0;

	if (isnan(v)) {
		snprintf(buf, n, "-");
		return;
	}
	if (u == U_SECONDS) {
		v *= 1e9;
		while (v >= 1000 && i < 3) {
			v /= 1000;
			i++;
		}
		snprintf(buf, n, v < 10 && i ? "%.1f%s" : "%.0f%s", v, sec[i]);
	} else if (u == U_BYTES) {
		while (v >= 1024 && i < 4) {
			v /= 1024;
			i++;
		}
		snprintf(buf, n, v < 10 && i ? "%.1f%s" : "%.0f%s", v, byt[i]);
	} else {
		snprintf(buf, n, k == COL_RATE && v < 10 ? "%.1f" : "%.0f", v);
	}
}

/* a name from the agent's answer, as the terminal may show it (agent/expose/out.h) */
static char *text_of(const char *s)
{
	size_t cap = 4 * strlen(s) + 8; /* the longest escape per byte: "\xNN" */
	char *t = malloc(cap);

	if (t)
		lmp_text_escape(s, strlen(s), '_', t, cap);
	return t;
}

static void print_table(FILE *f, const struct row *rows, size_t n, double interval)
{
	int wns = 9, wpod = 3, wc = 9; /* the header widths */
	char cell[32], **txt = calloc(3 * n + 1, sizeof(*txt));

	if (!txt)
		return;
	for (size_t i = 0; i < n; i++) {
		txt[3 * i] = text_of(rows[i].ns);
		txt[3 * i + 1] = text_of(rows[i].pod);
		txt[3 * i + 2] = text_of(*rows[i].container ? rows[i].container : "-");
		if (!txt[3 * i] || !txt[3 * i + 1] || !txt[3 * i + 2])
			goto out;
		wns = (int)fmax(wns, strlen(txt[3 * i]));
		wpod = (int)fmax(wpod, strlen(txt[3 * i + 1]));
		wc = (int)fmax(wc, strlen(txt[3 * i + 2]));
	}
	if (!n) {
		fprintf(f, "no pod activity yet (the agent reports per-pod values after its "
			   "first interval)\n");
		goto out;
	}
	fprintf(f, "%-*s  %-*s  %-*s", wns, "NAMESPACE", wpod, "POD", wc, "CONTAINER");
	for (size_t c = 0; c < NCOLS; c++)
		fprintf(f, "  %*s", (int)fmax(strlen(cols[c].head), 7), cols[c].head);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%-*s  %-*s  %-*s", wns, txt[3 * i], wpod, txt[3 * i + 1], wc,
			txt[3 * i + 2]);
		for (size_t c = 0; c < NCOLS; c++) {
			fmt(cell, sizeof(cell), rows[i].v[c], cols[c].unit, cols[c].kind);
			fprintf(f, "  %*s", (int)fmax(strlen(cols[c].head), 7), cell);
		}
		fputc('\n', f);
	}
	if (isfinite(interval))
		fprintf(f, "(quantiles and rates over the agent's last %.3g s interval)\n",
			interval);
out:
	for (size_t i = 0; i < 3 * n; i++)
		free(txt[i]);
	free(txt);
}

static int print_json(FILE *f, const struct row *rows, size_t n, double interval)
{
	json_t *arr = json_array(), *root;
	char *s;

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "namespace", rows[i].ns, "pod",
				      rows[i].pod, "container", rows[i].container);

		for (size_t c = 0; o && c < NCOLS; c++)
			json_object_set_new(o, cols[c].json,
					    isnan(rows[i].v[c]) ? json_null() :
								  json_real(rows[i].v[c]));
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	root = json_pack("{s:o, s:o}", "interval_seconds",
			 isfinite(interval) ? json_real(interval) : json_null(), "pods", arr);
	s = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!s)
		return -ENOMEM;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

int lmp_top_print(FILE *f, const char *doc, size_t len, bool json, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(doc, len, 0, &jerr), *pods, *pod;
	struct row *rows = NULL;
	size_t n = 0, i;
	int r = -EINVAL;

	pods = json_object_get(root, "pods");
	if (!root || !json_is_array(pods)) {
		snprintf(err, errlen, "not an lmp /api/v1/pods document%s%s", root ? "" : ": ",
			 root ? "" : jerr.text);
		goto out;
	}
	rows = calloc(json_array_size(pods) + 1, sizeof(*rows));
	if (!rows) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(pods, i, pod) {
		fill_row(pod, &rows[n]);
		if (!rows[n].ns || !rows[n].pod || !rows[n].container) {
			snprintf(err, errlen, "pod entry %zu lacks namespace, pod or container", i);
			goto out;
		}
		n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	if (json)
		r = print_json(f, rows, n, num(json_object_get(root, "interval_seconds")));
	else {
		print_table(f, rows, n, num(json_object_get(root, "interval_seconds")));
		r = 0;
	}
out:
	free(rows);
	json_decref(root);
	return r;
}

int lmp_top_main(const struct lmp_config *cfg)
{
	bool tty = isatty(STDOUT_FILENO);
	char err[512];
	int status = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "lmp top: cannot initialise libcurl\n");
		return 1;
	}
	for (;;) {
		char *body = NULL;
		size_t len = 0;
		int r = lmp_agent_get(cfg->agent_url, "/api/v1/pods", NULL, MAX_BODY, &body, &len,
				      err, sizeof(err));

		if (r == 0) {
			if (!cfg->once && !cfg->json && tty)
				fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
			r = lmp_top_print(stdout, body, len, cfg->json, err, sizeof(err));
		}
		free(body);
		if (r < 0) {
			fprintf(stderr, "lmp top: %s\n", err);
			status = 1;
			/* once: fail; refreshing: an agent restart should not end the view */
			if (cfg->once)
				break;
		} else {
			status = 0;
		}
		fflush(stdout);
		if (cfg->once)
			break;
		if (!tty && !cfg->json)
			fputc('\n', stdout); /* tables in a pipe: a blank line between refreshes */
		sleep(REFRESH_S);
	}
	curl_global_cleanup();
	return status;
}

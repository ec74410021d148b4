// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "core/fetch.h"

#define FETCH_TIMEOUT_MS 5000

struct body {
	char *p;
	size_t len, max;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct body *b = ud;
	size_t k = sz * n;
	char *q;

	if (b->len + k > b->max)
		return 0; /* curl reports a write error */
	q = realloc(b->p, b->len + k + 1);
	if (!q)
		return 0;
	memcpy(q + b->len, p, k);
	b->len += k;
	q[b->len] = '\0';
	b->p = q;
	return k;
}

/* the URL into url; false when it does not fit or a value cannot be escaped */
static bool build_url(CURL *c, const char *agent_url, const char *path, const char *const *query,
		      char *url, size_t size)
{
	size_t n = strlen(agent_url), used;

	while (n && agent_url[n - 1] == '/')
		n--;
	used = snprintf(url, size, "%.*s%s", (int)n, agent_url, path);
	for (size_t i = 0; query && query[i] && used < size; i += 2) {
		char *v = curl_easy_escape(c, query[i + 1], 0);

		if (!v)
			return false;
		used += snprintf(url + used, size - used, "%c%s=%s", i ? '&' : '?', query[i], v);
		curl_free(v);
	}
	return used < size;
}

int lmp_agent_get(const char *agent_url, const char *path, const char *const *query, size_t max,
		  char **out, size_t *len, char *err, size_t errlen)
{
	struct body b = { .max = max };
	char url[2048];
	long code = 0;
	CURLcode rc;
	CURL *c = curl_easy_init();

	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	if (!build_url(c, agent_url, path, query, url, sizeof(url))) {
		curl_easy_cleanup(c);
		snprintf(err, errlen, "agent URL too long");
		return -EINVAL;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || code != 200) {
		if (rc != CURLE_OK)
			snprintf(err, errlen, "cannot read %s: %s", url, curl_easy_strerror(rc));
		else
			snprintf(err, errlen, "%s answered HTTP %ld", url, code);
		free(b.p);
		return -EIO;
	}
	*out = b.p ? b.p : strdup("");
	*len = b.len;
	return *out ? 0 : -ENOMEM;
}

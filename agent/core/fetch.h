/* SPDX-License-Identifier: Apache-2.0 */
/* The commands that read a running agent (`lmp top`, `lmp why`): one GET of its HTTP API. */
#ifndef LMP_FETCH_H
#define LMP_FETCH_H

#include <stddef.h>

/*
 * GET <agent_url><path>?<query> into a malloc'd, NUL-terminated *body of at most max bytes.
 * query: name, value pairs ending in NULL (values are escaped), or NULL; a trailing '/' of
 * agent_url is ignored. -errno on failure with a one-line reason in err ("cannot read URL:
 * why", "URL answered HTTP 404"). Call curl_global_init first.
 */
int lmp_agent_get(const char *agent_url, const char *path, const char *const *query, size_t max,
		  char **body, size_t *len, char *err, size_t errlen);

#endif /* LMP_FETCH_H */

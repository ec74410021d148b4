/* SPDX-License-Identifier: Apache-2.0 */
/* One GET of a running agent's API, for `lmp top` and `lmp why`. */
#ifndef LMP_FETCH_H
#define LMP_FETCH_H

#include <stddef.h>

/*
 * *body is malloc'd. query: name, value pairs ending in NULL, or NULL. -errno with a
 * one-line reason in err. Call curl_global_init first.
 */
int lmp_agent_get(const char *agent_url, const char *path, const char *const *query, size_t max,
		  char **body, size_t *len, char *err, size_t errlen);

#endif /* LMP_FETCH_H */

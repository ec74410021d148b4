/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `lmp top`: a per-pod kernel latency view of a running agent, read from its
 * GET /api/v1/pods. One row per (namespace, pod, container), the worst p99 latency first;
 * refreshed every two seconds, or printed once with --once; -o json for scripts.
 */
#ifndef LMP_TOP_H
#define LMP_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct lmp_config;

/* the command: 0 on success, 1 when the agent cannot be read (one line on stderr) */
int lmp_top_main(const struct lmp_config *cfg);

/*
 * Print one view of an /api/v1/pods document: a table, or with json one JSON object on one
 * line. -EINVAL (reason in err) when the document is not what the agent serves.
 */
int lmp_top_print(FILE *f, const char *doc, size_t len, bool json, char *err, size_t errlen);

#endif /* LMP_TOP_H */

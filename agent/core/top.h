/* SPDX-License-Identifier: Apache-2.0 */
/* `lmp top`: a running agent's GET /api/v1/pods, worst p99 first (docs/usage.md). */
#ifndef LMP_TOP_H
#define LMP_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct lmp_config;

/* 1 when the agent cannot be read */
int lmp_top_main(const struct lmp_config *cfg);

/* -EINVAL with a reason when the document is not the agent's */
int lmp_top_print(FILE *f, const char *doc, size_t len, bool json, char *err, size_t errlen);

#endif /* LMP_TOP_H */

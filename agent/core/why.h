/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `lmp why NAMESPACE/POD [CONTAINER]`: the last deaths of a pod's containers, newest first,
 * read from a running agent's GET /api/v1/deaths (agent/deaths/deaths.h) and printed as readable
 * text, or with -o json as the agent's document.
 */
#ifndef LMP_WHY_H
#define LMP_WHY_H

#include <stddef.h>
#include <stdio.h>

struct lmp_config;

/* the command: 0 on success (also when nothing died), 1 when the agent cannot be read */
int lmp_why_main(const struct lmp_config *cfg);

/* Print an /api/v1/deaths document as text. -EINVAL (reason in err) when it is not one. */
int lmp_why_print(FILE *f, const char *doc, size_t len, const char *what, char *err, size_t errlen);

#endif /* LMP_WHY_H */

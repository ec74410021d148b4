/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copies from a PodList's text only the members the pod table needs, so jansson's tree is
 * as large as the pods listed, not the reply (docs/hardening.md).
 */
#ifndef LMP_PODFILTER_H
#define LMP_PODFILTER_H

#include <stddef.h>

struct lmp_podfilter {
	const char *in;
	size_t len, i;
	char *out;
	size_t o;
	size_t values; /* jansson nodes to come */
	size_t max_values;
	char unknown[40]; /* first unexpected top-level member */
	const char *err;
};

/* out holds len + 1 bytes. -EINVAL with err, and i where the text was refused */
int lmp_podfilter_run(struct lmp_podfilter *f);

#endif /* LMP_PODFILTER_H */

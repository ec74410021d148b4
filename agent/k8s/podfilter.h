/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The first step of reading a kubelet PodList: copy, from the reply's text, only the members
 * the pod table needs (a schema in podfilter.c), so that the tree jansson then builds is as
 * large as the pods and containers listed, not as the rest of the reply. Bounded: at most
 * max_values values are copied.
 */
#ifndef LMP_PODFILTER_H
#define LMP_PODFILTER_H

#include <stddef.h>

struct lmp_podfilter {
	const char *in;
	size_t len, i;
	char *out;
	size_t o;
	size_t values; /* values copied, i.e. jansson nodes to come */
	size_t max_values;
	char unknown[40]; /* first unexpected top-level member */
	const char *err;  /* why the text was refused */
};

/*
 * in, len, max_values set; out: a buffer of len + 1 bytes. 0, with out[0..o) the filtered
 * JSON; or -EINVAL with err set (values > max_values when that was the reason) and i where
 * the text was refused.
 */
int lmp_podfilter_run(struct lmp_podfilter *f);

#endif /* LMP_PODFILTER_H */

// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the kubelet PodList parser (agent/k8s/podlist.c) on arbitrary bytes, which
 * is what a compromised or broken kubelet, or a proxy in between, can send. A reply that
 * parses must also be self-consistent: every pod and container row found again through the
 * hash indexes, every container pointing at a pod that exists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/podlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmp_podlist *pl = NULL;
	char err[160];

	err[0] = 0;
	if (lmp_podlist_parse((const char *)data, size, &pl, err, sizeof(err)) < 0) {
		/* a refusal always says why, in a terminated one-line message */
		if (!err[0] || !memchr(err, 0, sizeof(err)) || strchr(err, '\n'))
			abort();
		return 0;
	}
	for (size_t i = 0; i < pl->n_pods; i++) {
		const struct lmp_pod *p = &pl->pods[i], *q;

		if (!p->uid || !p->namespace || !p->name)
			abort();
		q = lmp_podlist_find_pod(pl, p->uid);
		if (!q || strcmp(q->uid, p->uid) != 0)
			abort();
		if ((size_t)p->first_ctr + p->n_ctrs > pl->n_ctrs)
			abort();
	}
	for (size_t i = 0; i < pl->n_ctrs; i++) {
		const struct lmp_pod_ctr *c = &pl->ctrs[i], *d;

		if (!c->name || !c->id || c->pod >= pl->n_pods || c->kind >= _LMP_CTR_KIND_MAX)
			abort();
		if (c->id[0]) {
			d = lmp_podlist_find_ctr(pl, c->id);
			if (!d || strcmp(d->id, c->id) != 0)
				abort();
		}
	}
	lmp_podlist_find_pod(pl, "");
	lmp_podlist_find_ctr(pl, "");
	lmp_podlist_free(pl);
	return 0;
}

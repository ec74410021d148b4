// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "probes/lib/hist_json.h"

void lmp_hist_json(struct lmp_out *o, const char *key, const struct lmp_hist *h)
{
	char label[48];

	lmp_out_object_begin(o, key);
	for (int i = 0; i < LMP_HIST_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		snprintf(label, sizeof(label), "%llu-%llu", i ? 1ULL << i : 0ULL,
			 (1ULL << (i + 1)) - 1);
		lmp_out_u64(o, label, h->slots[i]);
	}
	lmp_out_object_end(o);
}

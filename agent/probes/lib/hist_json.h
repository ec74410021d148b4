/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON shape of a log2 histogram in probe output: {"lo-hi": count}. */
#ifndef LMP_HIST_JSON_H
#define LMP_HIST_JSON_H

#include "lmp/event.h"
#include "expose/out.h"

/*
 * The non-empty slots of h as the object key, e.g. {"4096-8191": 3}: slot i covers
 * 2^i .. 2^(i+1)-1 (slot 0 also holds 0) in the histogram's unit (ns, bytes), which the key
 * names. What the libbpf-tools print as their histogram, per row.
 */
void lmp_hist_json(struct lmp_out *o, const char *key, const struct lmp_hist *h);

#endif /* LMP_HIST_JSON_H */

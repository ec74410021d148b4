/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Draining the aggregation maps, one way for every probe: by lookup-and-delete batches
 * where the kernel has them, which lose no increment between read and delete.
 */
#ifndef LMP_BPFMAP_H
#define LMP_BPFMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/event.h"

/* a per-CPU value comes summed over CPUs as __u64 words */
typedef void (*lmp_map_entry_fn)(void *ctx, const void *key, const void *value);

/* the number of entries, or -errno */
int lmp_map_drain(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		  void *ctx);
/* without deleting */
int lmp_map_walk(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		 void *ctx);

void lmp_hist_merge(struct lmp_hist *dst, const struct lmp_hist *src);
/* interpolated inside the slot; 0 if empty */
double lmp_hist_quantile(const struct lmp_hist *h, double q);

#endif /* LMP_BPFMAP_H */

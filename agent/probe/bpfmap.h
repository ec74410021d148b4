/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the in-kernel aggregation maps every interval. One routine for every probe that
 * aggregates in the kernel, so each of them reads, sums per-CPU values and deletes the same
 * way: entries are taken with BPF_MAP_LOOKUP_AND_DELETE_BATCH where the kernel has it (the
 * read and delete of a bucket are atomic, so no increment is lost between them), else one
 * lookup + delete per key.
 */
#ifndef LMP_BPFMAP_H
#define LMP_BPFMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/event.h"

/* Called once per entry; for a per-CPU map the value is already summed over CPUs as
 * __u64 words (every per-CPU value used by lmp is an array of __u64). */
typedef void (*lmp_map_entry_fn)(void *ctx, const void *key, const void *value);

/*
 * Drain map fd: hand every entry to fn, and remove it from the map. Returns the number of
 * entries, or -errno. key_size/value_size as in the map definition.
 */
int lmp_map_drain(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		  void *ctx);
/* The same without deleting (for maps whose entries the BPF side removes). */
int lmp_map_walk(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		 void *ctx);

/* log2 histogram helpers shared by probes, metrics and views */
void lmp_hist_merge(struct lmp_hist *dst, const struct lmp_hist *src);
/* estimated value at quantile q (0..1), interpolated inside the log2 slot; 0 if empty */
double lmp_hist_quantile(const struct lmp_hist *h, double q);

#endif /* LMP_BPFMAP_H */

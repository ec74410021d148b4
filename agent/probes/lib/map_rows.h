/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An aggregation map drained every interval (file, syscall, tcpconnlat, tcprtt, llcstat,
 * opensnoop, capable, biostacks, profile) as an array of rows to sort and cut at --top.
 */
#ifndef LMP_MAP_ROWS_H
#define LMP_MAP_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Rows of one drain, the buffer reused across intervals (always with the same sizes);
 * zero-initialise, release with lmp_map_rows_release(). */
struct lmp_map_rows {
	unsigned char *rows;
	size_t n, cap;
	bool oom; /* rows lost to a failed allocation in the last drain */
};

/*
 * Drain the per-CPU map fd into r, replacing what it held: every row is head_size zeroed
 * bytes for the caller, then the key, then the value summed over CPUs, so with sizes that
 * are multiples of 8 it reads as a struct { head; key; value; }. Returns what
 * lmp_map_drain() returns; -EINVAL for a size that is not a multiple of 8.
 */
int lmp_map_rows_drain(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
		       size_t value_size);
/*
 * Read map fd, not per-CPU, into r without deleting (for maps whose entries the BPF side
 * removes): rows of the key then the value, no head. Batched where the kernel can. Returns
 * >= 0, or -errno (-ENOMEM when rows were lost).
 */
int lmp_map_rows_read(struct lmp_map_rows *r, int fd, size_t key_size, size_t value_size);
/* the same for a map that is not per-CPU */
int lmp_map_rows_drain_shared(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
			      size_t value_size);
void lmp_map_rows_release(struct lmp_map_rows *r);

static inline int lmp_cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

#endif /* LMP_MAP_ROWS_H */

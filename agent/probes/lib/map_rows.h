/* SPDX-License-Identifier: Apache-2.0 */
/* An aggregation map drained every interval into rows to sort and cut at --top. */
#ifndef LMP_MAP_ROWS_H
#define LMP_MAP_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* reused across intervals (with the same sizes); zero-initialise */
struct lmp_map_rows {
	unsigned char *rows;
	size_t n, cap;
	bool oom; /* rows lost in the last drain */
};

/*
 * A per-CPU map into r, replacing what it held: each row is struct { head (zeroed); key;
 * value summed over CPUs; }. -EINVAL for a size not a multiple of 8, else as lmp_map_drain().
 */
int lmp_map_rows_drain(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
		       size_t value_size);
/* not per-CPU, without deleting, no head; -ENOMEM when rows were lost */
int lmp_map_rows_read(struct lmp_map_rows *r, int fd, size_t key_size, size_t value_size);
/* not per-CPU */
int lmp_map_rows_drain_shared(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
			      size_t value_size);
void lmp_map_rows_release(struct lmp_map_rows *r);

static inline int lmp_cmp_u64(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

#endif /* LMP_MAP_ROWS_H */

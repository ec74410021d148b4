/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * biopattern: sequential vs random requests per (cgroup, disk), aggregated in the kernel in
 * map `counts` (key struct lmp_blkio_key, aux 0).
 */
#ifndef LMP_BIOPATTERN_H
#define LMP_BIOPATTERN_H

#include "lmp/blkio.h"

struct lmp_biopattern_counts {
	__u64 sequential; /* requests starting where this cgroup's last one on the disk ended */
	__u64 random;	  /* every other request, the first of a stream included */
	__u64 sequential_bytes;
	__u64 random_bytes;
};

#endif /* LMP_BIOPATTERN_H */

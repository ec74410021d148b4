/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bitesize: log2 histogram of request sizes in bytes per (cgroup, disk), aggregated in the
 * kernel in map `sizes` (key struct lmp_blkio_key, aux 0; value struct lmp_hist).
 */
#ifndef LMP_BITESIZE_H
#define LMP_BITESIZE_H

#include "lmp/blkio.h"

#endif /* LMP_BITESIZE_H */

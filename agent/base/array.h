/* SPDX-License-Identifier: Apache-2.0 */
/* Arrays and buffers that grow by doubling. */
#ifndef LMP_ARRAY_H
#define LMP_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Make *arr (a pointer to elements of size bytes; pass its address) hold at least need
 * elements: *cap doubles, from min when 0. false when memory ran out (or the size would
 * overflow), *arr and *cap then unchanged.
 */
bool lmp_array_reserve(void *arr, size_t *cap, size_t need, size_t size, size_t min);

#endif /* LMP_ARRAY_H */

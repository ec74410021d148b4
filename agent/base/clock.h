/* SPDX-License-Identifier: Apache-2.0 */
#ifndef LMP_CLOCK_H
#define LMP_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC in seconds: the span an interval covered */
static inline double lmp_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* LMP_CLOCK_H */

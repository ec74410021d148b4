/* SPDX-License-Identifier: Apache-2.0 */
/* Integer formatting for the hot paths of event output and Prometheus rendering. */
#ifndef LMP_FMT_H
#define LMP_FMT_H

#include <stdint.h>
#include <string.h>

/* v in decimal at p (at most 20 bytes, no NUL); returns the end */
static inline char *lmp_fmt_u64(char *p, uint64_t v)
{
	char tmp[20];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	memcpy(p, tmp + i, sizeof(tmp) - i);
	return p + sizeof(tmp) - i;
}

#endif /* LMP_FMT_H */

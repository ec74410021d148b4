// SPDX-License-Identifier: Apache-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"

bool lmp_array_reserve(void *arr, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t c = *cap ? *cap : min;
	void *old, *p;

	if (need <= *cap)
		return true;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return false;
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		return false;
	/* through memcpy: arr is a T **, which a void ** may not alias */
	memcpy(&old, arr, sizeof(old));
	p = realloc(old, c * size);
	if (!p)
		return false;
	memcpy(arr, &p, sizeof(p));
	*cap = c;
	return true;
}

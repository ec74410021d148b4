// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "base/list.h"

bool lmp_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool lmp_list_selects(const char *list, const char *name)
{
	return strcmp(list, "all") == 0 || lmp_list_has(list, name);
}

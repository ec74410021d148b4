// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "k8s/identity.h"
#include "core/nsfilter.h"

static bool in_list(const char *list, const char *name)
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

bool lmp_ns_wanted(const char *include, const char *exclude, const char *ns)
{
	if (!ns)
		return true;
	if (include && *include && !in_list(include, ns))
		return false;
	return !(exclude && *exclude && in_list(exclude, ns));
}

bool lmp_identity_wanted(const char *include, const char *exclude, const struct lmp_identity *id)
{
	return !id || lmp_ns_wanted(include, exclude, id->namespace);
}

// SPDX-License-Identifier: Apache-2.0
#include "base/list.h"
#include "k8s/identity.h"
#include "k8s/nsfilter.h"

bool lmp_ns_wanted(const char *include, const char *exclude, const char *ns)
{
	if (!ns)
		return true;
	if (include && *include && !lmp_list_has(include, ns))
		return false;
	return !(exclude && *exclude && lmp_list_has(exclude, ns));
}

bool lmp_identity_wanted(const char *include, const char *exclude, const struct lmp_identity *id)
{
	return !id || lmp_ns_wanted(include, exclude, id->namespace);
}

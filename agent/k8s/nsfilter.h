/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --include-namespaces / --exclude-namespaces: which pods' events and series the agent
 * keeps. Cgroups outside pods (host services) are always kept: they have no namespace.
 */
#ifndef LMP_NSFILTER_H
#define LMP_NSFILTER_H

#include <stdbool.h>

struct lmp_identity;

/* lists are comma-separated names; an empty include list means "all" */
bool lmp_ns_wanted(const char *include, const char *exclude, const char *ns);
bool lmp_identity_wanted(const char *include, const char *exclude, const struct lmp_identity *id);

#endif /* LMP_NSFILTER_H */

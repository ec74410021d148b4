/* SPDX-License-Identifier: Apache-2.0 */
/* Comma lists in options ("a,b,c"), read in place. */
#ifndef LMP_LIST_H
#define LMP_LIST_H

#include <stdbool.h>

/* is name one of the list's items (exactly, case-sensitive)? */
bool lmp_list_has(const char *list, const char *name);
/* the same, where the list "all" names everything (--probes, --disable-hooks) */
bool lmp_list_selects(const char *list, const char *name);

#endif /* LMP_LIST_H */

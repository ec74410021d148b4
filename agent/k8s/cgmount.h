/* SPDX-License-Identifier: Apache-2.0 */
/* Where the cgroup v2 hierarchy is mounted, and the id of one of its directories. */
#ifndef LMP_CGMOUNT_H
#define LMP_CGMOUNT_H

#include <stddef.h>
#include <linux/types.h>

/*
 * From mountinfo text; a host hierarchy bind-mounted under /host beats the container's
 * namespaced one. -ENOENT when there is none.
 */
int lmp_cgroup_find_v2(const char *mounts, char *out, size_t len);

int lmp_cgroup_detect_v2(char *out, size_t len);

/* its inode number */
int lmp_cgroup_id_of(const char *dir, __u64 *id);

#endif /* LMP_CGMOUNT_H */

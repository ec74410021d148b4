/* SPDX-License-Identifier: Apache-2.0 */
/* Where the cgroup v2 hierarchy is mounted, and the id of one of its directories. */
#ifndef LMP_CGMOUNT_H
#define LMP_CGMOUNT_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Pure: pick the cgroup v2 mount from /proc/self/mountinfo or /proc/mounts text. A host
 * hierarchy bind-mounted into the agent's container (/host/sys/fs/cgroup[/unified]) beats
 * the container's own namespaced /sys/fs/cgroup; then /sys/fs/cgroup (pure v2), then
 * /sys/fs/cgroup/unified (hybrid), then any other. -ENOENT when there is none.
 */
int lmp_cgroup_find_v2(const char *mounts, char *out, size_t len);

/* lmp_cgroup_find_v2 on this process's /proc/self/mountinfo. */
int lmp_cgroup_detect_v2(char *out, size_t len);

/* The cgroup id of a v2 directory (its inode number). */
int lmp_cgroup_id_of(const char *dir, __u64 *id);

#endif /* LMP_CGMOUNT_H */

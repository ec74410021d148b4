/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup id -> path without a walk, uncached. -ENOENT: gone or outside the mount; any
 * other error: this way cannot tell, walk.
 */
#ifndef LMP_CGRESOLVE_H
#define LMP_CGRESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* on a cgroup2 mount, where kernfs handles mean something */
bool lmp_cgroup_handles_work(int root_fd);

/* root: root_fd's path ("" for "/"). -EPERM without CAP_DAC_READ_SEARCH */
int lmp_cgroup_by_handle(int root_fd, const char *root, __u64 id, char *buf, size_t len);

/* believed only if the directory's inode is id (the pid may have moved or died) */
int lmp_cgroup_by_pid(int root_fd, __u64 id, __u32 pid, char *buf, size_t len);

#endif /* LMP_CGRESOLVE_H */

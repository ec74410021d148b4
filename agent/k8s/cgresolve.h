/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup id -> path without a tree walk, uncached. Paths are relative to the v2 root ("/"
 * for the root itself). -ENOENT means gone or outside the mount; anything else means this
 * way cannot tell, and the caller walks.
 */
#ifndef LMP_CGRESOLVE_H
#define LMP_CGRESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* root_fd is on a cgroup2 mount, the only place kernfs file handles mean something. */
bool lmp_cgroup_handles_work(int root_fd);

/*
 * Open the cgroup's directory by kernfs file handle and read its path back: two syscalls.
 * root is root_fd's path ("" for "/"). -EPERM without CAP_DAC_READ_SEARCH.
 */
int lmp_cgroup_by_handle(int root_fd, const char *root, __u64 id, char *buf, size_t len);

/*
 * The v2 line of /proc/<pid>/cgroup, believed only if that directory's inode is id: a pid
 * of another namespace, a process that moved or died, a removed cgroup all fail the check.
 */
int lmp_cgroup_by_pid(int root_fd, __u64 id, __u32 pid, char *buf, size_t len);

#endif /* LMP_CGRESOLVE_H */

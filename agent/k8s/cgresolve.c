// SPDX-License-Identifier: Apache-2.0
/* Direct cgroup id -> path resolutions; see cgresolve.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "k8s/cgresolve.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define FILEID_KERNFS 0xfe /* include/linux/exportfs.h: kernfs node id as the handle */

bool lmp_cgroup_handles_work(int root_fd)
{
	struct statfs sfs;

	return fstatfs(root_fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int lmp_cgroup_by_handle(int root_fd, const char *root, __u64 id, char *buf, size_t len)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh = { .handle_bytes = sizeof(__u64), .handle_type = FILEID_KERNFS }, .id = id };
	size_t rootlen = strlen(root);
	char link[64], path[PATH_MAX];
	ssize_t n;
	int fd;

	fd = open_by_handle_at(root_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE ? -ENOENT : -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	/* removed between open and readlink: the link says so */
	if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
		return -ENOENT;
	/* outside the mounted subtree (a namespaced mount): no path we can name */
	if (strncmp(path, root, rootlen) || (path[rootlen] && path[rootlen] != '/'))
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", path[rootlen] ? path + rootlen : "/") >= len)
		return -ENAMETOOLONG;
	return 0;
}

int lmp_cgroup_by_pid(int root_fd, __u64 id, __u32 pid, char *buf, size_t len)
{
	char p[32], txt[8192], *l;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/cgroup", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, txt, sizeof(txt) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	txt[n] = '\0';
	for (l = txt; l && strncmp(l, "0::/", 4); l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		;
	if (!l)
		return -ENOENT;
	l += 3;
	l[strcspn(l, "\n")] = '\0';
	if (fstatat(root_fd, l[1] ? l + 1 : ".", &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != id)
		return -ENOENT;
	return (size_t)snprintf(buf, len, "%s", l) < len ? 0 : -ENAMETOOLONG;
}

// SPDX-License-Identifier: Apache-2.0
/* Tree walks and the inode index they build; see cgwalk.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "k8s/cgwalk.h"

#define LMP_CGWALK_MAX_DIRS 65536 /* bound on one walk (a node has a few thousand) */

static int walk_cmp(const void *a, const void *b)
{
	const struct lmp_cgwalk_ent *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static bool is_dir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int walk_add(struct lmp_cgwalk *w, __u64 ino, const char *parent, const char *name)
{
	size_t need = strlen(parent) + strlen(name) + 2;

	if (w->n == w->cap) {
		void *p = realloc(w->ents, sizeof(*w->ents) * (w->cap = w->cap ? 2 * w->cap : 256));

		if (!p)
			return -ENOMEM;
		w->ents = p;
	}
	if (w->used + need > w->ncap) {
		size_t nc = w->ncap ? w->ncap : 4096;
		void *p;

		while (w->used + need > nc)
			nc *= 2;
		p = realloc(w->names, nc);
		if (!p)
			return -ENOMEM;
		w->names = p;
		w->ncap = nc;
	}
	/* name "" is the directory parent itself (the top of a walk) */
	snprintf(w->names + w->used, need, "%s%s%s", parent, parent[1] && name[0] ? "/" : "", name);
	w->ents[w->n++] = (struct lmp_cgwalk_ent){ ino, (uint32_t)w->used };
	w->used += need;
	return 0;
}

/* The list itself is the queue; d_ino is the cgroup id, so no stat per directory. */
int lmp_cgwalk_tree(int root_fd, struct lmp_cgwalk *w)
{
	struct stat st;
	int r;

	*w = (struct lmp_cgwalk){ 0 };
	if (fstat(root_fd, &st) < 0)
		return -errno;
	r = lmp_cgwalk_from(root_fd, w, st.st_ino, "/", LMP_CGWALK_MAX_DEPTH);
	if (r == 0)
		lmp_cgwalk_sort(w);
	return r;
}

int lmp_cgwalk_from(int root_fd, struct lmp_cgwalk *w, __u64 ino, const char *top, int depth_max)
{
	size_t first = w->n;
	int r, top_depth = 0;

	for (const char *p = top; p[1] && *p; p++)
		top_depth += *p == '/';
	r = walk_add(w, ino, top, ""); /* the top itself */
	for (size_t i = first; r == 0 && i < w->n; i++) {
		char rel[PATH_MAX];
		struct dirent *de;
		int fd, depth = 0;
		DIR *d;

		snprintf(rel, sizeof(rel), "%s", w->names + w->ents[i].off);
		for (const char *p = rel; *p; p++)
			depth += *p == '/';
		if (depth - top_depth > depth_max)
			continue;
		fd = openat(root_fd, rel[1] ? rel + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) { /* removed while walking */
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (r == 0 && (de = readdir(d)) && w->n < LMP_CGWALK_MAX_DIRS)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && is_dir(fd, de))
				r = walk_add(w, de->d_ino, rel, de->d_name);
		closedir(d);
	}
	if (r)
		lmp_cgwalk_free(w);
	return r;
}

const struct lmp_cgwalk_ent *lmp_cgwalk_find(const struct lmp_cgwalk *w, __u64 id)
{
	struct lmp_cgwalk_ent key = { .ino = id };

	return w->n ? bsearch(&key, w->ents, w->n, sizeof(key), walk_cmp) : NULL;
}

int lmp_cgwalk_merge(struct lmp_cgwalk *w, const struct lmp_cgwalk *d)
{
	size_t n = w->n + d->n, used = w->used + d->used;
	struct lmp_cgwalk_ent *ents;
	char *names;

	if (used > UINT32_MAX)
		return -E2BIG;
	ents = realloc(w->ents, n * sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	w->ents = ents;
	names = realloc(w->names, used);
	if (!names)
		return -ENOMEM;
	w->names = names;
	memcpy(w->names + w->used, d->names, d->used);
	for (size_t i = 0; i < d->n; i++)
		w->ents[w->n + i] = (struct lmp_cgwalk_ent){ d->ents[i].ino,
							     (uint32_t)(d->ents[i].off + w->used) };
	w->n = n;
	w->cap = n;
	w->used = w->ncap = used;
	lmp_cgwalk_sort(w);
	return 0;
}

int lmp_cgwalk_path(const struct lmp_cgwalk *w, __u64 id, char *buf, size_t len)
{
	const struct lmp_cgwalk_ent *e = lmp_cgwalk_find(w, id);

	if (!e)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", w->names + e->off) >= len)
		return -ENAMETOOLONG;
	return 0;
}

void lmp_cgwalk_sort(struct lmp_cgwalk *w)
{
	qsort(w->ents, w->n, sizeof(*w->ents), walk_cmp);
}

void lmp_cgwalk_free(struct lmp_cgwalk *w)
{
	free(w->ents);
	free(w->names);
	*w = (struct lmp_cgwalk){ 0 };
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded breadth-first walks of the cgroup v2 tree into an inode-sorted index (inode =
 * cgroup id), for where file handles are refused. They read nothing but root_fd and the
 * index they fill, so the walker thread runs them too. Paths are relative to the root.
 */
#ifndef LMP_CGWALK_H
#define LMP_CGWALK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>

struct lmp_cgwalk_ent {
	__u64 ino;
	uint32_t off; /* into names */
};

struct lmp_cgwalk {
	struct lmp_cgwalk_ent *ents;
	size_t n, cap;
	char *names;
	size_t used, ncap;
};

#define LMP_CGWALK_MAX_DEPTH 32
#define LMP_CGWALK_MIN_INTERVAL_MS 1000 /* at most one walk of the whole tree a second */

/* The clock of every walk's rate limit and deadline. */
static inline uint64_t lmp_cgwalk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* The whole tree into *w (overwritten), sorted. On failure *w is empty. */
int lmp_cgwalk_tree(int root_fd, struct lmp_cgwalk *w);
/*
 * Append the directory top (inode ino) and what lies at most depth_max levels below it,
 * unsorted. On failure *w is freed and emptied.
 */
int lmp_cgwalk_from(int root_fd, struct lmp_cgwalk *w, __u64 ino, const char *top, int depth_max);
void lmp_cgwalk_sort(struct lmp_cgwalk *w);
/* Sorted index only. */
const struct lmp_cgwalk_ent *lmp_cgwalk_find(const struct lmp_cgwalk *w, __u64 id);
/* id's path into buf: -ENOENT when the index lacks it, -ENAMETOOLONG. */
int lmp_cgwalk_path(const struct lmp_cgwalk *w, __u64 id, char *buf, size_t len);
/*
 * Add d's entries to the sorted index w. Entries of cgroups removed since stay until w is
 * replaced: ids are never reused, so they only name what those cgroups were. On error w is
 * as it was.
 */
int lmp_cgwalk_merge(struct lmp_cgwalk *w, const struct lmp_cgwalk *d);
void lmp_cgwalk_free(struct lmp_cgwalk *w);

#endif /* LMP_CGWALK_H */

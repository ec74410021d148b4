/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded walks of the cgroup v2 tree into an index by inode (= cgroup id), where file
 * handles are refused. They touch only root_fd and the index, so the walker thread can
 * run them.
 */
#ifndef LMP_CGWALK_H
#define LMP_CGWALK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/types.h>

struct lmp_cgwalk_ent {
	__u64 ino;
	uint32_t off;
};

struct lmp_cgwalk {
	struct lmp_cgwalk_ent *ents;
	size_t n, cap;
	char *names;
	size_t used, ncap;
};

#define LMP_CGWALK_MAX_DEPTH 32
#define LMP_CGWALK_MIN_INTERVAL_MS 1000 /* between whole-tree walks */

static inline uint64_t lmp_cgwalk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* sorted; on failure *w is empty */
int lmp_cgwalk_tree(int root_fd, struct lmp_cgwalk *w);
/* appends top and depth_max levels below it, unsorted; on failure *w is emptied */
int lmp_cgwalk_from(int root_fd, struct lmp_cgwalk *w, __u64 ino, const char *top, int depth_max);
void lmp_cgwalk_sort(struct lmp_cgwalk *w);
/* sorted index only */
const struct lmp_cgwalk_ent *lmp_cgwalk_find(const struct lmp_cgwalk *w, __u64 id);
/* -ENOENT, -ENAMETOOLONG */
int lmp_cgwalk_path(const struct lmp_cgwalk *w, __u64 id, char *buf, size_t len);
/* removed cgroups stay until w is replaced (ids are never reused); on error w is unchanged */
int lmp_cgwalk_merge(struct lmp_cgwalk *w, const struct lmp_cgwalk *d);
void lmp_cgwalk_free(struct lmp_cgwalk *w);

#endif /* LMP_CGWALK_H */

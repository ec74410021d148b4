// SPDX-License-Identifier: Apache-2.0
/* Helpers shared by the block I/O probes (agent/probes/lib/blkio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lmp/event.h"
#include "k8s/cgroup.h"
#include "expose/out.h"
#include "probes/lib/blkio.h"
#include "base/array.h"

int lmp_blkio_read_devname(const char *sysfs, __u32 dev, char *name, size_t len)
{
	char path[256], buf[1024];
	const char *p, *end;
	ssize_t n;
	size_t l;
	int fd;

	if (!len)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/uevent", sysfs, LMP_BLKIO_MAJOR(dev),
		 LMP_BLKIO_MINOR(dev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "DEVNAME=", 8) != 0)
			continue;
		p += 8;
		end = strchr(p, '\n');
		l = end ? (size_t)(end - p) : strlen(p);
		if (!l)
			return -ENOENT;
		if (l >= len)
			return -ENAMETOOLONG;
		memcpy(name, p, l);
		name[l] = 0;
		return 0;
	}
	return -ENOENT;
}

bool lmp_blkio_controllers_have_io(const char *controllers)
{
	for (const char *p = controllers; (p = strstr(p, "io")); p += 2)
		if ((p == controllers || p[-1] == ' ') && (p[2] == ' ' || p[2] == '\n' || !p[2]))
			return true;
	return false;
}

/* whole file, NUL-terminated, at most max bytes; NULL on failure */
static char *slurp(const char *path, size_t max)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (len + 1 == cap) {
			if (cap >= max)
				goto fail;
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = 0;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

bool lmp_blkio_io_on_v2(const char *cgroup_root)
{
	char root[512], path[600], *text;
	bool io;

	if (cgroup_root && *cgroup_root) {
		snprintf(root, sizeof(root), "%s", cgroup_root);
	} else {
		/* a node with many pods has hundreds of mounts: read the whole table */
		text = slurp("/proc/self/mountinfo", 16 << 20);
		if (!text)
			return true;
		if (lmp_cgroup_find_v2(text, root, sizeof(root)) < 0) {
			free(text);
			return true;
		}
		free(text);
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	text = slurp(path, 1 << 16);
	if (!text)
		return true;
	io = lmp_blkio_controllers_have_io(text);
	free(text);
	return io;
}

#define NAME_CACHE 64
#define NAME_TTL_S 60

static struct {
	__u32 dev;
	time_t at; /* CLOCK_MONOTONIC seconds; 0 = empty slot */
	char name[LMP_BLKIO_DISK_LEN];
} name_cache[NAME_CACHE];
static unsigned name_next; /* round-robin victim when the cache is full */

const char *lmp_blkio_disk_name(__u32 dev)
{
	static char fallback[24];
	struct timespec ts;
	size_t slot = NAME_CACHE;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 1; /* keep 0 free as "empty" */
	for (size_t i = 0; i < NAME_CACHE; i++) {
		if (name_cache[i].at && name_cache[i].dev == dev) {
			if (ts.tv_sec - name_cache[i].at < NAME_TTL_S)
				return name_cache[i].name;
			slot = i; /* stale: re-read into the same slot */
			break;
		}
		if (!name_cache[i].at && slot == NAME_CACHE)
			slot = i;
	}
	if (slot == NAME_CACHE)
		slot = name_next++ % NAME_CACHE;
	if (lmp_blkio_read_devname("/sys", dev, name_cache[slot].name,
				   sizeof(name_cache[slot].name)) == 0) {
		name_cache[slot].dev = dev;
		name_cache[slot].at = ts.tv_sec;
		return name_cache[slot].name;
	}
	/* gone or never named: the numbers still identify it; not cached, it may appear */
	name_cache[slot].at = 0;
	snprintf(fallback, sizeof(fallback), "%u:%u", LMP_BLKIO_MAJOR(dev), LMP_BLKIO_MINOR(dev));
	return fallback;
}

const char *lmp_blkio_op_name(__u32 flags)
{
	switch (flags & LMP_BLKIO_OP_MASK) {
	case LMP_BLKIO_OP_READ:
		return "read";
	case LMP_BLKIO_OP_WRITE:
		return "write";
	case LMP_BLKIO_OP_FLUSH:
		return "flush";
	case LMP_BLKIO_OP_DISCARD:
		return "discard";
	case LMP_BLKIO_OP_SECURE_ERASE:
		return "secure_erase";
	case LMP_BLKIO_OP_WRITE_ZEROES:
		return "write_zeroes";
	default:
		return "other";
	}
}

void lmp_blkio_rwbs(__u32 flags, char buf[8])
{
	int i = 0;

	if (flags & LMP_BLKIO_F_PREFLUSH)
		buf[i++] = 'F';
	switch (flags & LMP_BLKIO_OP_MASK) {
	case LMP_BLKIO_OP_WRITE:
		buf[i++] = 'W';
		break;
	case LMP_BLKIO_OP_DISCARD:
		buf[i++] = 'D';
		break;
	case LMP_BLKIO_OP_SECURE_ERASE:
		buf[i++] = 'D';
		buf[i++] = 'E';
		break;
	case LMP_BLKIO_OP_FLUSH:
		buf[i++] = 'F';
		break;
	case LMP_BLKIO_OP_READ:
		buf[i++] = 'R';
		break;
	default:
		buf[i++] = 'N';
	}
	if (flags & LMP_BLKIO_F_FUA)
		buf[i++] = 'F';
	if (flags & LMP_BLKIO_F_RAHEAD)
		buf[i++] = 'A';
	if (flags & LMP_BLKIO_F_SYNC)
		buf[i++] = 'S';
	if (flags & LMP_BLKIO_F_META)
		buf[i++] = 'M';
	buf[i] = 0;
}

const char *lmp_blkio_status_name(__u32 status)
{
	/* blk_status_t values stable since 4.18 (include/linux/blk_types.h), as the kernel maps
	 * them to errno in blk_status_to_errno() */
	static const char *const names[] = {
		[1] = "EOPNOTSUPP", [2] = "ETIMEDOUT", [3] = "ENOSPC",	 [4] = "ENOLINK",
		[5] = "EREMOTEIO",  [6] = "EBADE",     [7] = "ENODATA",	 [8] = "EILSEQ",
		[9] = "ENOMEM",	    [10] = "EIO",      [11] = "EREMCHG", [12] = "EAGAIN",
		[13] = "EBUSY",
	};
	static char other[32];

	if (!status)
		return NULL;
	if (status < sizeof(names) / sizeof(names[0]))
		return names[status];
	snprintf(other, sizeof(other), "BLK_STS_%u", status);
	return other;
}

void lmp_blkio_rows_init(struct lmp_blkio_rows *r, size_t vsize)
{
	memset(r, 0, sizeof(*r));
	r->vsize = vsize;
}

static size_t row_hash(__u64 cg, __u32 dev, size_t cap)
{
	__u64 h = (cg ^ ((__u64)dev << 32 | dev)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (cap - 1);
}

static int rows_reindex(struct lmp_blkio_rows *r, size_t cap)
{
	size_t *idx = malloc(cap * sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	memset(idx, 0xff, cap * sizeof(*idx));
	for (size_t i = 0; i < r->n; i++) {
		size_t s = row_hash(r->rows[i].cgroup_id, r->rows[i].dev, cap);

		while (idx[s] != (size_t)-1)
			s = (s + 1) & (cap - 1);
		idx[s] = i;
	}
	free(r->index);
	r->index = idx;
	r->index_cap = cap;
	return 0;
}

void *lmp_blkio_rows_get(struct lmp_blkio_rows *r, __u64 cgroup_id, __u32 dev)
{
	struct lmp_blkio_row *row;
	size_t s;

	if (r->index_cap) {
		for (s = row_hash(cgroup_id, dev, r->index_cap); r->index[s] != (size_t)-1;
		     s = (s + 1) & (r->index_cap - 1)) {
			row = &r->rows[r->index[s]];
			if (row->cgroup_id == cgroup_id && row->dev == dev)
				return row->val;
		}
	}
	if (!lmp_array_reserve(&r->rows, &r->cap, r->n + 1, sizeof(*r->rows), 64))
		goto oom;
	if ((r->n + 1) * 2 > r->index_cap && rows_reindex(r, r->index_cap ? r->index_cap * 2 : 128))
		goto oom;
	row = &r->rows[r->n];
	row->val = calloc(1, r->vsize);
	if (!row->val)
		goto oom;
	row->cgroup_id = cgroup_id;
	row->dev = dev;
	row->weight = 0;
	for (s = row_hash(cgroup_id, dev, r->index_cap); r->index[s] != (size_t)-1;
	     s = (s + 1) & (r->index_cap - 1))
		;
	r->index[s] = r->n++;
	return row->val;
oom:
	r->oom = true;
	return NULL;
}

static int row_cmp(const void *a, const void *b)
{
	const struct lmp_blkio_row *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

void lmp_blkio_rows_sort(struct lmp_blkio_rows *r)
{
	if (r->n > 1)
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
	/* positions moved: the index would point at the wrong rows */
	free(r->index);
	r->index = NULL;
	r->index_cap = 0;
}

void lmp_blkio_rows_free(struct lmp_blkio_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].val);
	free(r->rows);
	free(r->index);
	lmp_blkio_rows_init(r, r->vsize);
}

// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "probe/bpfmap.h"
#include "base/array.h"
#include "probes/lib/map_rows.h"

struct drain_ctx {
	struct lmp_map_rows *r;
	size_t head_size, key_size, value_size;
};

static void collect(void *ctx_, const void *key, const void *value)
{
	struct drain_ctx *ctx = ctx_;
	struct lmp_map_rows *r = ctx->r;
	size_t stride = ctx->head_size + ctx->key_size + ctx->value_size;
	unsigned char *row;

	if (!lmp_array_reserve(&r->rows, &r->cap, r->n + 1, stride, 256)) {
		r->oom = true;
		return;
	}
	row = r->rows + r->n * stride;
	memset(row, 0, ctx->head_size);
	memcpy(row + ctx->head_size, key, ctx->key_size);
	memcpy(row + ctx->head_size + ctx->key_size, value, ctx->value_size);
	r->n++;
}

static int drain(struct lmp_map_rows *r, int fd, bool percpu, size_t head_size, size_t key_size,
		 size_t value_size)
{
	struct drain_ctx ctx = { r, head_size, key_size, value_size };

	r->n = 0;
	r->oom = false;
	if (head_size % 8 || key_size % 8 || value_size % 8)
		return -EINVAL;
	return lmp_map_drain(fd, key_size, value_size, percpu, collect, &ctx);
}

int lmp_map_rows_drain(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
		       size_t value_size)
{
	return drain(r, fd, true, head_size, key_size, value_size);
}

int lmp_map_rows_drain_shared(struct lmp_map_rows *r, int fd, size_t head_size, size_t key_size,
			      size_t value_size)
{
	return drain(r, fd, false, head_size, key_size, value_size);
}

int lmp_map_rows_read(struct lmp_map_rows *r, int fd, size_t key_size, size_t value_size)
{
	struct drain_ctx ctx = { r, 0, key_size, value_size };
	const __u32 batch = 1024; /* entries per syscall */
	unsigned char *keys, *vals;
	__u64 out_batch = 0;
	void *in = NULL;
	int err;

	r->n = 0;
	r->oom = false;
	if (key_size % 8 || value_size % 8)
		return -EINVAL;
	keys = malloc(batch * key_size);
	vals = malloc(batch * value_size);
	for (err = keys && vals ? 0 : -ENOMEM; err == 0; in = &out_batch) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = batch;
		int e = bpf_map_lookup_batch(fd, in, &out_batch, keys, vals, &count, &opts);

		if (e < 0 && errno != ENOENT) {
			err = -errno;
			if (r->n == 0 && (errno == EINVAL || errno == ENOTSUP)) /* one by one */
				err = lmp_map_walk(fd, key_size, value_size, false, collect, &ctx);
			break;
		}
		for (__u32 i = 0; i < count; i++)
			collect(&ctx, keys + i * key_size, vals + i * value_size);
		if (e < 0) /* ENOENT: that was the last batch */
			break;
	}
	free(keys);
	free(vals);
	return err < 0 ? err : r->oom ? -ENOMEM : 0;
}

void lmp_map_rows_release(struct lmp_map_rows *r)
{
	free(r->rows);
	r->rows = NULL;
	r->n = r->cap = 0;
}

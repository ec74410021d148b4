// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe/bpfmap.h"

#define BATCH 256

/* sum per-CPU copies (each value_size bytes, 8-byte aligned) into out as __u64 words */
static void sum_percpu(const void *vals, size_t value_size, int ncpu, void *out)
{
	size_t stride = (value_size + 7) & ~(size_t)7, words = value_size / 8;
	__u64 *o = out;

	memset(out, 0, value_size);
	for (int c = 0; c < ncpu; c++) {
		const __u64 *v = (const __u64 *)((const char *)vals + c * stride);

		for (size_t w = 0; w < words; w++)
			o[w] += v[w];
	}
}

static int walk(int fd, size_t ks, size_t vs, bool percpu, bool del, lmp_map_entry_fn fn, void *ctx)
{
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	size_t stride = percpu ? ((vs + 7) & ~(size_t)7) * ncpu : vs;
	char *keys = NULL, *vals = NULL, *sum = NULL, *key = NULL, *next = NULL;
	int n = 0, err = 0;
	__u32 count;
	bool batch_ok = del;
	void *in = NULL;
	char out_batch[8];

	if (ncpu <= 0)
		return ncpu;
	keys = malloc(ks * BATCH);
	vals = malloc(stride * BATCH);
	sum = malloc(vs);
	key = malloc(ks);
	next = malloc(ks);
	if (!keys || !vals || !sum || !key || !next) {
		err = -ENOMEM;
		goto out;
	}
	/* batched read-and-delete: atomic per bucket, one syscall per BATCH entries */
	while (batch_ok) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = BATCH;
		err = bpf_map_lookup_and_delete_batch(fd, in, out_batch, keys, vals, &count, &opts);
		if (err < 0 && errno != ENOENT) {
			if (n == 0 &&
			    (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP)) {
				err = 0; /* map type without batch ops: fall back below */
				break;
			}
			err = -errno;
			goto out;
		}
		for (__u32 i = 0; i < count; i++, n++) {
			const char *v = vals + i * stride;

			if (percpu) {
				sum_percpu(v, vs, ncpu, sum);
				v = sum;
			}
			fn(ctx, keys + i * ks, v);
		}
		if (err < 0) { /* ENOENT: that was the last batch */
			err = 0;
			goto out;
		}
		in = out_batch;
	}
	/* one by one; deleting the key just read keeps get_next_key's position valid */
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, next) == 0;) {
		memcpy(key, next, ks);
		if (bpf_map_lookup_elem(fd, key, vals) == 0) {
			if (percpu)
				sum_percpu(vals, vs, ncpu, sum);
			fn(ctx, key, percpu ? sum : vals);
			n++;
		}
		if (del && bpf_map_delete_elem(fd, key) == 0)
			prev = NULL; /* restart: the deleted key can no longer anchor the walk */
		else
			prev = key;
	}
out:
	free(keys);
	free(vals);
	free(sum);
	free(key);
	free(next);
	return err < 0 ? err : n;
}

int lmp_map_drain(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		  void *ctx)
{
	return walk(fd, key_size, value_size, percpu, true, fn, ctx);
}

int lmp_map_walk(int fd, size_t key_size, size_t value_size, bool percpu, lmp_map_entry_fn fn,
		 void *ctx)
{
	return walk(fd, key_size, value_size, percpu, false, fn, ctx);
}

void lmp_hist_merge(struct lmp_hist *dst, const struct lmp_hist *src)
{
	for (int i = 0; i < LMP_HIST_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	dst->sum += src->sum;
	dst->count += src->count;
}

double lmp_hist_quantile(const struct lmp_hist *h, double q)
{
	__u64 total = 0, seen = 0;

	for (int i = 0; i < LMP_HIST_SLOTS; i++)
		total += h->slots[i];
	if (!total)
		return 0;
	for (int i = 0; i < LMP_HIST_SLOTS; i++) {
		double lo = i ? (double)(1ULL << i) : 0, hi = (double)(1ULL << (i + 1));
		double rank = q * total;

		if (seen + h->slots[i] >= rank && h->slots[i]) {
			/* linear inside the slot, as Prometheus' histogram_quantile does */
			return lo + (hi - lo) * ((rank - seen) / h->slots[i]);
		}
		seen += h->slots[i];
	}
	return (double)(1ULL << LMP_HIST_SLOTS);
}

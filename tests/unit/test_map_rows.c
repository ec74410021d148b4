// SPDX-License-Identifier: Apache-2.0
/* lmp_map_rows_read (agent/probes/lib/map_rows.c) on a real BPF hash map: rows over more
 * than one batch, each entry once with its value, and nothing deleted. Needs root. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "probes/lib/map_rows.h"

struct key {
	__u64 addr, pid;
};
struct val {
	__u64 size, ts, cgroup, a, b;
};
struct row {
	struct key k;
	struct val v;
};

#define N 2500 /* more than the 1024 entries of one batch */

static int make_map(unsigned n)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "rows_test", sizeof(struct key),
				sizeof(struct val), 4096, NULL);

	assert_true(fd >= 0);
	for (unsigned i = 1; i <= n; i++) {
		struct key k = { i, 7 };
		struct val v = { 3 * i, i, 42, 0, 0 };

		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST), 0);
	}
	return fd;
}

static void test_read_all_keeps_entries(void **state)
{
	struct lmp_map_rows r = { 0 };
	unsigned char *seen = calloc(N + 1, 1);
	int fd = make_map(N);
	struct key k = { N, 7 };
	struct val v;

	assert_non_null(seen);
	assert_int_equal(lmp_map_rows_read(&r, fd, sizeof(struct key), sizeof(struct val)), 0);
	assert_int_equal(r.n, N);
	assert_false(r.oom);
	for (size_t i = 0; i < r.n; i++) {
		const struct row *w = (const struct row *)r.rows + i;

		assert_true(w->k.addr >= 1 && w->k.addr <= N);
		assert_int_equal(w->k.pid, 7);
		assert_int_equal(w->v.size, 3 * w->k.addr);
		assert_int_equal(w->v.cgroup, 42);
		assert_int_equal(seen[w->k.addr]++, 0);
	}
	/* read, not drained */
	assert_int_equal(bpf_map_lookup_elem(fd, &k, &v), 0);
	assert_int_equal(v.size, 3 * N);
	/* a second read replaces the rows */
	assert_int_equal(lmp_map_rows_read(&r, fd, sizeof(struct key), sizeof(struct val)), 0);
	assert_int_equal(r.n, N);
	lmp_map_rows_release(&r);
	free(seen);
	close(fd);
}

static void test_empty_and_bad_sizes(void **state)
{
	struct lmp_map_rows r = { 0 };
	int fd = make_map(0);

	assert_int_equal(lmp_map_rows_read(&r, fd, sizeof(struct key), sizeof(struct val)), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(lmp_map_rows_read(&r, fd, 12, sizeof(struct val)), -EINVAL);
	lmp_map_rows_release(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_all_keeps_entries),
		cmocka_unit_test(test_empty_and_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

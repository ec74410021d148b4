// SPDX-License-Identifier: Apache-2.0
/*
 * agent/sym/ksyms.c: kallsyms samples written by the test (unsorted, modules, data symbols,
 * aliases, malformed lines, hidden addresses, names sharing tails, a span over 4 GB) and the
 * real /proc/kallsyms of this host.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sym/ksyms.h"

static char *write_sample(const char *text)
{
	char *path = strdup("/tmp/lmp-test-kallsyms.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static struct lmp_ksyms *load_sample(const char *text)
{
	struct lmp_ksyms *ks = NULL;
	char *path = write_sample(text);

	assert_int_equal(lmp_ksyms_load(path, &ks), 0);
	unlink(path);
	free(path);
	return ks;
}

static const char sample[] = "ffffffff81000200 T vfs_read\n"
			     "ffffffff81000100 t do_thing\n"
			     "ffffffff81000180 D some_data\n" /* data: must not split do_thing */
			     "ffffffff81000000 T _stext\n"
			     "ffffffff81000300 W weak_fn\n"
			     "ffffffff81000200 T vfs_read_alias\n"
			     "garbage line without fields\n"
			     "zzzz T not_hex\n"
			     "ffffffffc0001000 t ext4_fill_super\t[ext4]\n"
			     "ffffffffc0001400 T ext4_read\t[ext4]\n"
			     "ffffffffc0002000 t loop_queue_rq\t[loop]\n";

static void test_ksyms_sorted_and_filtered(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);

	/* 8 text symbols; the data symbol and the two malformed lines are dropped */
	assert_int_equal(lmp_ksyms_count(ks), 8);
	assert_null(lmp_ksyms_find(ks, "some_data"));
	assert_null(lmp_ksyms_find(ks, "not_hex"));
	lmp_ksyms_free(ks);
}

static void test_ksyms_resolve_inside_function(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);
	const struct lmp_ksym *s;
	__u64 off = 0;

	s = lmp_ksyms_resolve(ks, 0xffffffff81000190ULL, &off);
	assert_non_null(s);
	assert_string_equal(s->name, "do_thing");
	assert_int_equal(off, 0x90);
	assert_null(s->module);

	s = lmp_ksyms_resolve(ks, 0xffffffff81000100ULL, &off); /* exact start */
	assert_string_equal(s->name, "do_thing");
	assert_int_equal(off, 0);

	s = lmp_ksyms_resolve(ks, 0xffffffff810002ffULL, &off); /* last byte before weak_fn */
	assert_int_equal(off, 0xff);
	assert_true(strcmp(s->name, "vfs_read") == 0 || strcmp(s->name, "vfs_read_alias") == 0);

	s = lmp_ksyms_resolve(ks, 0xffffffff81000305ULL, &off);
	assert_string_equal(s->name, "weak_fn");
	lmp_ksyms_free(ks);
}

static void test_ksyms_resolve_modules(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);
	const struct lmp_ksym *s;
	__u64 off;

	s = lmp_ksyms_resolve(ks, 0xffffffffc0001404ULL, &off);
	assert_string_equal(s->name, "ext4_read");
	assert_string_equal(s->module, "ext4");
	assert_int_equal(off, 4);
	s = lmp_ksyms_resolve(ks, 0xffffffffc0002010ULL, &off);
	assert_string_equal(s->name, "loop_queue_rq");
	assert_string_equal(s->module, "loop");
	lmp_ksyms_free(ks);
}

static void test_ksyms_resolve_below_first_is_null(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);
	__u64 off = 77;

	assert_null(lmp_ksyms_resolve(ks, 0xffffffff80ffffffULL, &off));
	assert_null(lmp_ksyms_resolve(ks, 0, &off));
	assert_int_equal(off, 77); /* untouched */
	assert_null(lmp_ksyms_resolve(NULL, 0xffffffff81000100ULL, &off));
	lmp_ksyms_free(ks);
}

static void test_ksyms_aliases_resolve_to_one_name(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);
	const struct lmp_ksym *a, *b;

	a = lmp_ksyms_resolve(ks, 0xffffffff81000200ULL, NULL);
	b = lmp_ksyms_resolve(ks, 0xffffffff81000250ULL, NULL);
	assert_ptr_equal(a, b); /* the same alias every time, not one per query */
	lmp_ksyms_free(ks);
}

static void test_ksyms_format(void **state)
{
	struct lmp_ksyms *ks = load_sample(sample);
	char buf[128];

	lmp_ksyms_format(ks, 0xffffffff81000123ULL, buf, sizeof(buf));
	assert_string_equal(buf, "do_thing+0x23");
	lmp_ksyms_format(ks, 0xffffffffc0001001ULL, buf, sizeof(buf));
	assert_string_equal(buf, "ext4_fill_super+0x1 [ext4]");
	lmp_ksyms_format(ks, 0x1234, buf, sizeof(buf));
	assert_string_equal(buf, "0x1234");
	lmp_ksyms_format(ks, 0xffffffff81000123ULL, buf, 5); /* truncated, terminated */
	assert_string_equal(buf, "do_t");
	lmp_ksyms_free(ks);
}

static void test_ksyms_hidden_addresses_eperm(void **state)
{
	char *path = write_sample("0000000000000000 T vfs_read\n0000000000000000 t foo\n");
	struct lmp_ksyms *ks = (void *)1;

	assert_int_equal(lmp_ksyms_load(path, &ks), -EPERM);
	assert_null(ks);
	unlink(path);
	free(path);
}

static void test_ksyms_empty_and_missing(void **state)
{
	char *path = write_sample("ffffffff81000180 D only_data\n");
	struct lmp_ksyms *ks;

	assert_int_equal(lmp_ksyms_load(path, &ks), -ENODATA);
	unlink(path);
	free(path);
	assert_int_equal(lmp_ksyms_load("/nonexistent/kallsyms", &ks), -ENOENT);
	assert_null(ks);
	lmp_ksyms_free(NULL);
}

/* 6.2+ kernels list "__pfx_f" right before "f": the name shares the tail, aliases keep order */
static void test_ksyms_shared_name_tails(void **state)
{
	struct lmp_ksyms *ks = load_sample("ffffffff81000000 t __pfx_vfs_read\n"
					   "ffffffff81000010 T vfs_read\n"
					   "ffffffff81000020 t __pfx_read\n"
					   "ffffffff81000030 T ad\n"   /* tails of one name, */
					   "ffffffff81000030 T read\n" /* not in tail order */
					   "ffffffff81000040 T d\n");
	const struct lmp_ksym *s;
	__u64 off;

	assert_int_equal(lmp_ksyms_count(ks), 6);
	s = lmp_ksyms_resolve(ks, 0xffffffff81000004ULL, &off);
	assert_string_equal(s->name, "__pfx_vfs_read");
	s = lmp_ksyms_resolve(ks, 0xffffffff81000014ULL, &off);
	assert_string_equal(s->name, "vfs_read");
	assert_int_equal(off, 4);
	s = lmp_ksyms_resolve(ks, 0xffffffff81000031ULL, &off);
	assert_string_equal(s->name, "ad"); /* listed first of the two aliases */
	s = lmp_ksyms_resolve(ks, 0xffffffff81000041ULL, &off);
	assert_string_equal(s->name, "d");
	assert_non_null(lmp_ksyms_find(ks, "read"));
	assert_int_equal(lmp_ksyms_find(ks, "read")->addr, 0xffffffff81000030ULL);
	lmp_ksyms_free(ks);
}

/* addresses more than 4 GB apart (arm64 modules, BPF programs in vmalloc space) */
static void test_ksyms_wide_address_span(void **state)
{
	struct lmp_ksyms *ks = load_sample("ffff800080000000 T core_fn\n"
					   "ffff800080001000 T core_fn2\n"
					   "ffff800580000000 t far_fn\t[far]\n"
					   "ffff800580000000 t far_alias\t[far]\n"
					   "ffffffffc0000000 t mod_fn\t[mod]\n");
	const struct lmp_ksym *s;
	__u64 off;

	s = lmp_ksyms_resolve(ks, 0xffff800080001010ULL, &off);
	assert_string_equal(s->name, "core_fn2");
	assert_int_equal(off, 0x10);
	/* 16 GB past core_fn2, still below far_fn: core_fn2 with its (large) offset */
	s = lmp_ksyms_resolve(ks, 0xffff800480001010ULL, &off);
	assert_string_equal(s->name, "core_fn2");
	assert_true(off == 0x400000010ULL);
	s = lmp_ksyms_resolve(ks, 0xffff800580000008ULL, &off);
	assert_string_equal(s->name, "far_fn");
	assert_string_equal(s->module, "far");
	assert_int_equal(off, 8);
	assert_true(s->addr == 0xffff800580000000ULL);
	s = lmp_ksyms_resolve(ks, 0xffffffffc0000002ULL, &off);
	assert_string_equal(s->name, "mod_fn");
	assert_string_equal(s->module, "mod");
	s = lmp_ksyms_resolve(ks, 0xffffffffffffffffULL, &off);
	assert_string_equal(s->name, "mod_fn");
	assert_int_equal(off, 0x3fffffff);
	lmp_ksyms_free(ks);
}

/* symbols are built on demand: earlier answers must survive many later ones */
static void test_ksyms_results_stay_valid(void **state)
{
	enum { N = 3000 };
	const struct lmp_ksym **first = calloc(N, sizeof(*first));
	size_t cap = N * 48, used = 0;
	char *text = malloc(cap), *path, want[32];
	struct lmp_ksyms *ks = NULL;

	assert_non_null(first);
	assert_non_null(text);
	for (int i = 0; i < N; i++)
		used += snprintf(text + used, cap - used, "%016llx t fn_%d%s\n",
				 0xffffffff81000000ULL + (unsigned long long)i * 64, i,
				 i % 3 ? "" : "\t[m]");
	path = write_sample(text);
	free(text);
	assert_int_equal(lmp_ksyms_load(path, &ks), 0);
	unlink(path);
	free(path);
	for (int i = 0; i < N; i++)
		first[i] = lmp_ksyms_resolve(ks, 0xffffffff81000000ULL + i * 64 + 7, NULL);
	for (int i = N - 1; i >= 0; i--) {
		snprintf(want, sizeof(want), "fn_%d", i);
		assert_ptr_equal(lmp_ksyms_resolve(ks, 0xffffffff81000000ULL + i * 64, NULL),
				 first[i]);
		assert_string_equal(first[i]->name, want);
		assert_true(first[i]->addr == 0xffffffff81000000ULL + i * 64);
		if (i % 3)
			assert_null(first[i]->module);
		else
			assert_string_equal(first[i]->module, "m");
	}
	free(first);
	lmp_ksyms_free(ks);
}

/* the real table: find a function by name, resolve an address inside it back to that name */
static void test_ksyms_default_real_kallsyms(void **state)
{
	const struct lmp_ksyms *ks, *again;
	const struct lmp_ksym *s, *r;
	int err = lmp_ksyms_default(&ks);
	__u64 off;

	if (geteuid() != 0) {
		/* kptr_restrict shows zeros to unprivileged readers: that must be reported */
		assert_int_equal(err, -EPERM);
		return;
	}
	assert_int_equal(err, 0);
	assert_true(lmp_ksyms_count(ks) > 1000);
	s = lmp_ksyms_find(ks, "vfs_read");
	assert_non_null(s);
	r = lmp_ksyms_resolve(ks, s->addr + 3, &off);
	assert_non_null(r);
	assert_int_equal(r->addr, s->addr);
	assert_int_equal(off, 3);
	s = lmp_ksyms_find(ks, "submit_bio");
	assert_non_null(s);
	assert_int_equal(lmp_ksyms_default(&again), 0);
	assert_ptr_equal(again, ks); /* loaded once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksyms_sorted_and_filtered),
		cmocka_unit_test(test_ksyms_resolve_inside_function),
		cmocka_unit_test(test_ksyms_resolve_modules),
		cmocka_unit_test(test_ksyms_resolve_below_first_is_null),
		cmocka_unit_test(test_ksyms_aliases_resolve_to_one_name),
		cmocka_unit_test(test_ksyms_format),
		cmocka_unit_test(test_ksyms_hidden_addresses_eperm),
		cmocka_unit_test(test_ksyms_empty_and_missing),
		cmocka_unit_test(test_ksyms_shared_name_tails),
		cmocka_unit_test(test_ksyms_wide_address_span),
		cmocka_unit_test(test_ksyms_results_stay_valid),
		cmocka_unit_test(test_ksyms_default_real_kallsyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

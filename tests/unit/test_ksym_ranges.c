// SPDX-License-Identifier: Apache-2.0
/*
 * lmp_ksym_ranges (agent/sym/ksyms.c), read from the kallsyms table, gives the same ranges as
 * a plain fgets+sscanf reading of the file: a function ends at the next higher text symbol,
 * aliases skipped, module symbols ignored, zero addresses (kptr_restrict) refused, a last
 * line without a newline, a large file. On the running kernel it agrees with the reference
 * reading as well.
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

#include "probe/probe.h"
#include "sym/ksyms.h"

/* fgets + sscanf, same rules */
static int reference(const char *path, const char *const *names, size_t n,
		     struct lmp_ksym_range *out)
{
	FILE *f = fopen(path, "re");
	bool pending[16] = { false }, nonzero = false;
	char line[512], name[256], type;
	unsigned long long addr;
	int found = 0;

	if (!f)
		return -errno;
	memset(out, 0, n * sizeof(*out));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		nonzero |= addr != 0;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		for (size_t i = 0; i < n; i++) {
			if (pending[i] && addr > out[i].start) {
				out[i].end = addr;
				pending[i] = false;
			}
		}
		for (size_t i = 0; i < n; i++) {
			if (!out[i].start && strcmp(name, names[i]) == 0 && !strchr(line, '[')) {
				out[i].start = addr;
				pending[i] = true;
			}
		}
	}
	fclose(f);
	if (!nonzero) {
		memset(out, 0, n * sizeof(*out));
		return -EPERM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!out[i].start || !out[i].end || out[i].end - out[i].start > (1u << 20)) {
			out[i].start = out[i].end = 0;
			continue;
		}
		found++;
	}
	return found;
}

static char path[64];

static void write_file(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/lmp-ksyms-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_small_file(void **state)
{
	static const char *const names[] = { "alpha", "beta",	  "gamma",
					     "modfn", "data_sym", "missing" };
	struct lmp_ksym_range r[6], want[6];

	write_file("ffffffff81000000 T _stext\n"
		   "ffffffff81000100 t alpha\n"
		   "ffffffff81000100 t alpha_alias\n" /* same address: alpha goes on */
		   "ffffffff81000180 T beta\n"
		   "ffffffff81000200 D data_sym\n" /* not text: beta goes on */
		   "ffffffff81000300 t gamma\n"
		   "ffffffff81000380 T delta\n"
		   "ffffffffc0000000 t modfn\t[somemod]\n"
		   "ffffffffc0000100 t modfn2\t[somemod]"); /* no final newline */
	assert_int_equal(lmp_ksym_ranges(path, names, 6, r), 3);
	assert_int_equal(reference(path, names, 6, want), 3);
	assert_memory_equal(r, want, sizeof(r));
	assert_true(r[0].start == 0xffffffff81000100ULL && r[0].end == 0xffffffff81000180ULL);
	assert_true(r[1].start == 0xffffffff81000180ULL && r[1].end == 0xffffffff81000300ULL);
	assert_true(r[2].start == 0xffffffff81000300ULL && r[2].end == 0xffffffff81000380ULL);
	assert_true(r[3].start == 0 && r[4].start == 0 && r[5].start == 0);
	unlink(path);
}

static void test_hidden_addresses(void **state)
{
	static const char *const names[] = { "alpha" };
	struct lmp_ksym_range r[1];

	write_file("0000000000000000 T _stext\n0000000000000000 t alpha\n0000000000000000 T b\n");
	assert_int_equal(lmp_ksym_ranges(path, names, 1, r), -EPERM);
	assert_true(r[0].start == 0 && r[0].end == 0);
	unlink(path);
	assert_int_equal(lmp_ksym_ranges("/nonexistent/kallsyms", names, 1, r), -ENOENT);
}

/* 200k lines, names picked across the file and at its end */
static void test_large_file(void **state)
{
	const char *names[4] = { "fn_1", "fn_4001", "fn_123457", "fn_199998" };
	struct lmp_ksym_range r[4], want[4];
	size_t cap = 200000 * 40, used = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	for (int i = 0; i < 200000; i++)
		used += snprintf(text + used, cap - used, "%016llx %c fn_%d\n",
				 0xffffffff81000000ULL + (unsigned long long)i * 16,
				 i % 7 == 3 ? 'd' : 't', i);
	write_file(text);
	free(text);
	assert_int_equal(reference(path, names, 4, want), 4);
	assert_int_equal(lmp_ksym_ranges(path, names, 4, r), 4);
	assert_memory_equal(r, want, sizeof(r));
	unlink(path);
}

/* the running kernel: same answer as the reference (both -EPERM when addresses are hidden) */
static void test_proc_kallsyms(void **state)
{
	static const char *const names[] = { "vfs_read", "ns_capable_noaudit",
					     "mem_cgroup_out_of_memory", "no_such_function_x" };
	struct lmp_ksym_range r[4], want[4];
	int a = lmp_ksym_ranges(NULL, names, 4, r), b = reference("/proc/kallsyms", names, 4, want);

	assert_int_equal(a, b);
	assert_memory_equal(r, want, sizeof(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_file),
		cmocka_unit_test(test_hidden_addresses),
		cmocka_unit_test(test_large_file),
		cmocka_unit_test(test_proc_kallsyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

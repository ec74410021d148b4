// SPDX-License-Identifier: Apache-2.0
/*
 * agent/probes/lib/decode_flags.c: flag sets and enums turned into names the way the event
 * probes print them (open flags with the O_ACCMODE field and composite O_SYNC/O_TMPFILE,
 * the mount magic number, unknown bits in hex, truncation); agent/probes/lib/signals.c:
 * --sigsnoop-ignore lists.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "probes/lib/decode_flags.h"
#include "probes/lib/signals.h"

static const struct lmp_flag_name open_flags[] = {
	{ O_ACCMODE, O_RDONLY, "O_RDONLY" },  { O_ACCMODE, O_WRONLY, "O_WRONLY" },
	{ O_ACCMODE, O_RDWR, "O_RDWR" },      LMP_FLAG(O_CREAT, "O_CREAT"),
	LMP_FLAG(O_TRUNC, "O_TRUNC"),	      LMP_FLAG(O_SYNC, "O_SYNC"),
	LMP_FLAG(O_DSYNC, "O_DSYNC"),	      LMP_FLAG(O_TMPFILE, "O_TMPFILE"),
	LMP_FLAG(O_DIRECTORY, "O_DIRECTORY"), LMP_FLAG(O_CLOEXEC, "O_CLOEXEC"),
};

static const struct lmp_flag_name ms_flags[] = {
	{ 0xffff0000, 0xc0ed0000, "MS_MGC_VAL" },
	LMP_FLAG(1, "MS_RDONLY"),
	LMP_FLAG(1 << 18, "MS_PRIVATE"),
	LMP_FLAG(1 << 20, "MS_SHARED"),
};

static const char *fmt(const struct lmp_flag_name *t, size_t n, __u64 v)
{
	static char buf[256];

	lmp_flags_format(t, n, v, buf, sizeof(buf));
	return buf;
}

#define OPEN(v) fmt(open_flags, sizeof(open_flags) / sizeof(open_flags[0]), (v))
#define MS(v) fmt(ms_flags, sizeof(ms_flags) / sizeof(ms_flags[0]), (v))

static void test_flags_access_mode_field(void **state)
{
	assert_string_equal(OPEN(O_RDONLY), "O_RDONLY");
	assert_string_equal(OPEN(O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
	assert_string_equal(OPEN(O_RDWR | O_CLOEXEC), "O_RDWR|O_CLOEXEC");
	/* 3 is not a valid access mode: no name, the bits stay visible */
	assert_string_equal(OPEN(3), "0x3");
}

static void test_flags_composites_hide_their_parts(void **state)
{
	/* O_SYNC includes O_DSYNC's bit, O_TMPFILE includes O_DIRECTORY */
	assert_string_equal(OPEN(O_WRONLY | O_SYNC), "O_WRONLY|O_SYNC");
	assert_string_equal(OPEN(O_WRONLY | O_DSYNC), "O_WRONLY|O_DSYNC");
	assert_string_equal(OPEN(O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
	assert_string_equal(OPEN(O_RDONLY | O_DIRECTORY), "O_RDONLY|O_DIRECTORY");
}

static void test_flags_unknown_bits_in_hex(void **state)
{
	assert_string_equal(OPEN(O_RDONLY | 0x40000000), "O_RDONLY|0x40000000");
	assert_string_equal(MS(0), "0");
	assert_string_equal(MS(0x80000000ULL << 4), "0x800000000");
}

static void test_flags_magic_owns_its_bits(void **state)
{
	/* the old MS_MGC_VAL magic sets bits that mean MS_PRIVATE/MS_SHARED otherwise */
	assert_string_equal(MS(0xc0ed0000 | 1), "MS_MGC_VAL|MS_RDONLY");
	assert_string_equal(MS((1 << 18) | 1), "MS_RDONLY|MS_PRIVATE");
}

static void test_flags_truncation(void **state)
{
	char small[8];
	size_t want = lmp_flags_format(open_flags, 10, O_WRONLY | O_CREAT, small, sizeof(small));

	assert_int_equal(want, strlen("O_WRONLY|O_CREAT"));
	assert_string_equal(small, "O_WRONL");
	/* a zero-sized buffer is left alone */
	assert_int_equal(lmp_flags_format(open_flags, 10, O_RDONLY, small, 0), strlen("O_RDONLY"));
}

static void test_enum_name(void **state)
{
	static const struct lmp_enum_name e[] = { { 0, "ZERO" }, { (__u32)-6, "SI_TKILL" } };

	assert_string_equal(lmp_enum_name(e, 2, 0), "ZERO");
	assert_string_equal(lmp_enum_name(e, 2, (__u32)-6), "SI_TKILL");
	assert_null(lmp_enum_name(e, 2, 7));
}

static void test_signal_list(void **state)
{
	char err[160];
	__u64 m;

	assert_int_equal(lmp_signal_mask_parse("SIGCHLD,SIGURG", &m, err, sizeof(err)), 0);
	assert_true(m == ((1ULL << SIGCHLD) | (1ULL << SIGURG)));
	/* with or without SIG, any case, numbers, spaces around the commas */
	assert_int_equal(lmp_signal_mask_parse("chld, Urg ,9,0", &m, err, sizeof(err)), 0);
	assert_true(m == ((1ULL << SIGCHLD) | (1ULL << SIGURG) | (1ULL << 9) | 1ULL));
	assert_int_equal(lmp_signal_mask_parse("SIGRT3", &m, err, sizeof(err)), 0);
	assert_true(m == (1ULL << 37));
	assert_int_equal(lmp_signal_mask_parse("none", &m, err, sizeof(err)), 0);
	assert_true(m == 0);
	assert_int_equal(lmp_signal_mask_parse("", &m, err, sizeof(err)), 0);
	assert_true(m == 0);
}

static void test_signal_list_errors(void **state)
{
	static const char *const bad[] = { "SIGFOO", "64", "-1", "9x", "SIGCHLD,", ",", "SIG" };
	char err[160];
	__u64 m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(lmp_signal_mask_parse(bad[i], &m, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "unknown signal"));
	}
	lmp_signal_mask_parse("SIGFOO", &m, err, sizeof(err));
	assert_string_equal(err, "unknown signal 'SIGFOO' (names like SIGCHLD, or 0..63)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_access_mode_field),
		cmocka_unit_test(test_flags_composites_hide_their_parts),
		cmocka_unit_test(test_flags_unknown_bits_in_hex),
		cmocka_unit_test(test_flags_magic_owns_its_bits),
		cmocka_unit_test(test_flags_truncation),
		cmocka_unit_test(test_enum_name),
		cmocka_unit_test(test_signal_list),
		cmocka_unit_test(test_signal_list_errors),
	};

	return cmocka_run_group_tests_name("decode_flags", tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * agent/sym/syscalls.c: the committed table against the system header it was generated from
 * (every __NR_ line must map both ways), the numbers added after that header, and the
 * lookups' edge cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "sym/syscalls.h"

#define UNISTD_64 "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"

static void test_matches_header(void **state)
{
	char line[256], name[128];
	int nr, n = 0;
	FILE *f = fopen(UNISTD_64, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "#define __NR_%127s %d", name, &nr) != 2)
			continue;
		assert_true(nr >= 0 && nr < LMP_SYSCALL_MAX);
		assert_non_null(lmp_syscall_name(nr));
		assert_string_equal(lmp_syscall_name(nr), name);
		assert_int_equal(lmp_syscall_nr(name), nr);
		n++;
	}
	fclose(f);
	/* the 6.1 header has 362 entries; a newer one only adds */
	assert_true(n >= 362);
}

static void test_libc_constants(void **state)
{
	/* the numbers the integration tests and the file probe rely on */
	assert_string_equal(lmp_syscall_name(SYS_getppid), "getppid");
	assert_string_equal(lmp_syscall_name(SYS_read), "read");
	assert_string_equal(lmp_syscall_name(SYS_write), "write");
	assert_string_equal(lmp_syscall_name(SYS_pread64), "pread64");
	assert_string_equal(lmp_syscall_name(SYS_pwrite64), "pwrite64");
	assert_string_equal(lmp_syscall_name(SYS_readv), "readv");
	assert_string_equal(lmp_syscall_name(SYS_writev), "writev");
	assert_string_equal(lmp_syscall_name(SYS_connect), "connect");
	assert_int_equal(lmp_syscall_nr("getppid"), SYS_getppid);
	assert_int_equal(lmp_syscall_nr("exit_group"), SYS_exit_group);
}

static void test_newer_than_header(void **state)
{
	assert_string_equal(lmp_syscall_name(451), "cachestat");
	assert_string_equal(lmp_syscall_name(454), "futex_wake");
	assert_string_equal(lmp_syscall_name(462), "mseal");
	assert_string_equal(lmp_syscall_name(469), "file_setattr");
	assert_int_equal(lmp_syscall_nr("mseal"), 462);
	/* every slot from 424 on is assigned: no holes after the 335..423 gap */
	for (int nr = 424; nr < LMP_SYSCALL_MAX; nr++)
		assert_non_null(lmp_syscall_name(nr));
}

static void test_holes_and_range(void **state)
{
	assert_null(lmp_syscall_name(-1));
	assert_null(lmp_syscall_name(335));
	assert_null(lmp_syscall_name(423));
	assert_null(lmp_syscall_name(LMP_SYSCALL_MAX));
	assert_null(lmp_syscall_name(512)); /* x32 range is not part of the 64-bit table */
	assert_null(lmp_syscall_name(1 << 30));
}

static void test_name_lookup_errors(void **state)
{
	assert_int_equal(lmp_syscall_nr(NULL), -EINVAL);
	assert_int_equal(lmp_syscall_nr(""), -EINVAL);
	assert_int_equal(lmp_syscall_nr("sys_"), -ENOENT);
	assert_int_equal(lmp_syscall_nr("no_such_call"), -ENOENT);
	assert_int_equal(lmp_syscall_nr("GETPPID"), -ENOENT); /* names are case-sensitive */
	assert_int_equal(lmp_syscall_nr("sys_getppid"), SYS_getppid);
	assert_int_equal(lmp_syscall_nr("sysfs"), SYS_sysfs); /* not mistaken for a prefix */
	assert_int_equal(lmp_syscall_nr("read"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_header),	   cmocka_unit_test(test_libc_constants),
		cmocka_unit_test(test_newer_than_header),  cmocka_unit_test(test_holes_and_range),
		cmocka_unit_test(test_name_lookup_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* agent/probes/lib/proc.c and agent/sym/proclib.c, on this test's own process: its comm and
 * the libc it maps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probes/lib/proc.h"
#include "sym/proclib.h"

#define GONE_PID 0x7ffffff0u /* above pid_max's limit: never a process */

static void test_comm(void **state)
{
	char buf[32] = "unchanged";

	lmp_proc_comm(getpid(), buf, sizeof(buf));
	assert_string_equal(buf, "test_proc");
	snprintf(buf, sizeof(buf), "unchanged");
	lmp_proc_comm(GONE_PID, buf, sizeof(buf));
	assert_string_equal(buf, "unchanged");
}

/* one library name, as funclatency asks */
static int find_lib(__u32 pid, const char *lib, char *out, size_t len)
{
	return lmp_proc_lib(pid, &lib, 1, out, len);
}

static void test_find_lib(void **state)
{
	char out[512], want[32];

	assert_int_equal(find_lib(getpid(), "libc", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "/proc/%d/root/", getpid());
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out, "/libc.so.6") ?: strstr(out, "/libc-"));
	assert_int_equal(access(out, R_OK), 0);
	/* a prefix of a name is not that name */
	assert_int_equal(find_lib(getpid(), "lib", out, sizeof(out)), -ENOENT);
	assert_int_equal(find_lib(getpid(), "libno_such_lib", out, sizeof(out)), -ENOENT);
	assert_int_equal(find_lib(GONE_PID, "libc", out, sizeof(out)), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_find_lib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* agent/base/array.c and list.c: growth by doubling, refusal without loss; comma lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/array.h"
#include "base/list.h"

static void test_reserve_doubles_and_keeps(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	assert_true(lmp_array_reserve(&v, &cap, 1, sizeof(*v), 4));
	assert_int_equal(cap, 4);
	for (int i = 0; i < 4; i++)
		v[i] = i;
	assert_true(lmp_array_reserve(&v, &cap, 4, sizeof(*v), 4)); /* fits: no change */
	assert_int_equal(cap, 4);
	assert_true(lmp_array_reserve(&v, &cap, 17, sizeof(*v), 4));
	assert_int_equal(cap, 32);
	for (int i = 0; i < 4; i++)
		assert_int_equal(v[i], i);
	free(v);
}

static void test_reserve_refuses_overflow(void **state)
{
	char *v = malloc(8);
	char *before = v;
	size_t cap = 8;

	assert_non_null(v);
	assert_false(lmp_array_reserve(&v, &cap, SIZE_MAX, 1, 8));
	assert_false(lmp_array_reserve(&v, &cap, SIZE_MAX / 4, 16, 8));
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 8);
	free(v);
}

static void test_list_has(void **state)
{
	assert_true(lmp_list_has("a,bb,c", "bb"));
	assert_true(lmp_list_has("a,bb,c", "c"));
	assert_false(lmp_list_has("a,bb,c", "b"));
	assert_false(lmp_list_has("a,bbb", "bb"));
	assert_false(lmp_list_has("", "a"));
	assert_false(lmp_list_has(NULL, "a"));
	assert_true(lmp_list_has("a,,b", "b"));
	/* "all" selects every name; as an item it is a name like others */
	assert_true(lmp_list_selects("all", "syscount"));
	assert_true(lmp_list_selects("file,syscount", "syscount"));
	assert_false(lmp_list_selects("file,syscount2", "syscount"));
	assert_false(lmp_list_has("all", "syscount"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_doubles_and_keeps),
		cmocka_unit_test(test_reserve_refuses_overflow),
		cmocka_unit_test(test_list_has),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

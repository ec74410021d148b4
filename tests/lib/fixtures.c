// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include "fixtures.h"

#ifndef LMP_FIXTURES_DIR
#define LMP_FIXTURES_DIR "tests/fixtures"
#endif

const char *lmp_test_fixtures_dir(void)
{
	const char *env = getenv("LMP_FIXTURES");

	return env && *env ? env : LMP_FIXTURES_DIR;
}

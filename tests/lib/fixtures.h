/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the test fixtures are: $LMP_FIXTURES when set, else tests/fixtures of the tree the
 * test was built from (the Makefile passes it in). Never a path outside the repository.
 */
#ifndef LMP_TEST_FIXTURES_H
#define LMP_TEST_FIXTURES_H

const char *lmp_test_fixtures_dir(void);

#endif

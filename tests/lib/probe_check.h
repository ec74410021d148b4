/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks several probe integration tests make alike: what `lmp probes --json` says about one
 * probe, loading only one kind of a skeleton's programs, and removing the cgroups a failed
 * test left behind. Used with cmocka: the helpers assert what they need themselves.
 */
#ifndef LMP_TEST_PROBE_CHECK_H
#define LMP_TEST_PROBE_CHECK_H

#include <jansson.h>

struct bpf_object;

/*
 * Run `$LMP probes --json <args>` (args: extra shell words, may be ""), assert it exits 0
 * with a JSON array that lists probe, and return that probe's object (the caller
 * json_decref()s it).
 */
json_t *lmp_test_probe_listing(const char *probe, const char *args);

/* Load only the programs of obj whose names start with prefix; returns how many do. */
int lmp_test_autoload_only(struct bpf_object *obj, const char *prefix);

/*
 * cmocka group teardown helper: a failed assertion skips a test's own cleanup, so remove
 * the cgroups lmp-test/<probe>-<pid>, <probe>-<pid>-* and <probe>-*-<pid> it left, deepest
 * first.
 */
void lmp_test_remove_probe_leftovers(const char *probe);

#endif /* LMP_TEST_PROBE_CHECK_H */

// SPDX-License-Identifier: Apache-2.0
/*
 * argv redaction in the real agent's exec events (agent/expose/redact.c via the process probe):
 * on by default, --redact-patterns '+name' adds a name, --no-redact turns it off. The
 * process runs in a cgroup of its own; its event is found by pid and checked whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static char cg[4096];
static __u64 cgid;

static bool is_exec_of(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *event = json_string_value(json_object_get(ev, "event"));

	return probe && !strcmp(probe, "process") && event && !strcmp(event, "exec") &&
	       json_integer_value(json_object_get(ev, "pid")) == *(pid_t *)ctx;
}

/* run /bin/true with args under an agent started with opts; check argv and argv_redacted */
static void check(const char *const *opts, const char *const *want, int want_redacted)
{
	char *const argv[] = { "/bin/true",	"--user=app",	    "--password=hunter2",
			       "token=abc123",	"--api-key",	    "k-9",
			       "MYCORP_KEY=m1", "https://u:pw@h/x", NULL };
	const char *args[16] = { "--probes", "process" };
	struct lmp_test_agent a;
	json_t *ev, *got;
	pid_t pid;
	int n = 2;

	for (int i = 0; opts[i]; i++)
		args[n++] = opts[i];
	args[n] = NULL;
	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	pid = lmp_test_spawn(cg, argv);
	assert_true(pid > 0);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	ev = lmp_test_agent_wait(&a, 5000, is_exec_of, &pid);
	assert_non_null(ev);
	assert_int_equal((__u64)json_integer_value(json_object_get(ev, "cgroup_id")), cgid);
	got = json_object_get(ev, "argv");
	assert_int_equal(json_array_size(got), 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(json_string_value(json_array_get(got, i)), want[i]);
	if (want_redacted)
		assert_int_equal(json_integer_value(json_object_get(ev, "argv_redacted")),
				 want_redacted);
	else
		assert_null(json_object_get(ev, "argv_redacted"));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

static void test_redact_default(void **state)
{
	check((const char *const[]){ NULL },
	      (const char *const[]){ "/bin/true", "--user=app", "--password=***", "token=***",
				     "--api-key", "***", "MYCORP_KEY=m1", "https://u:***@h/x" },
	      4);
}

static void test_redact_added_pattern(void **state)
{
	check((const char *const[]){ "--redact-patterns", "+mycorp_key", NULL },
	      (const char *const[]){ "/bin/true", "--user=app", "--password=***", "token=***",
				     "--api-key", "***", "MYCORP_KEY=***", "https://u:***@h/x" },
	      5);
}

static void test_redact_off(void **state)
{
	check((const char *const[]){ "--no-redact", NULL },
	      (const char *const[]){ "/bin/true", "--user=app", "--password=hunter2",
				     "token=abc123", "--api-key", "k-9", "MYCORP_KEY=m1",
				     "https://u:pw@h/x" },
	      0);
}

static void test_redact_bad_pattern_is_a_usage_error(void **state)
{
	int st = lmp_test_sh("'%s' run --redact-patterns 'pass word' --listen none "
			     "2>/dev/null",
			     lmp_test_binary());

	assert_int_equal(st, 2);
}

static int setup(void **state)
{
	char rel[64];

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/redact-%d", getpid());
	return lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	lmp_test_cgroup_remove(cg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_default),
		cmocka_unit_test(test_redact_added_pattern),
		cmocka_unit_test(test_redact_off),
		cmocka_unit_test(test_redact_bad_pattern_is_a_usage_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

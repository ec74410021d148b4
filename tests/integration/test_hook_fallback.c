// SPDX-License-Identifier: Apache-2.0
/*
 * Every attach alternative that works on this kernel is exercised, not only the preferred
 * one: with tp_btf (and then raw_tp) ruled out, the loader must fall back, say so, and the
 * events must be the same. The alternatives the kernel refuses (fentry, kprobe) are
 * reported with their reason by `lmp probes --json`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe/probe.h"
#include "probe_check.h"

static void exec_seen(struct lmp_test_agent *a, long unused);

static struct lmp_test_fixture F = {
	.probe = "process",
	.name = "fallback",
	.workload = exec_seen,
	.fallbacks = { { "tp_btf", "probe process: attached (exec=raw_tp,exit=raw_tp)" },
		       { "tp_btf,raw_tp",
			 "probe process: attached (exec=tracepoint,exit=tracepoint)" } },
};

static void exec_seen(struct lmp_test_agent *a, long unused)
{
	char *argv[] = { "/bin/echo", "fallback", NULL };
	struct lmp_test_want exec = { "process", "exec", 0 }, exit_ = { "process", "exit", 0 };
	json_t *ev;
	pid_t pid;

	pid = lmp_test_spawn(F.cg, argv);
	lmp_test_wait_child(pid);
	exec.pid = exit_.pid = pid;
	ev = lmp_test_agent_wait(a, 5000, lmp_test_match_want, &exec);
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), F.cgid);
	assert_string_equal(json_string_value(json_object_get(ev, "filename")), "/bin/echo");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "argv"), 1)),
			    "fallback");
	assert_int_equal(json_integer_value(json_object_get(ev, "ppid")), getpid());
	ev = lmp_test_agent_wait(a, 5000, lmp_test_match_want, &exit_);
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 0);
}

static void test_nothing_attaches_fails(void **state)
{
	/* with every usable kind ruled out, the agent must refuse to run: exit status 1 */
	int rc = lmp_test_sh("%s run --listen none --probes process --disable-hooks "
			     "tp_btf,raw_tp,tracepoint --duration 1 >/dev/null 2>&1",
			     lmp_test_binary());

	assert_int_equal(rc, 1);
}

static void test_probes_json_reasons(void **state)
{
	json_t *arr = lmp_test_probes_json("--disable-hooks tp_btf,raw_tp,tracepoint");

	assert_int_equal(json_array_size(arr), lmp_registry_len);
	json_decref(arr);
	lmp_test_assert_unsupported(
		"process", "tp_btf,raw_tp,tracepoint",
		(const char *const[]){ "exec: tp_btf: disabled by --disable-hooks", NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LMP_TEST_FALLBACK("test_raw_tp_path", 0),
		LMP_TEST_FALLBACK("test_tracepoint_path", 1),
		cmocka_unit_test(test_nothing_attaches_fails),
		cmocka_unit_test(test_probes_json_reasons),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

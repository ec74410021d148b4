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

#include "harness.h"

static void exec_seen_with(const char *disable, const char *attach_line)
{
	struct lmp_test_agent a;
	char *argv[] = { "/bin/echo", "fallback", NULL };
	struct lmp_test_want exec = { "process", "exec", 0 }, exit_ = { "process", "exit", 0 };
	char cg[4096], rel[128];
	__u64 cgid;
	json_t *ev;
	pid_t pid;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/fallback-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", "process",
									 "--disable-hooks", disable,
									 NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, attach_line));
	pid = lmp_test_spawn(cg, argv);
	lmp_test_wait_child(pid);
	exec.pid = exit_.pid = pid;
	ev = lmp_test_agent_wait(&a, 5000, lmp_test_match_want, &exec);
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), cgid);
	assert_string_equal(json_string_value(json_object_get(ev, "filename")), "/bin/echo");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "argv"), 1)),
			    "fallback");
	assert_int_equal(json_integer_value(json_object_get(ev, "ppid")), getpid());
	ev = lmp_test_agent_wait(&a, 5000, lmp_test_match_want, &exit_);
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 0);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

static void test_raw_tp_path(void **state)
{
	exec_seen_with("tp_btf", "probe process: attached (exec=raw_tp,exit=raw_tp)");
}

static void test_tracepoint_path(void **state)
{
	exec_seen_with("tp_btf,raw_tp",
		       "probe process: attached (exec=tracepoint,exit=tracepoint)");
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
	char cmd[512];
	json_error_t jerr;
	json_t *arr, *p;
	FILE *f;
	size_t i;

	snprintf(cmd, sizeof(cmd), "%s probes --json --disable-hooks tp_btf,raw_tp,tracepoint",
		 lmp_test_binary());
	f = popen(cmd, "r");
	assert_non_null(f);
	arr = json_loadf(f, 0, &jerr);
	pclose(f);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 23);
	json_array_foreach(arr, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "name")), "process"))
			continue;
		assert_string_equal(json_string_value(json_object_get(p, "state")), "unsupported");
		assert_non_null(strstr(json_string_value(json_object_get(p, "reason")),
				       "exec: tp_btf: disabled by --disable-hooks"));
	}
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_tp_path),
		cmocka_unit_test(test_tracepoint_path),
		cmocka_unit_test(test_nothing_attaches_fails),
		cmocka_unit_test(test_probes_json_reasons),
	};

	return cmocka_run_group_tests_name("hook_fallback", tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * process probe against the real kernel: exec inside a fresh cgroup, exits with a code and
 * by a signal, argv truncation, and a clean stop within 2 s.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

static struct lmp_test_fixture F = {
	.probe = "process",
	.args = (const char *const[]){ "--interval", "1", NULL },
};

static json_t *wait_event(struct lmp_test_fixture *c, const char *event, pid_t pid)
{
	struct lmp_test_want w = { "process", event, pid };

	return lmp_test_agent_wait(&c->agent, 5000, lmp_test_match_want, &w);
}

static void assert_header(struct lmp_test_fixture *c, json_t *ev, pid_t pid, const char *comm)
{
	char host[256];

	gethostname(host, sizeof(host));
	assert_int_equal(json_integer_value(json_object_get(ev, "pid")), pid);
	assert_string_equal(json_string_value(json_object_get(ev, "comm")), comm);
	assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), c->cgid);
	assert_string_equal(json_string_value(json_object_get(ev, "node")), host);
	/* RFC 3339, UTC, nanoseconds: 2026-11-25T12:00:00.123456789Z */
	assert_int_equal(strlen(json_string_value(json_object_get(ev, "ts"))), 30);
	assert_int_equal(json_string_value(json_object_get(ev, "ts"))[29], 'Z');
}

static void test_exec_in_cgroup(void **state)
{
	struct lmp_test_fixture *c = *state;
	char *argv[] = { "/bin/echo", "lmp-exec-test", "two words", NULL };
	pid_t pid = lmp_test_spawn(c->cg, argv);
	json_t *ev, *args;

	assert_true(pid > 0);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
	ev = wait_event(c, "exec", pid);
	assert_non_null(ev);
	assert_header(c, ev, pid, "echo");
	assert_string_equal(json_string_value(json_object_get(ev, "filename")), "/bin/echo");
	assert_int_equal(json_integer_value(json_object_get(ev, "ppid")), getpid());
	args = json_object_get(ev, "argv");
	assert_int_equal(json_array_size(args), 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(json_string_value(json_array_get(args, i)), argv[i]);
	assert_false(json_boolean_value(json_object_get(ev, "argv_truncated")));
}

/*
 * Cgroups made after the agent is ready, one right after the other. The agent has dropped
 * CAP_DAC_READ_SEARCH by then (--drop-caps, the default, as in the DaemonSet), so it finds
 * new cgroups by walking the tree on its background walker and holds their events until
 * the walk is in: every exec event carries its cgroup's path, the second cgroup's too,
 * though it was made within the same second as the first one's walk.
 */
static void test_new_cgroups_are_named(void **state)
{
	struct lmp_test_fixture *c = *state;
	char rel[3][128], dir[3][4096];
	__u64 id[3];

	for (int i = 0; i < 3; i++) {
		char *argv[] = { "/bin/true", NULL };
		pid_t pid;
		json_t *ev;

		snprintf(rel[i], sizeof(rel[i]), "lmp-test/process-%d-new%d", getpid(), i);
		assert_int_equal(lmp_test_cgroup_create(rel[i], dir[i], sizeof(dir[i]), &id[i]), 0);
		pid = lmp_test_spawn(dir[i], argv);
		assert_true(pid > 0);
		assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
		ev = wait_event(c, "exec", pid);
		assert_non_null(ev);
		assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), id[i]);
		assert_non_null(json_string_value(json_object_get(ev, "cgroup")));
		assert_string_equal(json_string_value(json_object_get(ev, "cgroup")) + 1, rel[i]);
	}
	for (int i = 0; i < 3; i++)
		lmp_test_cgroup_remove(dir[i]);
	assert_true(lmp_test_agent_stderr_has(&c->agent, "capabilities: dropped"));
}

static void test_exit_code(void **state)
{
	struct lmp_test_fixture *c = *state;
	char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	pid_t pid = lmp_test_spawn(c->cg, argv);
	json_t *ev;

	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 7);
	ev = wait_event(c, "exit", pid);
	assert_non_null(ev);
	assert_header(c, ev, pid, "sh");
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 7);
	assert_true(json_is_null(json_object_get(ev, "signal")));
	assert_true(json_number_value(json_object_get(ev, "lifetime_s")) > 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "ppid")), getpid());
}

static void test_exit_by_signal(void **state)
{
	struct lmp_test_fixture *c = *state;
	char *argv[] = { "/bin/sleep", "30", NULL };
	pid_t pid = lmp_test_spawn(c->cg, argv);
	json_t *ev;
	int st;

	usleep(200 * 1000);
	kill(pid, SIGTERM);
	st = lmp_test_wait_child(pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	ev = wait_event(c, "exit", pid);
	assert_non_null(ev);
	assert_header(c, ev, pid, "sleep");
	assert_string_equal(json_string_value(json_object_get(ev, "signal")), "SIGTERM");
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 0);
	assert_true(json_number_value(json_object_get(ev, "lifetime_s")) >= 0.2);
}

static void test_argv_truncated(void **state)
{
	struct lmp_test_fixture *c = *state;
	static char big[2000];
	char *argv[] = { "/bin/true", big, NULL };
	json_t *ev, *args;
	size_t total = 0;
	pid_t pid;

	memset(big, 'x', sizeof(big) - 1);
	pid = lmp_test_spawn(c->cg, argv);
	lmp_test_wait_child(pid);
	ev = wait_event(c, "exec", pid);
	assert_non_null(ev);
	assert_true(json_boolean_value(json_object_get(ev, "argv_truncated")));
	args = json_object_get(ev, "argv");
	assert_string_equal(json_string_value(json_array_get(args, 0)), "/bin/true");
	for (size_t i = 0; i < json_array_size(args); i++)
		total += strlen(json_string_value(json_array_get(args, i))) + (i ? 1 : 0);
	/* LMP_ARGV_BYTES = 512: strings plus the NULs between them; cut there, not dropped */
	assert_int_equal(total, 512);
}

static void test_clean_stop(void **state)
{
	struct lmp_test_fixture *c = *state;
	__u32 ids[64];
	int n = lmp_test_bpf_ids(c->agent.pid, "prog_id", ids, 64);

	assert_true(n >= 2); /* exec and exit programs, held by the agent */
	lmp_test_clean_stop(&c->agent);
	/* detached: none of its programs is left in the kernel */
	for (int i = 0; i < n; i++)
		assert_int_not_equal(lmp_test_sh("bpftool prog show id %u >/dev/null 2>&1", ids[i]),
				     0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_in_cgroup), cmocka_unit_test(test_new_cgroups_are_named),
		cmocka_unit_test(test_exit_code),      cmocka_unit_test(test_exit_by_signal),
		cmocka_unit_test(test_argv_truncated), cmocka_unit_test(test_clean_stop),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

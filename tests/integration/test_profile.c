// SPDX-License-Identifier: Apache-2.0
/*
 * profile probe against the real kernel: this binary re-executed as a child that spins in a
 * known function, in a fresh cgroup; the agent's stack rows for that cgroup must put the
 * function on top with most of the cgroup's samples. Also: --profile-event cycles on a node
 * without a PMU is reported as unsupported with the reason.
 */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

#define SPIN_FN "lmp_profile_spin_target"

/* the function the child burns CPU in: a leaf, so it is the first frame of every sample */
__attribute__((noinline, optimize("no-omit-frame-pointer"))) void lmp_profile_spin_target(void)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
}

static char self_exe[PATH_MAX];

struct want {
	__u64 cgid;
	pid_t pid;
};

static bool frame_is(json_t *frame, const char *fn)
{
	const char *s = json_string_value(frame);
	size_t n = strlen(fn);

	return s && strncmp(s, fn, n) == 0 && s[n] == '+';
}

static double ts_seconds(json_t *ev)
{
	const char *ts = json_string_value(json_object_get(ev, "ts"));
	int h, m;
	double sec;

	if (!ts || sscanf(ts + 11, "%d:%d:%lf", &h, &m, &sec) != 3)
		return 0;
	return h * 3600 + m * 60 + sec;
}

static bool is_row_of(json_t *ev, const struct want *w)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));

	return probe && strcmp(probe, "profile") == 0 &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == w->cgid;
}

/* the child has been sampled spinning */
static bool match_spin_row(json_t *ev, void *ctx)
{
	struct want *w = ctx;

	return is_row_of(ev, w) &&
	       frame_is(json_array_get(json_object_get(ev, "user_stack"), 0), SPIN_FN);
}

static void test_spinning_function_on_top(void **state)
{
	char rel[128], cg[4096], comm[16];
	struct lmp_test_agent a;
	char *argv[] = { self_exe, "--spin", NULL };
	json_t *rows = json_array(), *top = NULL;
	__u64 spin = 0, pod_samples = 0, best_pod = 0;
	size_t best = 0, start = 0;
	struct want w;
	pid_t child;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/profile-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &w.cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", "profile",
									 "--interval", "1", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe profile: attached (sample=perf_sw)"));
	child = lmp_test_spawn(cg, argv);
	assert_true(child > 0);
	w.pid = child;
	/* sampled spinning at least once, then two more full intervals, stopped while alive */
	if (lmp_test_agent_wait(&a, 8000, match_spin_row, &w))
		lmp_test_agent_pump(&a, 2500);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	kill(child, SIGKILL);
	lmp_test_wait_child(child);

	for (size_t i = 0; i < json_array_size(a.events); i++)
		if (is_row_of(json_array_get(a.events, i), &w))
			json_array_append(rows, json_array_get(a.events, i));
	assert_true(json_array_size(rows) > 0);
	/* one interval's rows are printed together; take the interval with the most samples */
	for (size_t i = 1; i <= json_array_size(rows); i++) {
		json_t *prev = json_array_get(rows, i - 1), *ev = json_array_get(rows, i);
		__u64 pod = json_integer_value(json_object_get(prev, "pod_samples"));

		if (ev && ts_seconds(ev) - ts_seconds(prev) < 0.3)
			continue;
		if (pod > best_pod) {
			best_pod = pod;
			best = start;
		}
		start = i;
	}
	snprintf(comm, sizeof(comm), "%s", strrchr(self_exe, '/') + 1);
	top = json_array_get(rows, best);
	for (size_t i = best; i < json_array_size(rows); i++) {
		json_t *ev = json_array_get(rows, i);
		const char *folded = json_string_value(json_object_get(ev, "folded"));
		__u64 samples = json_integer_value(json_object_get(ev, "samples"));

		if (i > best && ts_seconds(ev) - ts_seconds(json_array_get(rows, i - 1)) >= 0.3)
			break;
		pod_samples = json_integer_value(json_object_get(ev, "pod_samples"));
		assert_string_equal(json_string_value(json_object_get(ev, "event")), "stack");
		assert_int_equal(json_integer_value(json_object_get(ev, "pid")), child);
		assert_string_equal(json_string_value(json_object_get(ev, "comm")), comm);
		assert_float_equal(json_number_value(json_object_get(ev, "cpu_s")), samples / 49.0,
				   1e-6);
		assert_true(json_is_array(json_object_get(ev, "kernel_stack")));
		assert_non_null(folded);
		assert_int_equal(strncmp(folded, comm, strlen(comm)), 0);
		if (!frame_is(json_array_get(json_object_get(ev, "user_stack"), 0), SPIN_FN))
			continue;
		/* samples land on the loop's few instructions: one row per address */
		spin += samples;
		assert_non_null(strstr(folded, ";" SPIN_FN));
		/* the caller through the spin function's frame pointer: main, whose last
		 * instruction is the call (it never returns): checks the return-address
		 * adjustment too */
		assert_true(frame_is(json_array_get(json_object_get(ev, "user_stack"), 1), "main"));
		assert_non_null(strstr(folded, ";main;" SPIN_FN));
	}
	/* on top: the busiest row, and most of the cgroup's samples in that interval */
	assert_true(frame_is(json_array_get(json_object_get(top, "user_stack"), 0), SPIN_FN));
	assert_int_equal(pod_samples, best_pod);
	assert_true(spin * 2 > pod_samples);
	assert_true(pod_samples <= 2 * 49 + 10); /* one interval of one process on <= 2 CPUs */

	json_decref(rows);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

/* no PMU here: asking for cycles must say so, and the agent must not pretend */
static void test_cycles_unsupported_without_pmu(void **state)
{
	struct lmp_test_agent a;
	int r;

	lmp_test_require_root();
	r = lmp_test_agent_start(&a, (const char *const[]){ "--probes", "profile,process",
							    "--profile-event", "cycles",
							    "--interval", "1", NULL });
	assert_int_equal(r, 0); /* process still runs: one unsupported probe is not fatal */
	assert_true(lmp_test_agent_stderr_has(&a, "probe profile"));
	assert_true(lmp_test_agent_stderr_has(&a, "--profile-event cycles needs a hardware PMU"));
	assert_false(lmp_test_agent_stderr_has(&a, "probe profile: attached"));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

/* group teardown: what a failed assertion left behind */
static int cleanup(void **state)
{
	char rel[128], cg[4096];

	snprintf(rel, sizeof(rel), "lmp-test/profile-%d", getpid());
	snprintf(cg, sizeof(cg), "%s/%s", lmp_test_cgroup2_root(), rel);
	lmp_test_cgroup_remove(cg);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spinning_function_on_top),
		cmocka_unit_test(test_cycles_unsupported_without_pmu),
	};
	ssize_t n;

	if (argc > 1 && strcmp(argv[1], "--spin") == 0)
		lmp_profile_spin_target();
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = 0;
	return cmocka_run_group_tests(tests, NULL, cleanup);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * funclatency probe against the real kernel: this binary re-executed as a child in a fresh
 * cgroup calls a function that sleeps 3 ms, K times; the agent, pointed at that function by
 * uprobes, must count exactly K calls for the cgroup with the median in the 2^21 ns bucket
 * ([2.10, 4.19) ms: 3 ms sits well inside it, where 2 ms would straddle its lower edge).
 * Also the three ways the probe declines to run: no target, a kernel function on a kernel
 * without kprobes and fentry, and a malformed target.
 */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

#define CALLS 25
#define SLEEP_US 3000

static char self_exe[PATH_MAX];

/* what the agent measures: one 3 ms sleep per call */
__attribute__((noinline)) int lmp_funclat_target(int i)
{
	usleep(SLEEP_US);
	__asm__ volatile("" ::: "memory");
	return i + 1;
}

/* child: wait for the go file, then call the target CALLS times */
static int child_main(const char *go)
{
	struct stat st;
	int sum = 0;

	for (int i = 0; i < 3000 && stat(go, &st) != 0; i++)
		usleep(10000);
	for (int i = 0; i < CALLS; i++)
		sum += lmp_funclat_target(i);
	return sum == CALLS * (CALLS + 1) / 2 ? 0 : 1;
}

struct want {
	__u64 cgid;
	__u64 count;
	json_t *rows;
};

/* rows of our cgroup; an interval may split the calls, so collect until all are counted */
static bool match_rows(json_t *ev, void *ctx)
{
	struct want *w = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));

	if (!probe || strcmp(probe, "funclatency") != 0 ||
	    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) != w->cgid)
		return false;
	json_array_append(w->rows, ev);
	w->count += json_integer_value(json_object_get(ev, "count"));
	return w->count >= CALLS;
}

static void test_user_function_latency_in_cgroup(void **state)
{
	char rel[128], cg[4096], target[PATH_MAX + 64], pidbuf[16], go[64];
	struct lmp_test_agent a;
	struct want w = { .rows = json_array() };
	json_t *ev, *hist, *n;
	const char *bucket;
	char *argv[] = { self_exe, "--child", go, NULL };
	__u64 p50, slot_sum = 0, slot21 = 0, total_ns;
	pid_t child;
	int st, fd;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/funclatency-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &w.cgid), 0);
	snprintf(go, sizeof(go), "/tmp/lmp-funclat-go-%d", getpid());
	unlink(go);
	child = lmp_test_spawn(cg, argv);
	assert_true(child > 0);

	snprintf(target, sizeof(target), "%s:lmp_funclat_target", self_exe);
	snprintf(pidbuf, sizeof(pidbuf), "%d", child);
	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes", "funclatency", "--interval",
							    "1", "--funclatency-target", target,
							    "--funclatency-pid", pidbuf, NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe funclatency: attached (entry=uprobe"));
	fd = open(go, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	st = lmp_test_wait_child(child);
	unlink(go);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	ev = lmp_test_agent_wait(&a, 5000, match_rows, &w);
	assert_non_null(ev);
	assert_int_equal(w.count, CALLS); /* every call, none twice */
	for (size_t r = 0; r < json_array_size(w.rows); r++) {
		__u64 count, row_slots = 0;

		ev = json_array_get(w.rows, r);
		count = json_integer_value(json_object_get(ev, "count"));
		assert_string_equal(json_string_value(json_object_get(ev, "event")), "latency");
		assert_string_equal(json_string_value(json_object_get(ev, "function")), target);
		assert_int_equal(json_integer_value(json_object_get(ev, "pid")), child);
		assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), w.cgid);
		/* 3 ms sleeps: the median lands in the log2 slot [2^21, 2^22) ns */
		p50 = json_integer_value(json_object_get(ev, "p50_ns"));
		assert_int_equal((int)floor(log2((double)p50)), 21);
		total_ns = json_integer_value(json_object_get(ev, "total_ns"));
		assert_true(total_ns >= count * SLEEP_US * 1000);
		assert_true(json_integer_value(json_object_get(ev, "avg_ns")) >= SLEEP_US * 1000);
		hist = json_object_get(ev, "latency_hist_ns");
		json_object_foreach(hist, bucket, n) {
			row_slots += json_integer_value(n);
			/* the slot [2^21, 2^22) ns */
			if (!strcmp(bucket, "2097152-4194303"))
				slot21 += json_integer_value(n);
		}
		assert_int_equal(row_slots, count); /* the histogram holds every call */
		slot_sum += row_slots;
	}
	assert_int_equal(slot_sum, CALLS);
	assert_true(slot21 > CALLS / 2); /* the median bucket over all rows */
	json_decref(w.rows);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

/* the probe declines, says why, and the rest of the agent runs */
static void expect_declined(const char *const *args, const char *why)
{
	struct lmp_test_agent a;

	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe funclatency"));
	assert_true(lmp_test_agent_stderr_has(&a, why));
	assert_false(lmp_test_agent_stderr_has(&a, "probe funclatency: attached"));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

static void test_without_target_not_configured(void **state)
{
	lmp_test_require_root();
	expect_declined((const char *const[]){ "--probes", "funclatency,process", NULL },
			"not configured: set --funclatency-target");
}

static void test_kernel_function_unsupported_here(void **state)
{
	lmp_test_require_root();
	expect_declined((const char *const[]){ "--probes", "funclatency,process",
					       "--funclatency-target", "vfs_read", NULL },
			"unsupported on this kernel: no kprobes and no fentry");
}

static void test_missing_symbol_reported(void **state)
{
	char target[PATH_MAX + 64];

	lmp_test_require_root();
	snprintf(target, sizeof(target), "%s:no_such_function_here", self_exe);
	expect_declined((const char *const[]){ "--probes", "funclatency,process",
					       "--funclatency-target", target, NULL },
			"no such function in");
}

static void test_bad_target_is_usage_error(void **state)
{
	char cmd[PATH_MAX + 128];

	snprintf(cmd, sizeof(cmd),
		 "%s run --probes funclatency --funclatency-target ':x' --listen none "
		 "2>&1 | grep -q 'option --funclatency-target'; r=$?; "
		 "%s run --probes funclatency --funclatency-target 'bin:a b' --listen none "
		 ">/dev/null 2>&1; [ $? -eq 2 ] && exit $r || exit 9",
		 lmp_test_binary(), lmp_test_binary());
	assert_int_equal(lmp_test_sh("%s", cmd), 0);
}

/* group teardown: what a failed assertion left behind */
static int cleanup(void **state)
{
	char cg[4096], go[64];

	snprintf(cg, sizeof(cg), "%s/lmp-test/funclatency-%d", lmp_test_cgroup2_root(), getpid());
	lmp_test_cgroup_remove(cg);
	snprintf(go, sizeof(go), "/tmp/lmp-funclat-go-%d", getpid());
	unlink(go);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_function_latency_in_cgroup),
		cmocka_unit_test(test_without_target_not_configured),
		cmocka_unit_test(test_kernel_function_unsupported_here),
		cmocka_unit_test(test_missing_symbol_reported),
		cmocka_unit_test(test_bad_target_is_usage_error),
	};
	ssize_t n;

	if (argc > 2 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = 0;
	return cmocka_run_group_tests(tests, NULL, cleanup);
}

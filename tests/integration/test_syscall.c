// SPDX-License-Identifier: Apache-2.0
/*
 * syscall probe against the real kernel: a child in a fresh cgroup makes a known number of
 * getppid (and failing close) calls; the summaries must show exactly those counts for its
 * pid, cgroup and name, on every attach path that works here, with and without
 * --syscall-latency; the agent never reports itself; lmp_syscalls_total carries the calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "evchild.h"
#include "harness.h"

#define COMM "lmp-sc-test"

/* fork a child that names itself, joins cgroup cg, makes n getppid and nbad close(-1)
 * calls, then exits */
static pid_t spawn_caller(const char *cg, long n, long nbad)
{
	pid_t pid = fork();
	char path[4200];
	int fd;

	if (pid != 0)
		return pid;
	prctl(PR_SET_NAME, COMM);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(90);
	close(fd);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	for (long i = 0; i < nbad; i++)
		syscall(SYS_close, -1);
	_exit(0);
}

struct totals {
	long lines;	  /* summary lines for the pid */
	long getppid;	  /* sum of getppid counts */
	long close_calls; /* sum of close counts */
	long close_errors;
	double getppid_lat; /* largest avg_latency_s seen for getppid */
	bool bad_fields;    /* a line for the pid with the wrong cgroup or comm */
};

/* sum every summary line of the agent for pid (a loop may straddle two intervals) */
static void sum_lines(struct lmp_test_agent *a, pid_t pid, __u64 cgid, struct totals *t)
{
	size_t i, j;
	json_t *ev, *s;

	memset(t, 0, sizeof(*t));
	json_array_foreach(a->events, i, ev) {
		const char *probe = json_string_value(json_object_get(ev, "probe"));

		if (!probe || strcmp(probe, "syscall") ||
		    json_integer_value(json_object_get(ev, "pid")) != pid)
			continue;
		if (json_integer_value(json_object_get(ev, "cgroup_id")) != (json_int_t)cgid)
			continue; /* the child's few calls before it joined the cgroup */
		t->lines++;
		if (strcmp(json_string_value(json_object_get(ev, "event")), "summary") ||
		    strcmp(json_string_value(json_object_get(ev, "comm")), COMM))
			t->bad_fields = true;
		json_array_foreach(json_object_get(ev, "syscalls"), j, s) {
			const char *name = json_string_value(json_object_get(s, "syscall"));
			long count = json_integer_value(json_object_get(s, "count"));

			if (!strcmp(name, "getppid")) {
				if (json_integer_value(json_object_get(s, "nr")) != SYS_getppid)
					t->bad_fields = true;
				t->getppid += count;
				if (json_object_get(s, "avg_latency_s") &&
				    json_number_value(json_object_get(s, "avg_latency_s")) >
					    t->getppid_lat)
					t->getppid_lat = json_number_value(
						json_object_get(s, "avg_latency_s"));
			} else if (!strcmp(name, "close")) {
				t->close_calls += count;
				t->close_errors += json_integer_value(json_object_get(s, "errors"));
			}
		}
	}
}

/* run the workload under an agent started with extra args; check the attach line */
static void run_workload(const char *const *extra, const char *attach_line, long n, long nbad,
			 bool latency)
{
	struct lmp_test_agent a;
	const char *args[16] = { "--probes", "syscall", "--interval", "1", "--top", "1000" };
	char cg[4096], rel[128];
	struct totals t;
	__u64 cgid;
	int k = 6, st;
	pid_t pid;

	lmp_test_require_root();
	for (int i = 0; extra && extra[i]; i++)
		args[k++] = extra[i];
	args[k] = NULL;
	snprintf(rel, sizeof(rel), "lmp-test/syscall-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	assert_true(lmp_test_agent_stderr_has(&a, attach_line));

	pid = spawn_caller(cg, n, nbad);
	assert_true(pid > 0);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* until the counts are in, then two more intervals: nothing may be added later */
	for (int i = 0; i < 20; i++) {
		lmp_test_agent_pump(&a, 500);
		sum_lines(&a, pid, cgid, &t);
		if (t.getppid >= n && t.close_calls >= nbad + 1)
			break;
	}
	lmp_test_agent_pump(&a, 2200);
	sum_lines(&a, pid, cgid, &t);

	assert_true(t.lines >= 1);
	assert_false(t.bad_fields);
	assert_int_equal(t.getppid, n);
	/* + 1: the close() of cgroup.procs, made after the write that moved the child */
	assert_int_equal(t.close_calls, nbad + 1);
	if (latency) {
		assert_int_equal(t.close_errors,
				 nbad); /* EBADF each time; the real close succeeds */
		assert_true(t.getppid_lat > 0);
		assert_true(t.getppid_lat < 0.01); /* a mean of 10 ms for getppid is not real */
	} else {
		assert_int_equal(t.close_errors, 0); /* not measured without the exit hook */
		assert_true(t.getppid_lat == 0);
	}
	/* the agent filters itself out (it makes many syscalls each interval) */
	{
		struct lmp_test_want self = { "syscall", "summary", a.pid };

		assert_true(a.pid > 0); /* pid 0 would match any line */
		assert_null(lmp_test_agent_wait(&a, 0, lmp_test_match_want, &self));
	}
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	assert_int_equal(a.bad_lines, 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

static void test_counts_tp_btf(void **state)
{
	run_workload(NULL, "probe syscall: attached (enter=tp_btf)", 20000, 0, false);
}

static void test_counts_raw_tp(void **state)
{
	run_workload((const char *const[]){ "--disable-hooks", "tp_btf", NULL },
		     "probe syscall: attached (enter=raw_tp)", 5000, 7, false);
}

static void test_counts_tracepoint(void **state)
{
	run_workload((const char *const[]){ "--disable-hooks", "tp_btf,raw_tp", NULL },
		     "probe syscall: attached (enter=tracepoint)", 5000, 7, false);
}

static void test_latency_tp_btf(void **state)
{
	run_workload((const char *const[]){ "--syscall-latency", NULL },
		     "probe syscall: attached (enter=tp_btf,exit=tp_btf)", 10000, 33, true);
}

static void test_latency_tracepoint(void **state)
{
	run_workload((const char *const[]){ "--syscall-latency", "--disable-hooks", "tp_btf,raw_tp",
					    NULL },
		     "probe syscall: attached (enter=tracepoint,exit=tracepoint)", 3000, 5, true);
}

/* the summary keeps only --top processes, each with only its --top syscalls */
static void test_top_limits(void **state)
{
	struct lmp_test_agent a;
	char cg[4096], rel[128];
	double group_interval = -1;
	long lines = 0, in_group = 0;
	size_t i;
	json_t *ev;
	__u64 cgid;
	pid_t pid;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/syscall-top-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", "syscall",
									 "--interval", "1", "--top",
									 "2", NULL }),
			 0);
	pid = spawn_caller(cg, 1000, 10);
	lmp_test_wait_child(pid);
	lmp_test_agent_pump(&a, 2500);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	json_array_foreach(a.events, i, ev) {
		json_t *sc = json_object_get(ev, "syscalls");
		double interval = json_number_value(json_object_get(ev, "interval_s"));

		if (strcmp(json_string_value(json_object_get(ev, "event")), "summary"))
			continue;
		lines++;
		assert_true(interval > 0);
		/* the lines of one drain share its interval_s: at most --top of them */
		in_group = interval == group_interval ? in_group + 1 : 1;
		group_interval = interval;
		assert_true(in_group <= 2);
		assert_true(json_array_size(sc) <= 2);
		assert_true(json_array_size(sc) >= 1);
		/* busiest first, and the total covers the calls not listed */
		for (size_t k = 1; k < json_array_size(sc); k++)
			assert_true(json_integer_value(
					    json_object_get(json_array_get(sc, k - 1), "count")) >=
				    json_integer_value(
					    json_object_get(json_array_get(sc, k), "count")));
		assert_true(json_integer_value(json_object_get(ev, "syscalls_total")) >=
			    json_integer_value(json_object_get(json_array_get(sc, 0), "count")));
		assert_true(json_integer_value(json_object_get(ev, "distinct_syscalls")) >=
			    (json_int_t)json_array_size(sc));
	}
	assert_true(lines >= 1);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

/* lmp_syscalls_total{syscall="getppid"} holds at least our calls (cgroups outside pods
 * share one series, so other processes may add to it) */
static void test_metrics(void **state)
{
	struct lmp_test_agent a;
	char cg[4096], rel[128], listen[64];
	double count;
	__u64 cgid;
	pid_t pid;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/syscall-metrics-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:0"); /* no clash with whatever listens */
	assert_int_equal(
		lmp_test_agent_start(&a, (const char *const[]){ "--probes", "syscall", "--interval",
								"1", "--listen", listen, NULL }),
		0);
	pid = spawn_caller(cg, 4321, 0);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
	lmp_test_agent_pump(&a, 2500);
	/* drains the agent's stdout while it scrapes: a blocked agent would never answer */
	count = lmp_test_metric(&a, "lmp_syscalls_total", "syscall=\"getppid\"", NULL);
	assert_true(count >= 4321);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

/* a failed assertion skips a test's own cleanup */
static int remove_leftovers(void **state)
{
	static const char *const names[] = { "syscall", "syscall-top", "syscall-metrics" };
	char path[4200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/lmp-test/%s-%d", lmp_test_cgroup2_root(), names[i],
			 getpid());
		lmp_test_cgroup_remove(path);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_tp_btf),
		cmocka_unit_test(test_counts_raw_tp),
		cmocka_unit_test(test_counts_tracepoint),
		cmocka_unit_test(test_latency_tp_btf),
		cmocka_unit_test(test_latency_tracepoint),
		cmocka_unit_test(test_top_limits),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests_name("syscall", tests, NULL, remove_leftovers);
}

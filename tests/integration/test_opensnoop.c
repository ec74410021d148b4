// SPDX-License-Identifier: Apache-2.0
/*
 * opensnoop against the real kernel: a process in a fresh cgroup creates a file with
 * open(2), opens it again with openat2(2) and RESOLVE_NO_SYMLINKS, and fails an openat(2)
 * with ENOENT; path, decoded flags, mode, fd and errno are checked against what it saw, and
 * the per-cgroup summary must count exactly those opens. Then an open storm through a 4 KiB
 * ring buffer: events are lost, but the loss is reported and the counts stay exact.
 * Finally the tp_btf and raw_tp fallbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

#define STORM 20000

static void opens_seen(struct lmp_test_agent *a, long summaries);

static struct lmp_test_fixture F = {
	.probe = "opensnoop",
	.args = (const char *const[]){ "--listen", "127.0.0.1:0", "--interval", "1", NULL },
	.tmpdir = true,
	.workload = opens_seen,
	.fallbacks = { { "tracepoint", "probe opensnoop: attached (enter=tp_btf,exit=tp_btf)" },
		       { "tracepoint,tp_btf",
			 "probe opensnoop: attached (enter=raw_tp,exit=raw_tp)" } },
};

struct seen {
	int fd_create, fd_openat2, err_missing;
};

struct open_arg {
	int pipe[2];
	char created[128], missing[128];
};

/* exactly three opens in this cgroup: the pipe was made before the fork */
static int opener(void *arg)
{
	struct open_arg *o = arg;
	struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS };
	struct seen s;

	s.fd_create = syscall(SYS_open, o->created, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (s.fd_create < 0)
		return 10;
	if (syscall(SYS_openat, AT_FDCWD, o->missing, O_RDONLY) >= 0)
		return 11;
	s.err_missing = errno;
	s.fd_openat2 = syscall(SYS_openat2, AT_FDCWD, o->created, &how, sizeof(how));
	if (s.fd_openat2 < 0)
		return 12;
	return write(o->pipe[1], &s, sizeof(s)) == sizeof(s) ? 0 : 13;
}

struct want_open {
	pid_t pid;
	const char *syscall, *path;
};

static bool match_open(json_t *ev, void *ctx)
{
	const struct want_open *w = ctx;
	struct lmp_test_fields f = { "opensnoop", "open", { "pid" }, { w->pid } };
	const char *sc = lmp_test_jstr(ev, "syscall"), *path = lmp_test_jstr(ev, "path");

	return lmp_test_match_fields(ev, &f) && sc && !strcmp(sc, w->syscall) && path &&
	       !strcmp(path, w->path);
}

/* the child's own open of cgroup.procs (joining the cgroup) is not one of these */
static json_t *wait_open(struct lmp_test_agent *a, pid_t pid, const char *syscall, const char *path,
			 int ms)
{
	struct want_open w = { pid, syscall, path };

	return lmp_test_agent_wait(a, ms, match_open, &w);
}

/* opens and failures in the cgroup's summaries, summed over the intervals seen so far */
static void summary_totals(struct lmp_test_agent *a, long long *opens, long long *failures)
{
	struct lmp_test_fields w = { "opensnoop", "summary", { "cgroup_id" }, { F.cgid } };
	json_t *ev;
	size_t i;

	*opens = *failures = 0;
	json_array_foreach(a->events, i, ev) {
		if (!lmp_test_match_fields(ev, &w))
			continue;
		*opens += lmp_test_jint(ev, "opens");
		*failures += lmp_test_jint(ev, "failures");
	}
}

static void wait_totals(struct lmp_test_agent *a, long long want_opens, long long *opens,
			long long *failures)
{
	for (int i = 0; i < 60; i++) {
		summary_totals(a, opens, failures);
		if (*opens >= want_opens)
			break;
		lmp_test_agent_pump(a, 100);
	}
	lmp_test_agent_pump(a, 1500); /* one more interval: nothing else may show up */
	summary_totals(a, opens, failures);
}

static void opens_seen(struct lmp_test_agent *a, long summaries)
{
	struct open_arg o;
	long long opens, failures;
	struct seen s;
	json_t *ev;
	pid_t pid;
	int st;

	snprintf(o.created, sizeof(o.created), "%s/created-%d", F.dir, getpid());
	snprintf(o.missing, sizeof(o.missing), "%s/missing-%d", F.dir, getpid());
	unlink(o.created);
	assert_int_equal(pipe(o.pipe), 0);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-opener", opener, &o);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(o.pipe[0], &s, sizeof(s)), sizeof(s));
	close(o.pipe[0]);
	close(o.pipe[1]);

	ev = wait_open(a, pid, "open", o.created, 5000);
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), F.cgid);
	assert_jstr(ev, "comm", "lmp-opener");
	assert_jstr(ev, "path", o.created);
	assert_jstr(ev, "flags", "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
	assert_jstr(ev, "mode", "0640");
	assert_int_equal(lmp_test_jint(ev, "fd"), s.fd_create);
	assert_true(json_is_null(lmp_test_jget(ev, "result")));
	assert_null(lmp_test_jget(ev, "dfd")); /* open(2) has none */

	ev = wait_open(a, pid, "openat", o.missing, 5000);
	assert_non_null(ev);
	assert_int_equal(s.err_missing, ENOENT);
	assert_jstr(ev, "path", o.missing);
	assert_jstr(ev, "flags", "O_RDONLY");
	assert_jstr(ev, "result", "ENOENT");
	assert_true(json_is_null(lmp_test_jget(ev, "fd")));
	assert_null(lmp_test_jget(ev, "mode"));
	assert_jstr(ev, "dfd", "AT_FDCWD");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), F.cgid);

	ev = wait_open(a, pid, "openat2", o.created, 5000);
	assert_non_null(ev);
	assert_jstr(ev, "path", o.created);
	assert_jstr(ev, "flags", "O_RDONLY");
	assert_jstr(ev, "resolve", "RESOLVE_NO_SYMLINKS");
	assert_int_equal(lmp_test_jint(ev, "fd"), s.fd_openat2);
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	if (!summaries)
		return;
	wait_totals(a, 3, &opens, &failures);
	assert_int_equal(opens, 3);
	assert_int_equal(failures, 1);
}

static void test_create_missing_and_openat2(void **state)
{
	opens_seen(&F.agent, true);
}

static int storm(void *arg)
{
	for (int i = 0; i < STORM; i++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0)
			return 10;
		close(fd);
	}
	return 0;
}

/* "probe opensnoop: N events lost (ring buffer full) in the last interval, M in all" */
static long long lost_in_all(struct lmp_test_agent *a)
{
	const char *p = a->errbuf, *hit = NULL;
	long long n = 0;

	while (p && (p = strstr(p, "probe opensnoop: "))) {
		hit = p;
		p++;
	}
	if (hit && (hit = strstr(hit, "in the last interval, ")))
		n = atoll(hit + strlen("in the last interval, "));
	return n;
}

static void test_open_storm_loss_is_counted(void **state)
{
	struct lmp_test_agent *a;
	struct lmp_test_fields w = { "opensnoop", "open", { "pid" } };
	long long opens, failures, seen = 0, lost;
	json_t *ev;
	size_t i;
	pid_t pid;
	int st;

	a = lmp_test_alt_start(
		&F, (const char *const[]){ "--interval", "1", "--ringbuf-kb", "4", NULL }, NULL,
		NULL);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-storm", storm, NULL);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the in-kernel counts do not go through the ring buffer: exact */
	wait_totals(a, STORM, &opens, &failures);
	assert_int_equal(opens, STORM);
	assert_int_equal(failures, 0);
	w.v[0] = pid;
	json_array_foreach(a->events, i, ev)
		seen += lmp_test_match_fields(ev, &w);
	lost = lost_in_all(a);
	print_message("storm: %d opens counted, %lld streamed, %lld lost (all probes' opens)\n",
		      STORM, seen, lost);
	/* 20000 records do not fit through 4 KiB: some were lost, and every one is counted
	 * (other processes' opens may be among the lost ones, hence >=) */
	assert_true(seen < STORM);
	assert_true(lost > 0);
	assert_true(seen + lost >= STORM);
	lmp_test_alt_stop(&F);
}

static void test_failed_only(void **state)
{
	struct lmp_test_agent *a;
	struct open_arg o;
	struct seen s;
	pid_t pid;

	a = lmp_test_alt_start(&F, (const char *const[]){ "--opensnoop-failed", NULL }, NULL, NULL);
	snprintf(o.created, sizeof(o.created), "%s/failed-only-%d", F.dir, getpid());
	snprintf(o.missing, sizeof(o.missing), "%s/missing-%d", F.dir, getpid());
	unlink(o.created);
	assert_int_equal(pipe(o.pipe), 0);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-opener", opener, &o);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
	assert_int_equal(read(o.pipe[0], &s, sizeof(s)), sizeof(s));
	close(o.pipe[0]);
	close(o.pipe[1]);
	assert_non_null(wait_open(a, pid, "openat", o.missing, 5000));
	/* the two successful opens are not streamed */
	assert_null(wait_open(a, pid, "open", o.created, 1000));
	assert_null(wait_open(a, pid, "openat2", o.created, 0));
	lmp_test_alt_stop(&F);
}

static void test_metrics(void **state)
{
	int port = lmp_test_agent_http_port(&F.agent);
	double opens, failures;

	assert_true(port > 0);
	/* non-pod cgroups share one series: at least the storm and the other opens; the agent
	 * may still be catching up on the storm's events, so give it a few intervals */
	for (int i = 0; i < 10; i++) {
		opens = lmp_test_metric(&F.agent, "lmp_opens_total", NULL, NULL);
		if (opens >= STORM + 3)
			break;
		lmp_test_agent_pump(&F.agent, 1000);
	}
	failures = lmp_test_metric(&F.agent, "lmp_open_failures_total", NULL, NULL);
	print_message("lmp_opens_total %g, lmp_open_failures_total %g\n", opens, failures);
	assert_true(opens >= STORM + 3);
	assert_true(failures >= 1 && failures <= opens);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_missing_and_openat2),
		cmocka_unit_test(test_open_storm_loss_is_counted),
		LMP_TEST_FALLBACK("test_tp_btf_path", 0),
		LMP_TEST_FALLBACK("test_raw_tp_path", 1),
		cmocka_unit_test(test_failed_only),
		cmocka_unit_test(test_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

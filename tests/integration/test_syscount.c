// SPDX-License-Identifier: Apache-2.0
/*
 * syscount against the real kernel: a process alone in a fresh cgroup makes N getppid()
 * calls and M open() calls that fail with ENOENT; the agent's summaries for that cgroup,
 * summed over intervals, must show exactly N getppid calls with a latency, M failed openat
 * calls and M ENOENT errors. Run once per working hook kind (tp_btf, raw_tp, tracepoint);
 * the per-pod metric families must appear on /metrics.
 *
 * Counting only (--syscount-latency=false), on each hook kind too: the same exact counts,
 * read with the syscall number taken at exit; no row has a latency field, the agent holds
 * the sys_exit program alone (no sys_enter program is loaded), and /metrics has
 * lmp_syscall_calls_total and lmp_syscall_errors_total but no lmp_syscall_latency_seconds.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "evchild.h"
#include "harness.h"
#include "probe_check.h"

struct tally {
	__u64 cgid;
	long getppid, getppid_errors, openat, openat_errors, enoent, other_errnos;
	double getppid_total_s, getppid_p50_s;
	int lines;
	int latency_fields; /* rows of our cgroup with any of total_s, avg_s, p50_s, p99_s */
};

static const char *const latency_keys[] = { "total_s", "avg_s", "p50_s", "p99_s" };

/* every summary line of our cgroup adds to the tally; never "matches", so all are read */
static bool add_summary(json_t *ev, void *ctx)
{
	struct tally *t = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	json_t *sc, *errnos, *v;
	const char *name;
	size_t i;

	if (!probe || strcmp(probe, "syscount") ||
	    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) != t->cgid)
		return false;
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "summary");
	t->lines++;
	json_array_foreach(json_object_get(ev, "syscalls"), i, sc) {
		name = json_string_value(json_object_get(sc, "syscall"));
		for (size_t k = 0; k < sizeof(latency_keys) / sizeof(latency_keys[0]); k++)
			if (json_object_get(sc, latency_keys[k])) {
				t->latency_fields++;
				break;
			}
		if (!strcmp(name, "getppid")) {
			assert_int_equal(json_integer_value(json_object_get(sc, "nr")),
					 SYS_getppid);
			t->getppid += json_integer_value(json_object_get(sc, "count"));
			t->getppid_errors += json_integer_value(json_object_get(sc, "errors"));
			t->getppid_total_s += json_number_value(json_object_get(sc, "total_s"));
			if (json_number_value(json_object_get(sc, "p50_s")) > t->getppid_p50_s)
				t->getppid_p50_s = json_number_value(json_object_get(sc, "p50_s"));
		} else if (!strcmp(name, "openat")) {
			t->openat += json_integer_value(json_object_get(sc, "count"));
			t->openat_errors += json_integer_value(json_object_get(sc, "errors"));
		}
	}
	errnos = json_object_get(ev, "errnos");
	assert_true(json_is_object(errnos));
	json_object_foreach(errnos, name, v) {
		if (!strcmp(name, "ENOENT"))
			t->enoent += json_integer_value(v);
		else
			t->other_errnos += json_integer_value(v);
	}
	return false;
}

/* fork a child that joins cgroup `path` and makes n getppid and m failing open calls */
static pid_t spawn_workload(const char *path, int n, int m)
{
	char procs[4200], missing[128], pid[16];
	pid_t child = fork();

	if (child != 0)
		return child;
	/* raw calls only between fork and _exit: nothing else may land in the cgroup */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	snprintf(pid, sizeof(pid), "%d", getpid());
	snprintf(missing, sizeof(missing), "/nonexistent-lmp-syscount-%d/file", getpid());
	int fd = open(procs, O_WRONLY);

	if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
		_exit(10);
	close(fd);
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	for (int i = 0; i < m; i++)
		if (open(missing, O_RDONLY) >= 0 || errno != ENOENT)
			_exit(11);
	_exit(0);
}

/*
 * The names of the programs the agent holds must be exactly `want` (the kernel keeps 15
 * characters of a name: "tp_btf_sys_enter" shows as "tp_btf_sys_ente").
 */
static void assert_progs(pid_t agent, const char *const *want, int nwant)
{
	__u32 ids[16];
	int n = lmp_test_bpf_ids(agent, "prog_id", ids, 16);

	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(ids[i]), found = 0;

		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		close(fd);
		for (int w = 0; w < nwant; w++)
			found |= !strncmp(info.name, want[w], sizeof(info.name) - 1);
		if (!found)
			fail_msg("the agent holds BPF program '%s', not expected", info.name);
	}
}

static void run_workload(const char *disable, bool latency, const char *attach_line, int n, int m)
{
	struct lmp_test_agent a;
	struct tally t = { 0 };
	char cg[4096], rel[128];
	const char *args[12] = { "--probes", "syscount", "--interval", "1", "--top", "1000" };
	const char *kind = !disable ? "tp_btf" : strchr(disable, ',') ? "tp" : "raw_tp";
	char enter[32], exit_prog[32];
	int na = 6, st;
	pid_t child;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/syscount-%d-%s%s", getpid(),
		 disable ? disable : "none", latency ? "" : "-count");
	for (char *c = rel; *c; c++)
		if (*c == ',')
			*c = '_';
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &t.cgid), 0);
	if (disable) {
		args[na++] = "--disable-hooks";
		args[na++] = disable;
	}
	if (!latency)
		args[na++] = "--syscount-latency=false";
	args[na] = NULL;
	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	assert_true(lmp_test_agent_stderr_has(&a, attach_line));
	/* what the kernel holds, not only what the agent says: enter loaded only with latency */
	snprintf(enter, sizeof(enter), "%s_sys_enter", kind);
	snprintf(exit_prog, sizeof(exit_prog), "%s_sys_exit", kind);
	if (latency)
		assert_progs(a.pid, (const char *const[]){ enter, exit_prog }, 2);
	else
		assert_progs(a.pid, (const char *const[]){ exit_prog }, 1);

	child = spawn_workload(cg, n, m);
	assert_true(child > 0);
	st = lmp_test_wait_child(child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* the calls may straddle interval ends: sum every line until all are in, then give
	 * a further interval so that a surplus (double counting) would show */
	for (int waited = 0; waited < 8000 && (t.getppid < n || t.enoent < m); waited += 500) {
		memset(&t.getppid, 0, sizeof(t) - offsetof(struct tally, getppid));
		lmp_test_agent_pump(&a, 500);
		lmp_test_agent_wait(&a, 0, add_summary, &t);
	}
	lmp_test_agent_pump(&a, 1500);
	memset(&t.getppid, 0, sizeof(t) - offsetof(struct tally, getppid));
	lmp_test_agent_wait(&a, 0, add_summary, &t);

	assert_true(t.lines >= 1);
	assert_int_equal(t.getppid, n);
	assert_int_equal(t.getppid_errors, 0);
	if (latency) {
		assert_true(t.getppid_total_s > 0);
		assert_true(t.getppid_total_s < 1.0 * n); /* getppid does not take a second */
		assert_true(t.getppid_p50_s > 0);
		assert_true(t.latency_fields > 0);
	} else {
		assert_int_equal(t.latency_fields, 0);
	}
	assert_int_equal(t.openat, m);
	assert_int_equal(t.openat_errors, m);
	assert_int_equal(t.enoent, m);
	assert_int_equal(t.other_errnos, 0);

	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 0);
	assert_int_equal(a.bad_lines, 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
}

static void test_tp_btf(void **state)
{
	run_workload(NULL, true, "probe syscount: attached (enter=tp_btf,exit=tp_btf)", 5000, 37);
}

static void test_raw_tp(void **state)
{
	run_workload("tp_btf", true, "probe syscount: attached (enter=raw_tp,exit=raw_tp)", 1000,
		     11);
}

static void test_tracepoint(void **state)
{
	run_workload("tp_btf,raw_tp", true,
		     "probe syscount: attached (enter=tracepoint,exit=tracepoint)", 1000, 11);
}

/* counting only: the number is read at exit, from pt_regs (tp_btf, raw_tp) or the
 * tracepoint's id, so each kind has its own path to check */
static void test_count_tp_btf(void **state)
{
	run_workload(NULL, false, "probe syscount: attached (exit=tp_btf)", 5000, 37);
}

static void test_count_raw_tp(void **state)
{
	run_workload("tp_btf", false, "probe syscount: attached (exit=raw_tp)", 1000, 11);
}

static void test_count_tracepoint(void **state)
{
	run_workload("tp_btf,raw_tp", false, "probe syscount: attached (exit=tracepoint)", 1000,
		     11);
}

/*
 * The families exist on /metrics and hold at least our calls (non-pod cgroups share one
 * series outside Kubernetes, so other processes may add to them). The per-pod call count is
 * the histogram's _count with latency, lmp_syscall_calls_total when counting only; each
 * mode exports the one and not the other.
 */
static struct lmp_test_agent metrics_agent;

static void check_metrics(bool latency)
{
	struct lmp_test_agent *a = &metrics_agent;
	char cg[4096], rel[128];
	const char *calls = latency ? "lmp_syscall_latency_seconds_count" :
				      "lmp_syscall_calls_total";
	double count, enoent, other_family;
	__u64 cgid;
	pid_t child;

	lmp_test_require_root();
	/* named so that remove_leftovers finds it when an assertion ends the test early */
	snprintf(rel, sizeof(rel), "lmp-test/syscount-%d-metrics-%d", getpid(), latency);
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	/* the default is latency: no flag then; port 0: no clash with whatever else listens */
	assert_int_equal(lmp_test_agent_start(
				 a,
				 (const char *const[]){ "--probes", "syscount", "--interval", "1",
							"--listen", "127.0.0.1:0",
							latency ? NULL : "--syscount-latency=false",
							NULL }),
			 0);
	assert_true(lmp_test_agent_http_port(a) > 0);
	child = spawn_workload(cg, 3000, 23);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(child)), 0);
	lmp_test_agent_pump(a, 2500);
	/* lmp_test_metric drains the agent's stdout while it scrapes: a busy host fills the
	 * pipe within an interval, and a blocked agent would never answer */
	count = lmp_test_metric(a, calls, "syscall=\"getppid\"", NULL);
	enoent = lmp_test_metric(a, "lmp_syscall_errors_total", "errno=\"ENOENT\"", NULL);
	other_family = lmp_test_metric(
		a, latency ? "lmp_syscall_calls_total" : "lmp_syscall_latency_seconds_count", NULL,
		NULL);
	assert_true(other_family < 0); /* no sample of the other family */
	assert_true(count >= 3000);
	assert_true(enoent >= 23);
	assert_true(lmp_test_agent_stop(a, 2000) >= 0);
	lmp_test_agent_free(a);
	lmp_test_cgroup_remove(cg);
}

static void test_metrics(void **state)
{
	check_metrics(true);
}

static void test_count_metrics(void **state)
{
	check_metrics(false);
}

/* --output text: the cgroup's summary line, then one line per syscall as syscount's table */
static void test_text_output(void **state)
{
	char cg[4096], rel[128], dir[] = "/tmp/lmp-syscount-text-XXXXXX", line[8192];
	char out[256], err[256], want[200];
	bool summary = false, row = false;
	__u64 cgid;
	FILE *f;
	pid_t child;
	int i;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/syscount-text-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &cgid), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	assert_int_equal(lmp_test_sh("%s run --listen none --probes syscount --output text "
				     "--interval 1 --duration 4 --top 1000 >%s 2>%s &",
				     lmp_test_binary(), out, err),
			 0);
	for (i = 0; i < 300 && lmp_test_sh("grep -q 'ready:' %s", err) != 0; i++)
		usleep(100 * 1000);
	assert_true(i < 300);
	child = spawn_workload(cg, 777, 5);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(child)), 0);
	for (i = 0; i < 100 && lmp_test_sh("grep -q 'stopping' %s", err) != 0; i++)
		usleep(100 * 1000);
	usleep(300 * 1000); /* the last summary, written on the way out */
	snprintf(want, sizeof(want), "/%s ", rel);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, want))
			continue;
		assert_int_equal(line[0] == '{', 0); /* text, not JSON */
		if (strstr(line, " syscount   summary ") && strstr(line, "errnos={ENOENT=5}"))
			summary = true;
		if (strstr(line, " syscount   syscall ") &&
		    strstr(line, " syscall=getppid nr=110 count=777 errors=0 "))
			row = true;
	}
	fclose(f);
	assert_true(summary);
	assert_true(row);
	lmp_test_sh("rm -rf %s", dir);
	lmp_test_cgroup_remove(cg);
}

static int remove_leftovers(void **state)
{
	lmp_test_agent_free(&metrics_agent); /* still running when an assertion failed */
	lmp_test_remove_probe_leftovers("syscount");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tp_btf),	      cmocka_unit_test(test_raw_tp),
		cmocka_unit_test(test_tracepoint),    cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_text_output),   cmocka_unit_test(test_count_tp_btf),
		cmocka_unit_test(test_count_raw_tp),  cmocka_unit_test(test_count_tracepoint),
		cmocka_unit_test(test_count_metrics),
	};

	return cmocka_run_group_tests_name("syscount", tests, NULL, remove_leftovers);
}

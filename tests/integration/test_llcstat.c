// SPDX-License-Identifier: Apache-2.0
/*
 * llcstat on a node without a PMU (these machines): `lmp probes` must report it unsupported
 * with the reason, and an agent asked for llcstat and process must run process and say why
 * llcstat is not running. The BPF side is still verified here: the same programs, through
 * the same attach code the probe uses, run on a software cpu-clock event instead of the
 * cache events, and the time a spinning process in a fresh cgroup spends on CPU must come
 * back as that cgroup's sample sums.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "lmp/llcstat.h"
#include "llcstat.skel.h"
#include "harness.h"
#include "probe_check.h"

static struct lmp_test_fixture F = { .probe = "llcstat" }; /* for its cgroup */

/* agent/probes/llcstat.c: the probe's own per-CPU attach, exported for this test */
int lmp_llcstat_open_events(struct bpf_program *prog, __u32 type, __u64 config, __u64 period,
			    struct bpf_link **links, size_t max, size_t *n);

static void test_probes_reports_unsupported(void **state)
{
	json_t *p, *h;
	size_t i;

	p = lmp_test_probe_listing("llcstat", "2>/dev/null");
	assert_string_equal(json_string_value(json_object_get(p, "state")), "unsupported");
	assert_non_null(strstr(json_string_value(json_object_get(p, "reason")),
			       "no hardware cache counters"));
	assert_true(json_is_null(json_object_get(p, "attach")) || !json_object_get(p, "attach"));
	assert_int_equal(json_array_size(json_object_get(p, "hooks")), 2);
	json_array_foreach(json_object_get(p, "hooks"), i, h) {
		assert_string_equal(json_string_value(json_object_get(h, "kind")), "perf_hw");
		assert_false(json_boolean_value(json_object_get(h, "chosen")));
	}
	json_decref(p);
}

static void test_agent_runs_without_it(void **state)
{
	struct lmp_test_agent a;
	char *argv[] = { "/bin/true", NULL };
	struct lmp_test_want exec = { "process", "exec", 0 };
	json_t *ev;

	lmp_test_require_root();
	assert_int_equal(lmp_test_agent_start(&a,
					      (const char *const[]){ "--probes", "llcstat,process",
								     "--interval", "1", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe llcstat: unsupported on this node: "));
	assert_true(lmp_test_agent_stderr_has(&a, "no hardware cache counters"));
	assert_true(lmp_test_agent_stderr_has(&a, "probe process: attached"));
	assert_true(lmp_test_agent_stderr_has(&a, "ready: 1 probes running"));
	exec.pid = lmp_test_spawn(NULL, argv);
	lmp_test_wait_child(exec.pid);
	ev = lmp_test_agent_wait(&a, 5000, lmp_test_match_want, &exec);
	assert_non_null(ev); /* the agent carries on with what it can run */
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 0);
	lmp_test_agent_free(&a);
}

/* a child in cgroup cg spinning until it has used ms of CPU; returns its CPU time in ns */
static __u64 spin_in(const char *cg, int ms)
{
	struct rusage ru;
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec t0, t;

		if (lmp_test_cgroup_join(cg) < 0)
			_exit(10);
		/* CPU-bound until it has had ms of CPU, however busy the machine is */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			for (volatile int i = 0; i < 100000; i++)
				;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		} while (t.tv_sec * 1000 + t.tv_nsec / 1000000 < ms);
		clock_gettime(CLOCK_MONOTONIC, &t);
		_exit(t.tv_sec - t0.tv_sec < 30 ? 0 : 12);
	}
	assert_true(pid > 0);
	assert_int_equal(wait4(pid, &st, 0, &ru), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void test_program_on_software_clock(void **state)
{
	const __u64 ref_period = 1000000, miss_period = 2000000; /* ns of cpu-clock */
	int ncpu = libbpf_num_possible_cpus();
	struct lmp_llcstat_val vals[ncpu > 0 ? ncpu : 1], sum = { 0 };
	struct bpf_link *links[2 * (ncpu > 0 ? ncpu : 1)];
	struct llcstat_bpf *skel;
	__u64 cpu_ns;
	size_t n = 0;

	lmp_test_require_root();
	assert_true(ncpu > 0);
	skel = llcstat_bpf__open_and_load();
	assert_non_null(skel); /* the verifier accepted both programs */
	assert_int_equal(lmp_llcstat_open_events(skel->progs.perf_event_llc_references,
						 PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
						 ref_period, links, 2 * ncpu, &n),
			 0);
	assert_int_equal(lmp_llcstat_open_events(skel->progs.perf_event_llc_misses,
						 PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
						 miss_period, links, 2 * ncpu, &n),
			 0);
	assert_true(n >= 2);

	cpu_ns = spin_in(F.cg, 500);
	assert_true(cpu_ns >= 500000000ULL);

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &F.cgid, vals), 0);
	for (int c = 0; c < ncpu; c++) {
		sum.references += vals[c].references;
		sum.misses += vals[c].misses;
	}
	/* every sample adds its period, so the sums estimate the cgroup's CPU time (sampling
	 * error: a period per CPU, and exec/exit slices the rusage and the clock see apart) */
	print_message("cpu %llu ns, references %llu, misses %llu\n", (unsigned long long)cpu_ns,
		      (unsigned long long)sum.references, (unsigned long long)sum.misses);
	assert_true(sum.references >= cpu_ns / 2 && sum.references <= cpu_ns * 3 / 2);
	assert_true(sum.misses >= cpu_ns / 2 && sum.misses <= cpu_ns * 3 / 2);
	assert_int_equal(sum.references % ref_period, 0);
	assert_int_equal(sum.misses % miss_period, 0);

	for (size_t i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	llcstat_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_reports_unsupported),
		cmocka_unit_test(test_agent_runs_without_it),
		cmocka_unit_test(test_program_on_software_clock),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * runqlat against the real kernel. In cgroup "busy" a spinner and a sleeper share one CPU
 * (sched_setaffinity): the sleeper wakes K times and each time must wait for the CPU, so the
 * cgroup's histogram holds at least K samples with a nonzero sum. In cgroup "quiet" a process
 * sleeps on a pipe for the whole run: its histogram must stay empty. Run for each hook kind,
 * and on tp_btf with the 5.10 storage (an LRU hash by thread id instead of task storage).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "evchild.h"
#include "harness.h"
#include "probe_check.h"

#define WAKEUPS 50

/* what a failed assertion leaves running; the teardown stops it */
static struct lmp_test_agent agent;
static pid_t quiet = -1;
static int hold = -1;

static int pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* pinned to CPU 0: a spinner, and a sleeper that wakes WAKEUPS times beside it */
static int busy_fn(void *arg)
{
	struct timespec ms = { 0, 1000000 };
	pid_t spinner;

	if (pin_to_cpu0() < 0)
		return 10;
	spinner = fork();
	if (spinner == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the sleeper */
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	if (spinner < 0)
		return 11;
	for (int i = 0; i < WAKEUPS; i++)
		nanosleep(&ms, NULL);
	kill(spinner, SIGKILL);
	waitpid(spinner, NULL, 0);
	return 0;
}

struct quiet_fds {
	int p[2], ready[2];
};

/* asleep on a pipe until the test closes its end: never woken meanwhile */
static int quiet_fn(void *arg)
{
	struct quiet_fds *f = arg;
	char c;

	close(f->p[1]);
	close(f->ready[0]);
	close(f->ready[1]); /* it has joined its cgroup */
	return read(f->p[0], &c, 1) == 0 ? 0 : 12;
}

static pid_t spawn_quiet(const char *cg, int *hold)
{
	struct quiet_fds f;
	pid_t child;
	char c;

	assert_int_equal(pipe2(f.p, O_CLOEXEC), 0); /* not held open by the agent */
	assert_int_equal(pipe(f.ready), 0);
	child = lmp_test_fork_in(cg, NULL, "rq-quiet", quiet_fn, &f);
	assert_true(child > 0);
	close(f.p[0]);
	close(f.ready[1]);
	assert_int_equal(read(f.ready[0], &c, 1), 0);
	close(f.ready[0]);
	*hold = f.p[1];
	return child;
}

/* the type of the agent's map named enq_ns (the enqueue times), -1 when it has none */
static int enq_map_type(pid_t agent_pid)
{
	__u32 ids[256];
	int n = lmp_test_bpf_ids(agent_pid, "map_id", ids, 256), type = -1;

	for (int i = 0; i < n && type < 0; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "enq_ns"))
			type = info.type;
		close(fd);
	}
	return type;
}

struct tally {
	__u64 cg_busy, cg_quiet;
	long samples, quiet_lines;
	double max_avg;
};

static bool add(json_t *ev, void *ctx)
{
	struct tally *t = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	__u64 cg = json_integer_value(json_object_get(ev, "cgroup_id"));
	long in_hist = 0, samples;
	const char *range;
	double avg;
	json_t *n;

	if (!probe || strcmp(probe, "runqlat"))
		return false;
	if (cg == t->cg_quiet)
		t->quiet_lines++;
	if (cg != t->cg_busy)
		return false;
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "summary");
	samples = json_integer_value(json_object_get(ev, "samples"));
	t->samples += samples;
	json_object_foreach(json_object_get(ev, "latency_hist_ns"), range, n)
		in_hist += json_integer_value(n);
	assert_int_equal(in_hist, samples);
	avg = json_number_value(json_object_get(ev, "avg_s"));
	if (avg > t->max_avg)
		t->max_avg = avg;
	return false;
}

static void run(const char *disable, const char *attach_line, int enq_type)
{
	const char *args[14] = { "--probes", "runqlat", "--interval", "1",
				 "--top",    "1000",	"--listen",   "127.0.0.1:0" };
	char cg_busy[4096], cg_quiet[4096], rel[160];
	struct lmp_test_agent *a = &agent;
	struct tally t = { 0 };
	int na = 8, st;
	pid_t busy;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/runqlat-%d-%s/busy", getpid(),
		 disable			? disable :
		 getenv("LMP_SYS_TASK_STORAGE") ? "hash" :
						  "none");
	assert_int_equal(lmp_test_cgroup_create(rel, cg_busy, sizeof(cg_busy), &t.cg_busy), 0);
	strcpy(strrchr(rel, '/'), "/quiet");
	assert_int_equal(lmp_test_cgroup_create(rel, cg_quiet, sizeof(cg_quiet), &t.cg_quiet), 0);
	quiet = spawn_quiet(cg_quiet, &hold);
	if (disable) {
		args[na++] = "--disable-hooks";
		args[na++] = disable;
	}
	args[na] = NULL;
	assert_int_equal(lmp_test_agent_start(a, args), 0);
	assert_true(lmp_test_agent_stderr_has(a, attach_line));
	assert_int_equal(enq_map_type(a->pid), enq_type);

	busy = lmp_test_fork_in(cg_busy, NULL, "rq-busy", busy_fn, NULL);
	assert_true(busy > 0);
	st = lmp_test_wait_child(busy);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (int waited = 0; waited < 5000 && t.samples < WAKEUPS; waited += 500) {
		memset(&t.samples, 0, sizeof(t) - offsetof(struct tally, samples));
		lmp_test_agent_pump(a, 500);
		lmp_test_agent_wait(a, 0, add, &t);
	}
	lmp_test_agent_pump(a, 1200); /* one more interval: nothing late for quiet either */
	memset(&t.samples, 0, sizeof(t) - offsetof(struct tally, samples));
	lmp_test_agent_wait(a, 0, add, &t);
	print_message("busy: %ld samples, largest mean %g s\n", t.samples, t.max_avg);
	assert_true(t.samples >= WAKEUPS);
	assert_true(t.max_avg > 0);
	assert_int_equal(t.quiet_lines, 0);
	/* every cgroup outside a pod shares one series: at least the busy cgroup's samples */
	assert_true(lmp_test_metric(a, "lmp_run_queue_latency_seconds_count", NULL, NULL) >=
		    WAKEUPS);

	close(hold);
	hold = -1;
	st = lmp_test_wait_child(quiet);
	quiet = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(lmp_test_agent_stop(a, 2000) >= 0);
	assert_int_equal(WEXITSTATUS(a->status), 0);
	assert_int_equal(a->bad_lines, 0);
	lmp_test_agent_free(a);
	lmp_test_cgroup_remove(cg_busy);
	lmp_test_cgroup_remove(cg_quiet);
}

static void test_tp_btf(void **state)
{
	bool storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1; /* 5.11+ */

	run(NULL, "probe runqlat: attached (wakeup=tp_btf,wakeup_new=tp_btf,switch=tp_btf)",
	    storage ? BPF_MAP_TYPE_TASK_STORAGE : BPF_MAP_TYPE_LRU_HASH);
}

/* the 5.10 path (no task storage for tracing programs) on this kernel */
static void test_tp_btf_without_task_storage(void **state)
{
	setenv("LMP_SYS_TASK_STORAGE", "0", 1);
	run(NULL, "probe runqlat: attached (wakeup=tp_btf,wakeup_new=tp_btf,switch=tp_btf)",
	    BPF_MAP_TYPE_LRU_HASH);
}

/* raw_tp arguments are not BTF pointers: the hash by thread id whatever the kernel has */
static void test_raw_tp(void **state)
{
	run("tp_btf", "probe runqlat: attached (wakeup=raw_tp,wakeup_new=raw_tp,switch=raw_tp)",
	    BPF_MAP_TYPE_LRU_HASH);
}

static int teardown(void **state)
{
	unsetenv("LMP_SYS_TASK_STORAGE");
	lmp_test_agent_free(&agent);
	if (hold >= 0)
		close(hold);
	if (quiet > 0) {
		kill(quiet, SIGKILL);
		waitpid(quiet, NULL, 0);
	}
	hold = quiet = -1;
	lmp_test_remove_probe_leftovers("runqlat");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_tp_btf, teardown),
		cmocka_unit_test_teardown(test_tp_btf_without_task_storage, teardown),
		cmocka_unit_test_teardown(test_raw_tp, teardown),
	};

	return cmocka_run_group_tests_name("runqlat", tests, NULL, NULL);
}

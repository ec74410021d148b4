// SPDX-License-Identifier: Apache-2.0
/*
 * memleak probe against the real kernel. This binary re-executed as a child in a fresh
 * cgroup leaks known blocks from known functions (malloc, calloc, posix_memalign, realloc)
 * and allocates-and-frees others; the agent must report each leaking function's stack with
 * exactly the leaked bytes and count, and nothing for the function that freed everything.
 * Once by --memleak-pid, once by --memleak-cgroup (the child arriving after the agent, with
 * kernel allocations on). Also the ways the probe declines to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#define LEAKS 16
#define LEAK_SIZE 4000
#define CALLOCS 3
#define CALLOC_N 4
#define CALLOC_SIZE 250
#define MEMALIGNS 2
#define MEMALIGN_SIZE 512
#define REALLOC_SIZE 5000

#define FP __attribute__((noinline, optimize("no-omit-frame-pointer")))

static char self_exe[PATH_MAX];
static void *volatile kept[64];
static int n_kept;

#ifdef __SANITIZE_ADDRESS__
/*
 * SANITIZE=address: ASan's allocator stands in for malloc and friends in this binary and
 * never calls libc's, which is what memleak probes. The workload below calls libc's own.
 */
#include <dlfcn.h>
static void *libc_fn(const char *name)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	return h ? dlsym(h, name) : NULL;
}
#define malloc(n) ((void *(*)(size_t))libc_fn("malloc"))(n)
#define calloc(n, s) ((void *(*)(size_t, size_t))libc_fn("calloc"))(n, s)
#define realloc(p, n) ((void *(*)(void *, size_t))libc_fn("realloc"))(p, n)
#define free(p) ((void (*)(void *))libc_fn("free"))(p)
#define posix_memalign(p, a, n) \
	((int (*)(void **, size_t, size_t))libc_fn("posix_memalign"))(p, a, n)
#define aligned_alloc(a, n) ((void *(*)(size_t, size_t))libc_fn("aligned_alloc"))(a, n)
#endif

/* frame pointers all the way from main, so every call of one function unwinds the same */
FP void lmp_memleak_leak_malloc(void)
{
	for (int i = 0; i < LEAKS; i++) {
		char *p = malloc(LEAK_SIZE);

		p[0] = (char)i;
		kept[n_kept++] = p;
	}
}

FP void lmp_memleak_leak_calloc(void)
{
	for (int i = 0; i < CALLOCS; i++)
		kept[n_kept++] = calloc(CALLOC_N, CALLOC_SIZE);
}

FP void lmp_memleak_leak_memalign(void)
{
	for (int i = 0; i < MEMALIGNS; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, MEMALIGN_SIZE) == 0)
			kept[n_kept++] = p;
	}
}

/* the 100-byte block is freed by realloc; only the 5000 bytes remain */
FP void lmp_memleak_leak_realloc(void)
{
	char *p = malloc(100);

	p[0] = 1;
	p = realloc(p, REALLOC_SIZE);
	kept[n_kept++] = p;
}

/* allocates with every function of the family and frees it all */
FP void lmp_memleak_churn(void)
{
	for (int i = 0; i < 50; i++) {
		char *p = malloc(3000), *q = calloc(10, 100), *r = malloc(10);
		void *a = NULL, *b = aligned_alloc(64, 256);

		p[0] = q[0] = 1;
		r = realloc(r, 2000);
		if (posix_memalign(&a, 128, 300) == 0)
			free(a);
		free(b);
		free(r);
		free(q);
		free(p);
	}
}

#ifdef __SANITIZE_ADDRESS__
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef posix_memalign
#undef aligned_alloc
#endif

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

FP static int child_main(const char *go, const char *done)
{
	int fd;

	for (int i = 0; i < 3000 && !exists(go); i++)
		usleep(10000);
	lmp_memleak_leak_malloc();
	lmp_memleak_leak_calloc();
	lmp_memleak_leak_memalign();
	lmp_memleak_leak_realloc();
	lmp_memleak_churn();
	fd = open(done, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	for (;;) /* alive until killed: a dead process's memory is no leak */
		pause();
	return 0;
}

static double ts_seconds(json_t *ev)
{
	const char *ts = json_string_value(json_object_get(ev, "ts"));
	int h, m;
	double s;

	if (!ts || sscanf(ts + 11, "%d:%d:%lf", &h, &m, &s) != 3)
		return 0;
	return h * 3600 + m * 60 + s;
}

static const char *top_fn(json_t *ev, char *buf, size_t len)
{
	const char *f = json_string_value(json_array_get(json_object_get(ev, "stack"), 0));

	snprintf(buf, len, "%.*s", f ? (int)strcspn(f, "+") : 0, f ? f : "");
	return buf;
}

struct totals {
	__u64 bytes, count;
};

/* the last interval's user rows of the child, summed by top function */
static void sum_last_interval(struct lmp_test_agent *a, pid_t child, __u64 cgid, const char *fn,
			      struct totals *t)
{
	double last = 0;
	char buf[128];

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < json_array_size(a->events); i++) {
		json_t *ev = json_array_get(a->events, i);

		if (json_integer_value(json_object_get(ev, "pid")) == child &&
		    ts_seconds(ev) > last)
			last = ts_seconds(ev);
	}
	for (size_t i = 0; i < json_array_size(a->events); i++) {
		json_t *ev = json_array_get(a->events, i);
		const char *probe = json_string_value(json_object_get(ev, "probe"));
		const char *alloc = json_string_value(json_object_get(ev, "allocator"));

		if (!probe || strcmp(probe, "memleak") != 0 || !alloc || strcmp(alloc, "user") ||
		    json_integer_value(json_object_get(ev, "pid")) != child ||
		    ts_seconds(ev) < last - 0.5)
			continue;
		assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), cgid);
		assert_string_equal(json_string_value(json_object_get(ev, "event")), "outstanding");
		if (strcmp(top_fn(ev, buf, sizeof(buf)), fn) != 0)
			continue;
		t->bytes += json_integer_value(json_object_get(ev, "outstanding_bytes"));
		t->count += json_integer_value(json_object_get(ev, "allocations"));
	}
}

static void check_leaks(struct lmp_test_agent *a, pid_t child, __u64 cgid)
{
	struct totals t;

	sum_last_interval(a, child, cgid, "lmp_memleak_leak_malloc", &t);
	assert_int_equal(t.bytes, LEAKS * LEAK_SIZE);
	assert_int_equal(t.count, LEAKS);
	sum_last_interval(a, child, cgid, "lmp_memleak_leak_calloc", &t);
	assert_int_equal(t.bytes, CALLOCS * CALLOC_N * CALLOC_SIZE);
	assert_int_equal(t.count, CALLOCS);
	sum_last_interval(a, child, cgid, "lmp_memleak_leak_memalign", &t);
	assert_int_equal(t.bytes, MEMALIGNS * MEMALIGN_SIZE);
	assert_int_equal(t.count, MEMALIGNS);
	sum_last_interval(a, child, cgid, "lmp_memleak_leak_realloc", &t);
	assert_int_equal(t.bytes, REALLOC_SIZE);
	assert_int_equal(t.count, 1);
	sum_last_interval(a, child, cgid, "lmp_memleak_churn", &t);
	assert_int_equal(t.bytes, 0); /* everything it allocated, it freed */
	assert_int_equal(t.count, 0);
}

struct run {
	char rel[128], cg[4096], go[64], done[64];
	__u64 cgid;
	pid_t child;
	struct lmp_test_agent agent;
};

static void run_setup(struct run *r, const char *tag)
{
	snprintf(r->rel, sizeof(r->rel), "lmp-test/memleak-%s-%d", tag, getpid());
	assert_int_equal(lmp_test_cgroup_create(r->rel, r->cg, sizeof(r->cg), &r->cgid), 0);
	snprintf(r->go, sizeof(r->go), "/tmp/lmp-memleak-go-%s-%d", tag, getpid());
	snprintf(r->done, sizeof(r->done), "/tmp/lmp-memleak-done-%s-%d", tag, getpid());
	unlink(r->go);
	unlink(r->done);
}

static void run_child(struct run *r)
{
	char *argv[] = { self_exe, "--child", r->go, r->done, NULL };

	r->child = lmp_test_spawn(r->cg, argv);
	assert_true(r->child > 0);
}

/* let the child do its allocations, then two intervals pass and the agent stops */
static void run_go_and_stop(struct run *r, struct lmp_test_agent *a)
{
	int fd = open(r->go, O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	close(fd);
	for (int i = 0; i < 500 && !exists(r->done); i++)
		lmp_test_agent_pump(a, 20);
	assert_true(exists(r->done));
	lmp_test_agent_pump(a, 2500);
	assert_true(lmp_test_agent_stop(a, 2000) >= 0);
}

/* cmocka teardown: runs even when an assertion failed mid-test */
static int run_teardown(void **state)
{
	struct run *r = *state;

	if (r->child > 0) {
		kill(r->child, SIGKILL);
		lmp_test_wait_child(r->child);
	}
	lmp_test_agent_free(&r->agent);
	unlink(r->go);
	unlink(r->done);
	lmp_test_cgroup_remove(r->cg);
	free(r);
	return 0;
}

static int run_alloc(void **state)
{
	struct run *r = calloc(1, sizeof(*r));

	*state = r;
	return r ? 0 : -1;
}

static void test_pid_leaks_by_function(void **state)
{
	struct run *r = *state;
	char pidbuf[16];

	lmp_test_require_root();
	run_setup(r, "pid");
	run_child(r);
	snprintf(pidbuf, sizeof(pidbuf), "%d", r->child);
	assert_int_equal(lmp_test_agent_start(
				 &r->agent,
				 (const char *const[]){ "--probes", "memleak", "--interval", "1",
							"--top", "50", "--memleak-pid", pidbuf,
							"--memleak-kernel=false", NULL }),
			 0);
	/* uprobe_multi links where the kernel has them (6.6+), perf-event uprobes before */
	assert_true(lmp_test_agent_stderr_has(&r->agent,
					      "probe memleak: attached (user=uprobe_multi)") ||
		    lmp_test_agent_stderr_has(&r->agent, "probe memleak: attached (user=uprobe)"));
	run_go_and_stop(r, &r->agent);
	check_leaks(&r->agent, r->child, r->cgid);
}

static bool is_kernel_row_of(json_t *ev, __u64 cgid)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *alloc = json_string_value(json_object_get(ev, "allocator"));
	const char *top = json_string_value(json_array_get(json_object_get(ev, "stack"), 0));

	return probe && strcmp(probe, "memleak") == 0 && alloc && strcmp(alloc, "user") != 0 &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == cgid && top &&
	       !strstr(top, "bpf") &&
	       json_integer_value(json_object_get(ev, "outstanding_bytes")) > 0;
}

static void test_cgroup_leaks_and_kernel_allocations(void **state)
{
	struct run *r = *state;
	struct lmp_test_agent *a = &r->agent;
	bool kernel_row = false;

	lmp_test_require_root();
	run_setup(r, "cg");
	/* the cgroup is empty when the agent starts: the child is found by the rescan */
	assert_int_equal(lmp_test_agent_start(a, (const char *const[]){ "--probes", "memleak",
									"--interval", "1", "--top",
									"50", "--memleak-cgroup",
									r->rel, NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(
			    a, "probe memleak: attached (user=uprobe_multi,kernel=tp_btf)") ||
		    lmp_test_agent_stderr_has(
			    a, "probe memleak: attached (user=uprobe,kernel=tp_btf)"));
	assert_false(lmp_test_agent_stderr_has(a, "tracing allocations of"));
	run_child(r);
	for (int i = 0; i < 150 && !lmp_test_agent_stderr_has(a, "tracing allocations of 1 new");
	     i++)
		lmp_test_agent_pump(a, 20);
	assert_true(lmp_test_agent_stderr_has(a, "tracing allocations of 1 new process"));
	run_go_and_stop(r, a);
	check_leaks(a, r->child, r->cgid);
	/* the child made files and page tables: kernel objects charged to its cgroup */
	for (size_t i = 0; i < json_array_size(a->events); i++)
		kernel_row = kernel_row || is_kernel_row_of(json_array_get(a->events, i), r->cgid);
	assert_true(kernel_row);
}

/* the probe declines with a reason; the process probe keeps the agent running */
static void expect_declined(const char *const *args, const char *why)
{
	struct lmp_test_agent a;

	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	assert_true(lmp_test_agent_stderr_has(&a, why));
	assert_false(lmp_test_agent_stderr_has(&a, "probe memleak: attached"));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

static void test_declines_without_or_with_bad_target(void **state)
{
	lmp_test_require_root();
	expect_declined((const char *const[]){ "--probes", "memleak,process", NULL },
			"not configured: set --memleak-pid PID or --memleak-cgroup PATH");
	expect_declined((const char *const[]){ "--probes", "memleak,process", "--memleak-pid", "1",
					       "--memleak-cgroup", "x", NULL },
			"--memleak-pid and --memleak-cgroup are exclusive");
	expect_declined((const char *const[]){ "--probes", "memleak,process", "--memleak-pid",
					       "4194000", NULL },
			"--memleak-pid 4194000: no such process");
	expect_declined((const char *const[]){ "--probes", "memleak,process", "--memleak-cgroup",
					       "lmp-test/does-not-exist", NULL },
			"not a cgroup v2 directory");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pid_leaks_by_function, run_alloc,
						run_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_leaks_and_kernel_allocations, run_alloc,
						run_teardown),
		cmocka_unit_test(test_declines_without_or_with_bad_target),
	};
	ssize_t n;

	if (argc > 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3]);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

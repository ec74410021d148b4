// SPDX-License-Identifier: Apache-2.0
/*
 * biostacks probe against the real kernel: a loop device of our own, and this binary
 * re-executed as a child in a fresh cgroup that reads it with O_DIRECT, N blocks. The
 * agent must report, for that cgroup, that process and that disk, stacks through the
 * block layer's submit path that add up to the N requests, with their latency histogram.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "harness.h"

#define READS 32
#define BLOCK 4096

static char self_exe[PATH_MAX];

/* child: N O_DIRECT reads of distinct blocks, each its own request */
static int child_io(const char *dev, int n)
{
	void *buf;
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0 || posix_memalign(&buf, BLOCK, BLOCK) != 0)
		return 2;
	for (int i = 0; i < n; i++)
		if (pread(fd, buf, BLOCK, (off_t)i * BLOCK) != BLOCK)
			return 3;
	close(fd);
	free(buf);
	return 0;
}

static const char *const submit_fns[] = {
	"submit_bio",	"submit_bio_noacct", "submit_bio_noacct_nocheck",
	"__submit_bio", "blk_mq_submit_bio", "submit_bio_wait"
};

static bool has_submit_frame(json_t *stack)
{
	for (size_t i = 0; i < json_array_size(stack); i++) {
		const char *f = json_string_value(json_array_get(stack, i));

		for (size_t k = 0; f && k < sizeof(submit_fns) / sizeof(submit_fns[0]); k++) {
			size_t n = strlen(submit_fns[k]);

			if (strncmp(f, submit_fns[k], n) == 0 && f[n] == '+')
				return true;
		}
	}
	return false;
}

struct want {
	__u64 cgid;
	pid_t pid;
	char dev[32], disk[32];
	__u64 count;
	json_t *rows;
};

static bool match_rows(json_t *ev, void *ctx)
{
	struct want *w = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *disk = json_string_value(json_object_get(ev, "disk"));

	if (!probe || strcmp(probe, "biostacks") != 0 || !disk || strcmp(disk, w->disk) != 0 ||
	    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) != w->cgid)
		return false;
	json_array_append(w->rows, ev);
	if (has_submit_frame(json_object_get(ev, "kernel_stack")))
		w->count += json_integer_value(json_object_get(ev, "count"));
	return w->count >= READS;
}

static void test_direct_io_stacks_in_cgroup(void **state)
{
	char rel[128], cg[4096], img[64], loopdev[64] = "", nbuf[16], comm[16], cmd[256];
	struct want w = { .rows = json_array() };
	char *argv[] = { self_exe, "--io", loopdev, nbuf, NULL };
	struct lmp_test_agent a;
	struct stat st;
	FILE *f;
	pid_t child;
	int status;

	lmp_test_require_root();
	snprintf(img, sizeof(img), "/tmp/lmp-biostacks-%d.img", getpid());
	assert_int_equal(lmp_test_sh("truncate -s 4M %s", img), 0);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s", img);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(loopdev, sizeof(loopdev), f));
	pclose(f);
	loopdev[strcspn(loopdev, "\n")] = 0;
	assert_int_equal(stat(loopdev, &st), 0);
	snprintf(w.dev, sizeof(w.dev), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	snprintf(w.disk, sizeof(w.disk), "%s", strrchr(loopdev, '/') + 1);
	snprintf(nbuf, sizeof(nbuf), "%d", READS);

	snprintf(rel, sizeof(rel), "lmp-test/biostacks-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &w.cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", "biostacks",
									 "--interval", "1", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe biostacks: attached (start=tp_btf"));
	child = lmp_test_spawn(cg, argv);
	assert_true(child > 0);
	w.pid = child;
	status = lmp_test_wait_child(child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_non_null(lmp_test_agent_wait(&a, 6000, match_rows, &w));
	/* O_DIRECT reads of distinct 4 KiB blocks, one at a time: one request each, no merges,
	 * and nobody else in this cgroup touches this loop device */
	assert_int_equal(w.count, READS);
	snprintf(comm, sizeof(comm), "%s", strrchr(self_exe, '/') + 1);
	for (size_t i = 0; i < json_array_size(w.rows); i++) {
		json_t *ev = json_array_get(w.rows, i),
		       *hist = json_object_get(ev, "latency_hist_ns");
		json_t *stack = json_object_get(ev, "kernel_stack");
		const char *top = json_string_value(json_array_get(stack, 0));
		__u64 count = json_integer_value(json_object_get(ev, "count")), in_hist = 0;
		const char *bucket;
		json_t *n;

		assert_string_equal(json_string_value(json_object_get(ev, "event")), "stack");
		assert_int_equal(json_integer_value(json_object_get(ev, "pid")), child);
		assert_string_equal(json_string_value(json_object_get(ev, "comm")), comm);
		assert_string_equal(json_string_value(json_object_get(ev, "dev")), w.dev);
		assert_true(has_submit_frame(stack));
		/* the stack starts in the block layer, not in the BPF machinery that took it */
		assert_non_null(top);
		assert_null(strstr(top, "bpf"));
		json_object_foreach(hist, bucket, n)
			in_hist += json_integer_value(n);
		assert_int_equal(in_hist, count);
		assert_true(json_integer_value(json_object_get(ev, "total_ns")) > 0);
		assert_true(json_integer_value(json_object_get(ev, "p50_ns")) > 0);
	}
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	json_decref(w.rows);
	lmp_test_sh("losetup -d %s", loopdev);
	unlink(img);
	lmp_test_cgroup_remove(cg);
}

/* group teardown: the loop device, its image and the cgroup, even after a failed assertion */
static int cleanup(void **state)
{
	char img[64], cg[4096];

	snprintf(img, sizeof(img), "/tmp/lmp-biostacks-%d.img", getpid());
	lmp_test_sh("for d in $(losetup -j %s | cut -d: -f1); do losetup -d $d; done; rm -f %s",
		    img, img);
	snprintf(cg, sizeof(cg), "%s/lmp-test/biostacks-%d", lmp_test_cgroup2_root(), getpid());
	lmp_test_cgroup_remove(cg);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_io_stacks_in_cgroup),
	};
	ssize_t n;

	if (argc > 3 && strcmp(argv[1], "--io") == 0)
		return child_io(argv[2], atoi(argv[3]));
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = 0;
	return cmocka_run_group_tests(tests, NULL, cleanup);
}

// SPDX-License-Identifier: Apache-2.0
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "blkio_workload.h"
#include "probe_check.h"
#include "harness.h"

static const char *tag;

int lmp_test_bio_run(const char *t, const struct CMUnitTest *tests, size_t n)
{
	tag = t;
	return _cmocka_run_group_tests(t, tests, n, NULL, NULL);
}

int lmp_test_bio_setup(void **state)
{
	static struct lmp_test_bio_fixture f;
	char rel[128];

	lmp_test_require_root();
	memset(&f, 0, sizeof(f));
	if (lmp_test_loop_create(&f.loop, tag, LMP_BIO_DEV_MIB) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "lmp-test/%s-%d", tag, getpid());
	if (lmp_test_cgroup_create(rel, f.cg, sizeof(f.cg), &f.cgid) < 0) {
		lmp_test_loop_destroy(&f.loop);
		return -1;
	}
	*state = &f;
	return 0;
}

int lmp_test_bio_teardown(void **state)
{
	struct lmp_test_bio_fixture *f = *state;

	if (f->agent_started)
		lmp_test_agent_free(&f->agent);
	f->agent_started = false;
	lmp_test_cgroup_remove(f->cg);
	lmp_test_loop_destroy(&f->loop);
	return 0;
}

int lmp_test_loop_create(struct lmp_test_loop *l, const char *tag, unsigned mib)
{
	struct stat st;
	char cmd[512];
	FILE *p;
	int fd;

	memset(l, 0, sizeof(*l));
	snprintf(l->img, sizeof(l->img), "/tmp/lmp-test-%s-%d.img", tag, getpid());
	fd = open(l->img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)mib << 20) < 0) {
		fprintf(stderr, "blkio_workload: %s: %s\n", l->img, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(l->img);
		return -1;
	}
	close(fd);
	/* other tests attach loop devices at the same time: losetup -f can lose a race */
	for (int attempt = 0; attempt < 5 && !l->dev[0]; attempt++) {
		snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>/dev/null", l->img);
		p = popen(cmd, "r");
		if (p && fgets(l->dev, sizeof(l->dev), p))
			l->dev[strcspn(l->dev, "\n")] = 0;
		if (p)
			pclose(p);
		if (!l->dev[0])
			usleep(100000);
	}
	if (!l->dev[0] || stat(l->dev, &st) < 0 || !S_ISBLK(st.st_mode)) {
		fprintf(stderr, "blkio_workload: losetup of %s failed\n", l->img);
		unlink(l->img);
		l->dev[0] = 0;
		return -1;
	}
	l->major = major(st.st_rdev);
	l->minor = minor(st.st_rdev);
	snprintf(l->name, sizeof(l->name), "%s", strrchr(l->dev, '/') + 1);
	return 0;
}

void lmp_test_loop_destroy(struct lmp_test_loop *l)
{
	char cmd[512];

	if (l->dev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d '%s'", l->dev);
		if (system(cmd) != 0)
			fprintf(stderr, "blkio_workload: could not detach %s\n", l->dev);
	}
	if (l->img[0])
		unlink(l->img);
	memset(l, 0, sizeof(*l));
}

size_t lmp_test_bio_plan(struct lmp_test_bio_op *ops, unsigned n_seq, __u32 seq_len,
			 unsigned n_rand, __u32 rand_len, __u64 dev_bytes, unsigned seed)
{
	__u64 slots = dev_bytes / rand_len, prev_end;
	__u64 x = seed * 2654435761ULL + 1;
	size_t n = 0;

	for (unsigned i = 0; i < n_seq; i++)
		ops[n++] = (struct lmp_test_bio_op){ (__u64)i * seq_len, seq_len, true };
	prev_end = (__u64)n_seq * seq_len;
	for (unsigned i = 0; i < n_rand; i++) {
		__u64 off;

		do { /* LCG: deterministic for a seed, different across runs */
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			off = ((x >> 33) % slots) * rand_len;
		} while (off == prev_end);
		ops[n++] = (struct lmp_test_bio_op){ off, rand_len, false };
		prev_end = off + rand_len;
	}
	return n;
}

static int run_ops(const char *dev, const struct lmp_test_bio_op *ops, size_t n,
		   enum lmp_test_bio_mode mode)
{
	int flags = O_RDWR | O_CLOEXEC | (mode == LMP_TEST_BIO_DIRECT ? O_DIRECT : 0);
	size_t max = 0;
	void *buf;
	int fd;

	for (size_t i = 0; i < n; i++)
		max = ops[i].len > max ? ops[i].len : max;
	if (posix_memalign(&buf, 4096, max ? max : 4096))
		return -1;
	memset(buf, 0x5a, max);
	fd = open(dev, flags);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ssize_t r = ops[i].write ? pwrite(fd, buf, ops[i].len, ops[i].off) :
					   pread(fd, buf, ops[i].len, ops[i].off);

		if (r != (ssize_t)ops[i].len) {
			fprintf(stderr, "blkio_workload: op %zu at %llu: %s\n", i,
				(unsigned long long)ops[i].off, r < 0 ? strerror(errno) : "short");
			return -1;
		}
	}
	if (mode == LMP_TEST_BIO_BUFFERED_FSYNC && fsync(fd) < 0)
		return -1;
	close(fd);
	free(buf);
	return 0;
}

pid_t lmp_test_bio_spawn(const char *cgroup, const char *dev, const char *comm,
			 const struct lmp_test_bio_op *ops, size_t n, enum lmp_test_bio_mode mode)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (cgroup && lmp_test_cgroup_join(cgroup) < 0)
			_exit(126);
		prctl(PR_SET_NAME, comm, 0, 0, 0);
		_exit(run_ops(dev, ops, n, mode) == 0 ? 0 : 1);
	}
	return pid;
}

static bool row_matches(json_t *ev, const char *probe, __u64 cgroup_id, const char *disk)
{
	const char *p = json_string_value(json_object_get(ev, "probe"));
	const char *e = json_string_value(json_object_get(ev, "event"));
	const char *d = json_string_value(json_object_get(ev, "disk"));

	return p && e && d && !strcmp(p, probe) && !strcmp(e, "summary") && !strcmp(d, disk) &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == cgroup_id;
}

__u64 lmp_test_bio_sum(json_t *events, const char *probe, __u64 cgroup_id, const char *disk,
		       const char *field)
{
	__u64 sum = 0;
	size_t i;
	json_t *ev;

	json_array_foreach(events, i, ev)
		if (row_matches(ev, probe, cgroup_id, disk))
			sum += json_integer_value(json_object_get(ev, field));
	return sum;
}

__u64 lmp_test_bio_sum_bucket(json_t *events, const char *probe, __u64 cgroup_id, const char *disk,
			      const char *hist, const char *bucket)
{
	__u64 sum = 0;
	size_t i;
	json_t *ev;

	json_array_foreach(events, i, ev)
		if (row_matches(ev, probe, cgroup_id, disk))
			sum += json_integer_value(
				json_object_get(json_object_get(ev, hist), bucket));
	return sum;
}

void lmp_test_bio_bucket(__u64 v, char *buf, size_t len)
{
	int slot = 0;

	while (slot < 39 && v >> (slot + 1))
		slot++;
	snprintf(buf, len, "%llu-%llu", slot ? 1ULL << slot : 0ULL, (1ULL << (slot + 1)) - 1);
}

void lmp_test_bio_check_hooks(const char *probe, const char *groups)
{
	char want[128], expect[256] = "", *save = NULL, *g;
	json_t *e = lmp_test_probe_listing(probe, "");
	const char *attach;
	size_t used = 0;

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "state")), "ready");
	snprintf(want, sizeof(want), "%s", groups);
	for (g = strtok_r(want, ",", &save); g; g = strtok_r(NULL, ",", &save))
		used += snprintf(expect + used, sizeof(expect) - used, "%s%s=tp_btf",
				 used ? "," : "", g);
	attach = json_string_value(json_object_get(e, "attach"));
	assert_non_null(attach);
	assert_string_equal(attach, expect);
	json_decref(e);

	lmp_test_assert_unsupported(
		probe, "tp_btf,raw_tp",
		(const char *const[]){ "start: fentry: ", "start: kprobe: ", NULL });
}

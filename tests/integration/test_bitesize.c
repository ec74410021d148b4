// SPDX-License-Identifier: Apache-2.0
/*
 * bitesize on real block I/O: a child in its own v2 cgroup does O_DIRECT I/O of known sizes
 * on a private loop device; the summaries for (that cgroup, that disk) must count every
 * request in the log2 bucket of its size, and nothing else. Buffered writes followed by
 * fsync() must be charged to the writer's cgroup too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "blkio_workload.h"
#include "harness.h"

/* pump until the (cgroup, disk) rows count at least want requests, then one more interval so
 * that anything counted twice would show */
static void wait_rows(struct lmp_test_bio_fixture *f, __u64 want)
{
	for (int i = 0; i < 100; i++) {
		if (lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name, "ios") >=
		    want)
			break;
		lmp_test_agent_pump(&f->agent, 100);
	}
	lmp_test_agent_pump(&f->agent, 1500);
}

static void run_direct(struct lmp_test_bio_fixture *f, const char *const *args,
		       const char *attached)
{
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ + LMP_BIO_N_RAND];
	char seq_bucket[48], rand_bucket[48];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, LMP_BIO_N_RAND,
				     LMP_BIO_RAND_LEN, (__u64)LMP_BIO_DEV_MIB << 20, getpid());
	json_t *hist_keys;
	pid_t pid;

	assert_int_equal(lmp_test_agent_start(&f->agent, args), 0);
	f->agent_started = true;
	assert_true(lmp_test_agent_stderr_has(&f->agent, attached));
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, "lmpbio-bitesize", ops, n,
				 LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	wait_rows(f, LMP_BIO_N_SEQ + LMP_BIO_N_RAND);

	lmp_test_bio_bucket(LMP_BIO_SEQ_LEN, seq_bucket, sizeof(seq_bucket));
	lmp_test_bio_bucket(LMP_BIO_RAND_LEN, rand_bucket, sizeof(rand_bucket));
	assert_int_equal(lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name,
					  "ios"),
			 LMP_BIO_N_SEQ + LMP_BIO_N_RAND);
	assert_int_equal(lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name,
					  "bytes"),
			 LMP_BIO_N_SEQ * LMP_BIO_SEQ_LEN + LMP_BIO_N_RAND * LMP_BIO_RAND_LEN);
	assert_int_equal(lmp_test_bio_sum_bucket(f->agent.events, "bitesize", f->cgid, f->loop.name,
						 "size_hist_bytes", seq_bucket),
			 LMP_BIO_N_SEQ);
	assert_int_equal(lmp_test_bio_sum_bucket(f->agent.events, "bitesize", f->cgid, f->loop.name,
						 "size_hist_bytes", rand_bucket),
			 LMP_BIO_N_RAND);
	/* only those two buckets: every row's histogram has no other key */
	hist_keys = json_object();
	for (size_t i = 0; i < json_array_size(f->agent.events); i++) {
		json_t *ev = json_array_get(f->agent.events, i);
		const char *d = json_string_value(json_object_get(ev, "disk"));

		if (d && !strcmp(d, f->loop.name) &&
		    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == f->cgid) {
			assert_string_equal(json_string_value(json_object_get(ev, "probe")),
					    "bitesize");
			json_object_update(hist_keys, json_object_get(ev, "size_hist_bytes"));
			assert_string_equal(json_string_value(json_object_get(ev, "cgroup")),
					    f->cg + strlen(lmp_test_cgroup2_root()));
		}
	}
	assert_int_equal(json_object_size(hist_keys), 2);
	json_decref(hist_keys);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
}

static void test_direct_io_sizes(void **state)
{
	run_direct(*state, (const char *const[]){ "--probes", "bitesize", "--interval", "1", NULL },
		   "probe bitesize: attached (start=tp_btf,issue=tp_btf)");
}

/* the same through the raw_tp fallback */
static void test_direct_io_sizes_raw_tp(void **state)
{
	run_direct(*state,
		   (const char *const[]){ "--probes", "bitesize", "--interval", "1",
					  "--disable-hooks", "tp_btf", NULL },
		   "probe bitesize: attached (start=raw_tp,issue=raw_tp)");
}

/*
 * Buffered writes then fsync(): the dirty pages are written back by fsync in the writer's
 * own context, so the requests are charged to its cgroup however the kernel merges them.
 */
static void test_buffered_fsync_charged_to_writer(void **state)
{
	struct lmp_test_bio_fixture *f = *state;
	struct lmp_test_bio_op ops[8];
	pid_t pid;

	for (int i = 0; i < 8; i++) /* far from the direct-I/O region: fresh page cache */
		ops[i] = (struct lmp_test_bio_op){ (32ULL << 20) + i * 4096ULL, 4096, true };
	assert_int_equal(lmp_test_agent_start(&f->agent,
					      (const char *const[]){ "--probes", "bitesize",
								     "--interval", "1", NULL }),
			 0);
	f->agent_started = true;
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, "lmpbio-fsync", ops, 8,
				 LMP_TEST_BIO_BUFFERED_FSYNC);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	for (int i = 0; i < 100; i++) {
		if (lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name, "bytes") >=
		    8 * 4096)
			break;
		lmp_test_agent_pump(&f->agent, 100);
	}
	lmp_test_agent_pump(&f->agent, 1500);
	assert_int_equal(lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name,
					  "bytes"),
			 8 * 4096);
	assert_true(lmp_test_bio_sum(f->agent.events, "bitesize", f->cgid, f->loop.name, "ios") >=
		    1);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
}

/* the hooks chosen here, and the fentry/kprobe alternatives reported with their reason */
static void test_hooks(void **state)
{
	lmp_test_require_root();
	lmp_test_bio_check_hooks("bitesize", "start,issue");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks),
		LMP_TEST_BIO(test_direct_io_sizes),
		LMP_TEST_BIO(test_direct_io_sizes_raw_tp),
		LMP_TEST_BIO(test_buffered_fsync_charged_to_writer),
	};

	return lmp_test_bio_run_tests("bitesize", tests);
}

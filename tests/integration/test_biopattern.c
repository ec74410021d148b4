// SPDX-License-Identifier: Apache-2.0
/*
 * biopattern on real block I/O: a child in its own v2 cgroup writes a sequential run and
 * then reads at random offsets of a private loop device, with O_DIRECT so each operation is
 * one request. The (cgroup, disk) summaries must split them exactly as the rule says: the
 * first request of the stream and every request that does not start where the previous one
 * ended are random, the rest sequential. The expected split is computed from the plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "blkio_workload.h"
#include "harness.h"

static __u64 sum(struct lmp_test_bio_fixture *f, const char *field)
{
	return lmp_test_bio_sum(f->agent.events, "biopattern", f->cgid, f->loop.name, field);
}

static void run_pattern(struct lmp_test_bio_fixture *f, const char *const *args,
			const char *attached)
{
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ + LMP_BIO_N_RAND];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, LMP_BIO_N_RAND,
				     LMP_BIO_RAND_LEN, (__u64)LMP_BIO_DEV_MIB << 20, getpid() + 7);
	__u64 want_seq = 0, want_rand = 0, want_seq_b = 0, want_rand_b = 0, prev_end = 0;
	pid_t pid;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && ops[i].off == prev_end) {
			want_seq++;
			want_seq_b += ops[i].len;
		} else {
			want_rand++;
			want_rand_b += ops[i].len;
		}
		prev_end = ops[i].off + ops[i].len;
	}
	/* the plan is what the test claims it is: one seek into a sequential run, then seeks */
	assert_int_equal(want_seq, LMP_BIO_N_SEQ - 1);
	assert_int_equal(want_rand, LMP_BIO_N_RAND + 1);

	assert_int_equal(lmp_test_agent_start(&f->agent, args), 0);
	f->agent_started = true;
	assert_true(lmp_test_agent_stderr_has(&f->agent, attached));
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, "lmpbio-pattern", ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	for (int i = 0; i < 100 && sum(f, "ios") < n; i++)
		lmp_test_agent_pump(&f->agent, 100);
	lmp_test_agent_pump(&f->agent, 1500); /* one more interval: double counts would show */

	assert_int_equal(sum(f, "ios"), n);
	assert_int_equal(sum(f, "sequential"), want_seq);
	assert_int_equal(sum(f, "random"), want_rand);
	assert_int_equal(sum(f, "sequential_bytes"), want_seq_b);
	assert_int_equal(sum(f, "random_bytes"), want_rand_b);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
}

static void test_sequential_then_random(void **state)
{
	run_pattern(*state,
		    (const char *const[]){ "--probes", "biopattern", "--interval", "1", NULL },
		    "probe biopattern: attached (start=tp_btf,issue=tp_btf)");
}

static void test_sequential_then_random_raw_tp(void **state)
{
	run_pattern(*state,
		    (const char *const[]){ "--probes", "biopattern", "--interval", "1",
					   "--disable-hooks", "tp_btf", NULL },
		    "probe biopattern: attached (start=raw_tp,issue=raw_tp)");
}

/* the hooks chosen here, and the fentry/kprobe alternatives reported with their reason */
static void test_hooks(void **state)
{
	lmp_test_require_root();
	lmp_test_bio_check_hooks("biopattern", "start,issue");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks),
		LMP_TEST_BIO(test_sequential_then_random),
		LMP_TEST_BIO(test_sequential_then_random_raw_tp),
	};

	return lmp_test_bio_run_tests("biopattern", tests);
}

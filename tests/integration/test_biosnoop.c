// SPDX-License-Identifier: Apache-2.0
/*
 * biosnoop on real block I/O: a child in its own v2 cgroup does O_DIRECT writes and reads
 * of known sizes at known offsets on a private loop device. With the threshold at 0 every
 * request must arrive as one event naming the disk, the sector and size of its operation,
 * the op, the child (pid, comm) and its cgroup, with a positive latency; with a threshold
 * no loop-device request can reach, none may arrive.
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

#define COMM "lmpbio-snoop"

/* the child's requests on our loop device (a page fault of its own could read another disk) */
static bool is_child_io(struct lmp_test_bio_fixture *f, json_t *ev, pid_t pid)
{
	struct lmp_test_want want = { "biosnoop", "io", pid };
	const char *disk = json_string_value(json_object_get(ev, "disk"));

	return lmp_test_match_want(ev, &want) && disk && !strcmp(disk, f->loop.name);
}

static size_t child_events(struct lmp_test_bio_fixture *f, pid_t pid)
{
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(f->agent.events); i++)
		n += is_child_io(f, json_array_get(f->agent.events, i), pid);
	return n;
}

static void run_snoop(struct lmp_test_bio_fixture *f, const char *const *args, const char *attached)
{
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ + LMP_BIO_N_RAND];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, LMP_BIO_N_RAND,
				     LMP_BIO_RAND_LEN, (__u64)LMP_BIO_DEV_MIB << 20, getpid() + 11);
	bool used[LMP_BIO_N_SEQ + LMP_BIO_N_RAND] = { false };
	char devno[32];
	pid_t pid;

	assert_int_equal(lmp_test_agent_start(&f->agent, args), 0);
	f->agent_started = true;
	assert_true(lmp_test_agent_stderr_has(&f->agent, attached));
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, COMM, ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	for (int i = 0; i < 100 && child_events(f, pid) < n; i++)
		lmp_test_agent_pump(&f->agent, 100);
	lmp_test_agent_pump(&f->agent, 500);
	assert_int_equal(child_events(f, pid), n);

	snprintf(devno, sizeof(devno), "%u:%u", f->loop.major, f->loop.minor);
	for (size_t i = 0; i < json_array_size(f->agent.events); i++) {
		json_t *ev = json_array_get(f->agent.events, i);
		__u64 sector, bytes;
		const char *op;
		size_t k;

		if (!is_child_io(f, ev, pid))
			continue;
		assert_string_equal(json_string_value(json_object_get(ev, "comm")), COMM);
		assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), f->cgid);
		assert_string_equal(json_string_value(json_object_get(ev, "cgroup")),
				    f->cg + strlen(lmp_test_cgroup2_root()));
		assert_string_equal(json_string_value(json_object_get(ev, "disk")), f->loop.name);
		assert_string_equal(json_string_value(json_object_get(ev, "dev")), devno);
		assert_true(json_number_value(json_object_get(ev, "latency_s")) > 0);
		assert_true(json_number_value(json_object_get(ev, "latency_s")) < 10);
		/* block_io_start was seen for every request: the queue time is known */
		assert_true(json_is_real(json_object_get(ev, "queue_s")));
		assert_true(json_number_value(json_object_get(ev, "queue_s")) >= 0);
		assert_true(json_is_null(json_object_get(ev, "error")));
		assert_int_equal(json_integer_value(json_object_get(ev, "status")), 0);
		sector = json_integer_value(json_object_get(ev, "sector"));
		bytes = json_integer_value(json_object_get(ev, "bytes"));
		op = json_string_value(json_object_get(ev, "op"));
		assert_non_null(op);
		/* match each event to one not yet matched operation of the plan */
		for (k = 0; k < n; k++)
			if (!used[k] && ops[k].off / 512 == sector && ops[k].len == bytes &&
			    !strcmp(op, ops[k].write ? "write" : "read"))
				break;
		assert_true(k < n);
		used[k] = true;
		assert_non_null(strchr(json_string_value(json_object_get(ev, "rwbs")),
				       ops[k].write ? 'W' : 'R'));
	}
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
}

static void test_every_request(void **state)
{
	run_snoop(*state,
		  (const char *const[]){ "--probes", "biosnoop", "--biosnoop-min-latency-us", "0",
					 NULL },
		  "probe biosnoop: attached (start=tp_btf,issue=tp_btf,done=tp_btf)");
}

static void test_every_request_raw_tp(void **state)
{
	run_snoop(*state,
		  (const char *const[]){ "--probes", "biosnoop", "--biosnoop-min-latency-us", "0",
					 "--disable-hooks", "tp_btf", NULL },
		  "probe biosnoop: attached (start=raw_tp,issue=raw_tp,done=raw_tp)");
}

/* 60 s per request is out of reach for a loop device on a healthy disk: nothing passes */
static void test_threshold_filters(void **state)
{
	struct lmp_test_bio_fixture *f = *state;
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, 0, LMP_BIO_RAND_LEN,
				     (__u64)LMP_BIO_DEV_MIB << 20, 1);
	pid_t pid;

	assert_int_equal(lmp_test_agent_start(&f->agent,
					      (const char *const[]){ "--probes", "biosnoop",
								     "--biosnoop-min-latency-us",
								     "60000000", NULL }),
			 0);
	f->agent_started = true;
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, COMM, ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	lmp_test_agent_pump(&f->agent, 1500);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
	assert_int_equal(child_events(f, pid), 0);
}

/* the hooks chosen here, and the fentry/kprobe alternatives reported with their reason */
static void test_hooks(void **state)
{
	lmp_test_require_root();
	lmp_test_bio_check_hooks("biosnoop", "start,issue,done");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks),
		LMP_TEST_BIO(test_every_request),
		LMP_TEST_BIO(test_every_request_raw_tp),
		LMP_TEST_BIO(test_threshold_filters),
	};

	return lmp_test_bio_run_tests("biosnoop", tests);
}

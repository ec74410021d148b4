// SPDX-License-Identifier: Apache-2.0
/*
 * biolatency on real block I/O: a child in its own v2 cgroup does O_DIRECT I/O on a private
 * loop device; the (cgroup, disk) summaries must count every request once in the latency
 * histogram and once in the queue histogram (block_io_start is seen for each), with
 * positive latencies whose histogram adds up to the request count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/biolatency.h"
#include "biolatency.skel.h"
#include "blkio_workload.h"
#include "harness.h"

static void run_latency(struct lmp_test_bio_fixture *f, const char *const *args,
			const char *attached, const char *kind)
{
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ + LMP_BIO_N_RAND];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, LMP_BIO_N_RAND,
				     LMP_BIO_RAND_LEN, (__u64)LMP_BIO_DEV_MIB << 20, getpid() + 3);
	__u64 hist_total = 0, rows = 0;
	pid_t pid;

	assert_int_equal(lmp_test_agent_start(&f->agent, args), 0);
	f->agent_started = true;
	assert_true(lmp_test_agent_stderr_has(&f->agent, attached));
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, "lmpbio-latency", ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	for (int i = 0; i < 100; i++) {
		if (lmp_test_bio_sum(f->agent.events, "biolatency", f->cgid, f->loop.name, "ios") >=
		    n)
			break;
		lmp_test_agent_pump(&f->agent, 100);
	}
	lmp_test_agent_pump(&f->agent, 1500); /* one more interval: double counts would show */

	assert_int_equal(
		lmp_test_bio_sum(f->agent.events, "biolatency", f->cgid, f->loop.name, "ios"), n);
	assert_int_equal(lmp_test_bio_sum(f->agent.events, "biolatency", f->cgid, f->loop.name,
					  "queued_ios"),
			 n);
	for (size_t i = 0; i < json_array_size(f->agent.events); i++) {
		json_t *ev = json_array_get(f->agent.events, i), *hist, *v;
		const char *d = json_string_value(json_object_get(ev, "disk")), *k;

		if (!d || strcmp(d, f->loop.name) ||
		    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) != f->cgid)
			continue;
		rows++;
		assert_string_equal(json_string_value(json_object_get(ev, "probe")), "biolatency");
		assert_string_equal(json_string_value(json_object_get(ev, "event")), "summary");
		assert_string_equal(json_string_value(json_object_get(ev, "latency_kind")), kind);
		assert_string_equal(json_string_value(json_object_get(ev, "cgroup")),
				    f->cg + strlen(lmp_test_cgroup2_root()));
		/* a real device round trip through the loop driver takes more than 0 ns */
		assert_true(json_number_value(json_object_get(ev, "latency_avg_s")) > 0);
		assert_true(json_number_value(json_object_get(ev, "latency_p50_s")) > 0);
		assert_true(json_number_value(json_object_get(ev, "latency_p99_s")) >=
			    json_number_value(json_object_get(ev, "latency_p50_s")));
		assert_true(json_number_value(json_object_get(ev, "queue_avg_s")) > 0);
		/* and well under the 10 s the whole test may take */
		assert_true(json_number_value(json_object_get(ev, "latency_avg_s")) < 10);
		hist = json_object_get(ev, "latency_hist_ns");
		json_object_foreach(hist, k, v) {
			assert_string_not_equal(k, "0-1");
			hist_total += json_integer_value(v);
		}
	}
	assert_true(rows >= 1);
	assert_int_equal(hist_total, n);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
}

static void test_service_latency(void **state)
{
	run_latency(*state,
		    (const char *const[]){ "--probes", "biolatency", "--interval", "1", NULL },
		    "probe biolatency: attached (start=tp_btf,issue=tp_btf,done=tp_btf)",
		    "service");
}

static void test_total_latency_queued(void **state)
{
	run_latency(*state,
		    (const char *const[]){ "--probes", "biolatency", "--interval", "1",
					   "--biolatency-queued", NULL },
		    "probe biolatency: attached (start=tp_btf,issue=tp_btf,done=tp_btf)", "total");
}

static void test_service_latency_raw_tp(void **state)
{
	run_latency(*state,
		    (const char *const[]){ "--probes", "biolatency", "--interval", "1",
					   "--disable-hooks", "tp_btf", NULL },
		    "probe biolatency: attached (start=raw_tp,issue=raw_tp,done=raw_tp)",
		    "service");
}

/*
 * The agent skips the per-request blkcg check on hybrid hosts (io on v1). Load the object
 * with the check forced on, so the verifier accepts that path and, at run time, it sees the
 * v1 blkcg and charges the submitter's v2 cgroup: the child's I/O lands under its cgroup.
 */
static void test_blkcg_check_charges_submitter(void **state)
{
	struct lmp_test_bio_fixture *f = *state;
	struct lmp_test_bio_op ops[LMP_BIO_N_SEQ];
	size_t n = lmp_test_bio_plan(ops, LMP_BIO_N_SEQ, LMP_BIO_SEQ_LEN, 0, LMP_BIO_RAND_LEN,
				     (__u64)LMP_BIO_DEV_MIB << 20, 5);
	struct lmp_blkio_key key = { 0 }, next;
	struct biolatency_bpf *skel;
	struct bpf_program *prog;
	__u64 service = 0, queue = 0;
	struct lmp_biolatency_val v;
	pid_t pid;
	int fd;

	skel = biolatency_bpf__open();
	assert_non_null(skel);
	skel->rodata->cfg_blkcg_v2 = 1;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		/* the _q programs are for kernels before 5.11 */
		bpf_program__set_autoload(prog, !strncmp(name, "tp_btf_", 7) &&
							!strstr(name, "insert") &&
							!strstr(name, "_q"));
	}
	assert_int_equal(biolatency_bpf__load(skel), 0);
	assert_int_equal(biolatency_bpf__attach(skel), 0);
	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, "lmpbio-blkcg", ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	usleep(200000); /* completions are synchronous for O_DIRECT; margin for the map */
	fd = bpf_map__fd(skel->maps.hists);
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
		key = next;
		if (key.cgroup_id != f->cgid ||
		    key.dev != (f->loop.major << LMP_BLKIO_MINORBITS | f->loop.minor))
			continue;
		assert_int_equal(bpf_map_lookup_elem(fd, &key, &v), 0);
		service += v.latency.count;
		queue += v.queue.count;
	}
	biolatency_bpf__destroy(skel);
	assert_int_equal(service, n);
	assert_int_equal(queue, n);
}

/* the hooks chosen here, and the fentry/kprobe alternatives reported with their reason */
static void test_hooks(void **state)
{
	lmp_test_require_root();
	lmp_test_bio_check_hooks("biolatency", "start,issue,done");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks),
		LMP_TEST_BIO(test_service_latency),
		LMP_TEST_BIO(test_total_latency_queued),
		LMP_TEST_BIO(test_service_latency_raw_tp),
		LMP_TEST_BIO(test_blkcg_check_charges_submitter),
	};

	return lmp_test_bio_run_tests("biolatency", tests);
}

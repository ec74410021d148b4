// SPDX-License-Identifier: Apache-2.0
/*
 * The block probes together, on one shared map of requests in flight (bpf/blkio.bpf.h): a
 * child in its own v2 cgroup does O_DIRECT I/O of known sizes on a private loop device while
 * several block probes run. The first probe's start (and issue) programs serve the others;
 * every probe must still count every request exactly once, biosnoop must still name the
 * submitter, and once the I/O is done no entry of the child's requests may be left in the
 * shared map: the last probe to read a request deletes it, in whatever order the kernel ran
 * them. Only this test's loop device, cgroup, child and agent's maps are looked at: the
 * host's own I/O (a kworker flushing) and other agents do not change the result.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/blkio.h"
#include "blkio_workload.h"
#include "harness.h"

#define N_SEQ 48
#define SEQ_LEN 4096
#define N_RAND 24
#define RAND_LEN 16384
#define COMM "lmpbio-shared"

#define MAX_MAPS 256

/*
 * Entries charged to cgroup cgid in the blkio_inflight maps among the given map ids (those
 * of this test's agent: other agents on the machine have maps of that name too); -1 when
 * none of them is such a map any more.
 */
static long inflight_entries(const __u32 *ids, int n_ids, __u64 cgid)
{
	long n = -1;

	for (int i = 0; i < n_ids; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		__u64 key, next, *prev = NULL;
		struct lmp_blkio_rq v;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    strcmp(info.name, "blkio_inflight") || info.value_size != sizeof(v)) {
			close(fd);
			continue;
		}
		if (n < 0)
			n = 0;
		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (bpf_map_lookup_elem(fd, &key, &v) == 0 && v.cgroup_id == cgid)
				n++;
		}
		close(fd);
	}
	return n;
}

static size_t snoop_events(struct lmp_test_bio_fixture *f, pid_t pid)
{
	struct lmp_test_want want = { "biosnoop", "io", pid };
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(f->agent.events); i++) {
		json_t *ev = json_array_get(f->agent.events, i);
		const char *disk = json_string_value(json_object_get(ev, "disk"));

		if (!lmp_test_match_want(ev, &want) || !disk || strcmp(disk, f->loop.name))
			continue;
		/* the submitter and the queue time come from the shared start */
		assert_string_equal(json_string_value(json_object_get(ev, "comm")), COMM);
		assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), f->cgid);
		assert_true(json_is_real(json_object_get(ev, "queue_s")));
		n++;
	}
	return n;
}

static __u64 sum(struct lmp_test_bio_fixture *f, const char *probe, const char *field)
{
	return lmp_test_bio_sum(f->agent.events, probe, f->cgid, f->loop.name, field);
}

static bool has(const char *probes, const char *probe)
{
	return strstr(probes, probe) != NULL;
}

/* run the child's I/O under the agent, then check every probe named in probes */
static void run(struct lmp_test_bio_fixture *f, const char *probes, const char *const *extra,
		const char *const *attached)
{
	struct lmp_test_bio_op ops[N_SEQ + N_RAND];
	size_t n = lmp_test_bio_plan(ops, N_SEQ, SEQ_LEN, N_RAND, RAND_LEN,
				     (__u64)LMP_BIO_DEV_MIB << 20, getpid() + 3);
	const char *args[16] = { "--probes", probes, "--interval", "1", "--biosnoop-min-latency-us",
				 "0" };
	__u64 bytes = 0;
	__u32 maps[MAX_MAPS];
	int n_maps;
	size_t k = 6;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		bytes += ops[i].len;
	for (; extra && *extra; extra++)
		args[k++] = *extra;
	args[k] = NULL;
	assert_int_equal(lmp_test_agent_start(&f->agent, args), 0);
	f->agent_started = true;
	for (; *attached; attached++)
		assert_true(lmp_test_agent_stderr_has(&f->agent, *attached));

	pid = lmp_test_bio_spawn(f->cg, f->loop.dev, COMM, ops, n, LMP_TEST_BIO_DIRECT);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	for (int i = 0; i < 100; i++) {
		if ((!has(probes, "biolatency") || sum(f, "biolatency", "ios") >= n) &&
		    (!has(probes, "bitesize") || sum(f, "bitesize", "ios") >= n) &&
		    (!has(probes, "biopattern") || sum(f, "biopattern", "ios") >= n) &&
		    (!has(probes, "biosnoop") || snoop_events(f, pid) >= n))
			break;
		lmp_test_agent_pump(&f->agent, 100);
	}
	/* the child's requests are all complete: every probe let go of them */
	n_maps = lmp_test_bpf_ids(f->agent.pid, "map_id", maps, MAX_MAPS);
	assert_int_equal(inflight_entries(maps, n_maps, f->cgid), 0);
	lmp_test_agent_pump(&f->agent, 1500); /* one more interval: double counts would show */

	if (has(probes, "biolatency")) {
		assert_int_equal(sum(f, "biolatency", "ios"), n);
		assert_int_equal(sum(f, "biolatency", "queued_ios"), n); /* start seen: shared */
	}
	if (has(probes, "bitesize")) {
		assert_int_equal(sum(f, "bitesize", "ios"), n);
		assert_int_equal(sum(f, "bitesize", "bytes"), bytes);
	}
	if (has(probes, "biopattern")) {
		assert_int_equal(sum(f, "biopattern", "ios"), n);
		assert_int_equal(sum(f, "biopattern", "sequential_bytes") +
					 sum(f, "biopattern", "random_bytes"),
				 bytes);
	}
	if (has(probes, "biosnoop"))
		assert_int_equal(snoop_events(f, pid), n);
	assert_true(lmp_test_agent_stop(&f->agent, 2000) >= 0);
	/* the agent's maps went with it (the kernel frees them shortly after its exit) */
	for (int i = 0; i < 50 && inflight_entries(maps, n_maps, f->cgid) != -1; i++)
		usleep(100000);
	assert_int_equal(inflight_entries(maps, n_maps, f->cgid), -1);
}

/* biolatency starts first (registry order) and serves the three others */
static void test_four_probes_one_tracker(void **state)
{
	run(*state, "biolatency,biopattern,biosnoop,bitesize", NULL,
	    (const char *const[]){
		    "probe biolatency: attached (start=tp_btf,issue=tp_btf,done=tp_btf)",
		    "probe biopattern: attached (start=shared:biolatency,issue=tp_btf)",
		    "probe biosnoop: attached "
		    "(start=shared:biolatency,issue=shared:biolatency,done=tp_btf)",
		    "probe bitesize: attached (start=shared:biolatency,issue=tp_btf)", NULL });
}

static void test_four_probes_one_tracker_raw_tp(void **state)
{
	run(*state, "biolatency,biopattern,biosnoop,bitesize",
	    (const char *const[]){ "--disable-hooks", "tp_btf", NULL },
	    (const char *const[]){
		    "probe biolatency: attached (start=raw_tp,issue=raw_tp,done=raw_tp)",
		    "probe biopattern: attached (start=shared:biolatency,issue=raw_tp)",
		    "probe biosnoop: attached "
		    "(start=shared:biolatency,issue=shared:biolatency,done=raw_tp)",
		    "probe bitesize: attached (start=shared:biolatency,issue=raw_tp)", NULL });
}

/* only probes that let go at issue: the second one to read a request deletes it */
static void test_issue_readers_only(void **state)
{
	run(*state, "bitesize,biopattern", NULL,
	    (const char *const[]){
		    "probe biopattern: attached (start=tp_btf,issue=tp_btf)",
		    "probe bitesize: attached (start=shared:biopattern,issue=tp_btf)", NULL });
}

/* biosnoop first: its start records the submitter, which bitesize does not need */
static void test_snoop_and_sizes(void **state)
{
	run(*state, "biosnoop,bitesize", NULL,
	    (const char *const[]){
		    "probe biosnoop: attached (start=tp_btf,issue=tp_btf,done=tp_btf)",
		    "probe bitesize: attached (start=shared:biosnoop,issue=tp_btf)", NULL });
}

/* biolatency's start serves biosnoop, which joins later and wants the submitter recorded */
static void test_late_joiner_wants_task(void **state)
{
	run(*state, "biolatency,biosnoop", NULL,
	    (const char *const[]){
		    "probe biolatency: attached (start=tp_btf,issue=tp_btf,done=tp_btf)",
		    "probe biosnoop: attached "
		    "(start=shared:biolatency,issue=shared:biolatency,done=tp_btf)",
		    NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LMP_TEST_BIO(test_four_probes_one_tracker),
		LMP_TEST_BIO(test_four_probes_one_tracker_raw_tp),
		LMP_TEST_BIO(test_issue_readers_only),
		LMP_TEST_BIO(test_snoop_and_sizes),
		LMP_TEST_BIO(test_late_joiner_wants_task),
	};

	return lmp_test_bio_run_tests("blkio-shared", tests);
}

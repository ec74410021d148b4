/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real block I/O for the block probes' tests: a private file-backed loop device, and a
 * child process in a given cgroup that runs a planned list of reads and writes on it
 * (O_DIRECT, so every operation is one request of a known size at a known sector).
 */
#ifndef LMP_TEST_BLKIO_WORKLOAD_H
#define LMP_TEST_BLKIO_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <linux/types.h>

#include "harness.h"

struct lmp_test_loop {
	char img[256]; /* backing file */
	char dev[64];  /* /dev/loopN */
	char name[32]; /* loopN, as /sys/dev/block/M:m/uevent names it */
	unsigned major, minor;
};

/* A file of mib MiB under /tmp attached to a free loop device. 0 or -1 (message printed). */
int lmp_test_loop_create(struct lmp_test_loop *l, const char *tag, unsigned mib);
void lmp_test_loop_destroy(struct lmp_test_loop *l);

/* What each block probe test runs with: a loop device, a test cgroup and the agent. */
struct lmp_test_bio_fixture {
	struct lmp_test_loop loop;
	struct lmp_test_agent agent;
	bool agent_started; /* teardown frees the agent */
	char cg[4096];
	__u64 cgid;
};

/* The block probe tests' device and standard plan (below): 64 sequential 4 KiB writes, 32
 * random 16 KiB reads on a 64 MiB device */
#define LMP_BIO_DEV_MIB 64
#define LMP_BIO_N_SEQ 64
#define LMP_BIO_SEQ_LEN 4096
#define LMP_BIO_N_RAND 32
#define LMP_BIO_RAND_LEN 16384

/*
 * cmocka setup and teardown of each test: a loop device of LMP_BIO_DEV_MIB MiB and the
 * cgroup lmp-test/<tag>-<pid> (*state points at the fixture); teardown frees the agent if
 * started, removes both. lmp_test_bio_run runs the group with tag.
 */
int lmp_test_bio_setup(void **state);
int lmp_test_bio_teardown(void **state);
#define LMP_TEST_BIO(fn) \
	cmocka_unit_test_setup_teardown(fn, lmp_test_bio_setup, lmp_test_bio_teardown)
struct CMUnitTest;
int lmp_test_bio_run(const char *tag, const struct CMUnitTest *tests, size_t n);
#define lmp_test_bio_run_tests(tag, tests) \
	lmp_test_bio_run((tag), (tests), sizeof(tests) / sizeof((tests)[0]))

struct lmp_test_bio_op {
	__u64 off; /* bytes, multiple of 4096 */
	__u32 len;
	bool write;
};

/*
 * The standard plan: n_seq sequential writes of seq_len bytes from offset 0, then n_rand
 * reads of rand_len bytes at pseudo-random aligned offsets (seeded) inside dev_bytes, none
 * of which starts where the previous operation ended. Returns the number of ops.
 */
size_t lmp_test_bio_plan(struct lmp_test_bio_op *ops, unsigned n_seq, __u32 seq_len,
			 unsigned n_rand, __u32 rand_len, __u64 dev_bytes, unsigned seed);

enum lmp_test_bio_mode {
	LMP_TEST_BIO_DIRECT,	     /* O_DIRECT pread/pwrite: one request per op */
	LMP_TEST_BIO_BUFFERED_FSYNC, /* buffered writes, then fsync(): writeback in our context */
};

/*
 * Fork a child that joins cgroup (its cgroup.procs), names itself comm, runs ops on dev and
 * exits 0 on success. Returns the child's pid.
 */
pid_t lmp_test_bio_spawn(const char *cgroup, const char *dev, const char *comm,
			 const struct lmp_test_bio_op *ops, size_t n, enum lmp_test_bio_mode mode);

/* Sum of an integer field over the summary lines of probe for (cgroup_id, disk). */
__u64 lmp_test_bio_sum(json_t *events, const char *probe, __u64 cgroup_id, const char *disk,
		       const char *field);
/* Sum of one "lo-hi" key of a histogram object field over the same lines. */
__u64 lmp_test_bio_sum_bucket(json_t *events, const char *probe, __u64 cgroup_id, const char *disk,
			      const char *hist, const char *bucket);
/* "lo-hi" key of the log2 slot holding v, as the probes print their histograms. */
void lmp_test_bio_bucket(__u64 v, char *buf, size_t len);

/*
 * Assert what `lmp probes --json` says of a block probe on this kernel: every group (comma
 * list, e.g. "start,issue,done") picks tp_btf; with tp_btf and raw_tp disabled the probe is
 * unsupported, and the reason names the fentry and kprobe alternatives and why they fail.
 */
void lmp_test_bio_check_hooks(const char *probe, const char *groups);

#endif /* LMP_TEST_BLKIO_WORKLOAD_H */

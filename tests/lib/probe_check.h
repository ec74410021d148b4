/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the probe integration tests share. A test describes its agent as a table (struct
 * lmp_test_fixture: probe, arguments, the hook fallbacks it runs) and keeps only its
 * workload and its assertions; the fixture makes the cgroup, starts and stops the agents,
 * runs each fallback and checks the clean stop. Also: what `lmp probes --json` says about a
 * probe, loading only one kind of a skeleton's programs, and removing the cgroups a failed
 * test left behind. Used with cmocka: the helpers assert what they need themselves.
 */
#ifndef LMP_TEST_PROBE_CHECK_H
#define LMP_TEST_PROBE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

#include "evchild.h"
#include "harness.h"

struct bpf_object;
struct CMUnitTest;

/* one hook fallback: --disable-hooks value, the attach line the agent must log, and what
 * the workload is told (its arg) */
struct lmp_test_hooks {
	const char *disable, *attached;
	long arg;
};

struct lmp_test_fixture {
	/* the table, written by the test */
	const char *probe;	     /* --probes value */
	const char *name;	     /* group and cgroup lmp-test/<name>-<pid>; NULL: probe */
	const char *const *args;     /* more arguments of the main agent, NULL-terminated */
	const char *const *alt_args; /* more arguments of the fallback agents */
	const char *kubelet;	     /* PodList fixture served by a fake kubelet, or NULL */
	bool tmpdir;		     /* make dir: /tmp/lmp-<name>-XXXXXX */
	int (*setup)(void);	     /* before the main agent starts; 0 or -1 */
	void (*teardown)(void);	     /* after the agents are freed */
	void (*workload)(struct lmp_test_agent *a, long arg); /* a fallback run: events, asserts */
	struct lmp_test_hooks fallbacks[4];

	/* made by the fixture */
	struct lmp_test_agent agent; /* the main agent, running from set-up to test_clean_stop */
	struct lmp_test_agent alt;   /* a fallback agent; freed in teardown if a test fails */
	struct lmp_test_kube kube;
	char cg[4096], dir[64];
	__u64 cgid;
};

/*
 * Run the cmocka group named after the fixture: set-up makes the cgroup (and dir, and the
 * kubelet), calls fx->setup, starts the main agent (--probes <probe> [kubelet] <args>);
 * teardown frees the agents and removes all it made, however the tests ended.
 */
int lmp_test_fixture_run(struct lmp_test_fixture *fx, const struct CMUnitTest *tests, size_t n);
#define lmp_test_fixture_run_tests(fx, tests) \
	lmp_test_fixture_run((fx), (tests), sizeof(tests) / sizeof((tests)[0]))

/* the cgroup <fx->cg>/<sub> (parents too): 0 or -errno */
int lmp_test_fixture_cgroup(struct lmp_test_fixture *fx, const char *sub, char *path, size_t len,
			    __u64 *id);

/*
 * Start fx->alt with `--probes <probe> [kubelet] <args>` (args NULL: fx->alt_args) and
 * --disable-hooks disable (NULL: none); assert it logs attached (NULL: no check).
 */
struct lmp_test_agent *lmp_test_alt_start(struct lmp_test_fixture *fx, const char *const *args,
					  const char *disable, const char *attached);
/* stop fx->alt within 2 s and free it */
void lmp_test_alt_stop(struct lmp_test_fixture *fx);
/* fallback row i: start the alt agent with its hooks, run the workload, stop */
void lmp_test_fallback(struct lmp_test_fixture *fx, int i);
/* cmocka tests: lmp_test_fallback of row 0..3 of the fixture in *state */
void lmp_test_fallback_0(void **state);
void lmp_test_fallback_1(void **state);
void lmp_test_fallback_2(void **state);
void lmp_test_fallback_3(void **state);
/* a cmocka entry named name that runs fallback row i (0..3) */
#define LMP_TEST_FALLBACK(name, i)                            \
	{                                                     \
		name, lmp_test_fallback_##i, NULL, NULL, NULL \
	}

/* the agent stops within 2 s, exits 0, and never printed a line that was not JSON */
void lmp_test_clean_stop(struct lmp_test_agent *a);
/* cmocka test: lmp_test_clean_stop of the fixture's main agent (*state is the fixture) */
void lmp_test_fixture_clean_stop(void **state);
#define LMP_TEST_CLEAN_STOP                                                      \
	{                                                                        \
		"test_clean_stop", lmp_test_fixture_clean_stop, NULL, NULL, NULL \
	}

/* `$LMP probes --json <args>` (args: extra shell words, may be ""): asserts it exits 0 with
 * a JSON array, which the caller json_decref()s */
json_t *lmp_test_probes_json(const char *args);
/*
 * Run `$LMP probes --json <args>`, assert it lists probe, and return that probe's object
 * (the caller json_decref()s it).
 */
json_t *lmp_test_probe_listing(const char *probe, const char *args);
/*
 * With --disable-hooks disable, probe is "unsupported" and its reason contains every string
 * of why (NULL-terminated).
 */
void lmp_test_assert_unsupported(const char *probe, const char *disable, const char *const *why);

/* Load only the programs of obj whose names start with prefix; returns how many do. */
int lmp_test_autoload_only(struct bpf_object *obj, const char *prefix);
/*
 * The n kprobe programs of skeleton <name>_bpf are valid BPF: the verifier takes them
 * (kprobe-type programs load without CONFIG_KPROBES, where they could not attach).
 */
#define lmp_test_kprobes_load(name, n)                                                \
	do {                                                                          \
		struct name##_bpf *skel_ = name##_bpf__open();                        \
                                                                                      \
		assert_non_null(skel_);                                               \
		assert_int_equal(lmp_test_autoload_only(skel_->obj, "kprobe_"), (n)); \
		assert_int_equal(name##_bpf__load(skel_), 0);                         \
		name##_bpf__destroy(skel_);                                           \
	} while (0)

/*
 * The cgroup lmp-test/<probe>-<pid>-<disable, commas as _, or "none">/<sub> (sub NULL: the
 * directory itself) for a test run with --disable-hooks disable; asserts it was made.
 */
void lmp_test_hooks_cgroup(const char *probe, const char *disable, const char *sub, char *path,
			   size_t len, __u64 *id);

/*
 * cmocka group teardown helper: a failed assertion skips a test's own cleanup, so remove
 * the cgroups lmp-test/<probe>-<pid>, <probe>-<pid>-* and <probe>-*-<pid> it left, deepest
 * first.
 */
void lmp_test_remove_probe_leftovers(const char *probe);

#endif /* LMP_TEST_PROBE_CHECK_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod churn (issue 15): the real agent with `--probes all` while short-lived cgroups come
 * and go in the v2 tree, each running one marker process (busy for a few tens of ms) before
 * it is removed, as Jobs and CI pods do. Meanwhile /healthz is polled every 0.5 s with a 2 s
 * timeout. The three figures: healthz failures, marker execs printed (of those started),
 * events lost (lmp_events_lost_total on /metrics, and the losses the agent logged).
 * tests/integration/test_churn.c asserts them for 300 cgroups; `make soak` prints them for
 * 5,000 (tests/soak/churn.c).
 */
#ifndef LMP_TEST_CHURN_H
#define LMP_TEST_CHURN_H

#include <stdbool.h>

struct lmp_churn_opts {
	int cgroups;	       /* cgroups made, run and removed */
	int parallel;	       /* alive at once */
	int busy_ms;	       /* how long each marker spins */
	int interval_s;	       /* the agent's --interval (summaries of gone cgroups each time) */
	int ringbuf_kb;	       /* the agent's --ringbuf-kb, 0: its default */
	bool opensnoop_failed; /* --opensnoop-failed: not every open of the machine */
	bool quiet;	       /* no progress lines */
};

struct lmp_churn_result {
	int healthz_polls, healthz_failures;
	double healthz_worst_s; /* slowest answer (a failure counts as the 2 s timeout) */
	int execs_started, execs_printed, execs_with_path;
	long long lost_metric; /* sum of lmp_events_lost_total at the end, -1: no scrape */
	long long lost_logged; /* sum of the "N events lost" the agent logged on stderr */
	long long gone_lookups, pending_lookups; /* lmp_cgroup_lookups_total{result} */
	double churn_s;				 /* time the churn took */
	double agent_cpu_s; /* the agent's user + system CPU time, start-up included */
	long long stdout_bytes;
};

/*
 * If argv asks for the marker ("--churn-marker <token> <busy_ms>"), spin and exit: call it
 * first thing in main(). The marker is the running binary itself, exec'd again.
 */
void lmp_churn_marker_main(int argc, char **argv);

/* Run it all; 0, or -1 when the agent or the cgroups could not be set up (logged). */
int lmp_churn_run(const struct lmp_churn_opts *o, struct lmp_churn_result *r);

/* one line per figure, on stderr */
void lmp_churn_print(const struct lmp_churn_opts *o, const struct lmp_churn_result *r);

#endif /* LMP_TEST_CHURN_H */

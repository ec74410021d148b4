// SPDX-License-Identifier: Apache-2.0
/*
 * Pod churn soak (make soak; not part of make test): tests/integration/test_churn.c at
 * CHURN_CGROUPS cgroups (5,000), CHURN_PARALLEL at once (4), each running a ~40 ms marker,
 * with `--probes all --interval 2`. Prints the three figures (healthz failures, marker
 * execs printed, events lost) and fails when any is not perfect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "churn.h"
#include "harness.h"

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && atoi(v) > 0 ? atoi(v) : def;
}

int main(int argc, char **argv)
{
	struct lmp_churn_opts o = {
		.cgroups = env_int("CHURN_CGROUPS", 5000),
		.parallel = env_int("CHURN_PARALLEL", 4),
		.busy_ms = 40,
		.interval_s = 2,
		.ringbuf_kb = 2048,
	};
	struct lmp_churn_result r;
	int fail;

	lmp_churn_marker_main(argc, argv);
	if (geteuid() != 0) {
		fprintf(stderr, "churn: needs root (cgroups, BPF)\n");
		return 1;
	}
	if (lmp_churn_run(&o, &r) < 0) {
		fprintf(stderr, "churn: could not run\n");
		return 1;
	}
	lmp_churn_print(&o, &r);
	fail = r.healthz_failures || r.execs_printed != r.execs_started || r.lost_metric ||
	       r.lost_logged;
	printf("churn: %s: %d healthz failures, %d of %d execs printed, %lld events lost%s\n",
	       fail ? "FAIL" : "ok", r.healthz_failures, r.execs_printed, r.execs_started,
	       r.lost_metric > r.lost_logged ? r.lost_metric : r.lost_logged,
	       r.lost_metric < 0 ? " (logged; /metrics did not answer)" : "");
	return fail;
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * biolatency: log2 latency histograms per (cgroup, disk), aggregated in the kernel in map
 * `hists` (key struct lmp_blkio_key, aux 0; value struct lmp_biolatency_val, ns): one map
 * update per completed request for both phases.
 */
#ifndef LMP_BIOLATENCY_H
#define LMP_BIOLATENCY_H

#include "lmp/blkio.h"

enum lmp_biolatency_phase {
	LMP_BIOLAT_QUEUE = 0,	/* start -> issue: time in the OS (plug, scheduler) */
	LMP_BIOLAT_SERVICE = 1, /* issue -> complete: time in the device (default) */
	LMP_BIOLAT_TOTAL = 2,	/* start -> complete (--biolatency-queued) */
};

struct lmp_biolatency_val {
	struct lmp_hist queue;	 /* LMP_BIOLAT_QUEUE */
	struct lmp_hist latency; /* LMP_BIOLAT_SERVICE, or LMP_BIOLAT_TOTAL when cfg_queued */
};

#endif /* LMP_BIOLATENCY_H */

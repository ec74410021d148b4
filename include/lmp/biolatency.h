/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * biolatency: log2 latency histograms per (cgroup, disk, phase), aggregated in the kernel in
 * map `hists` (key struct lmp_blkio_key with aux = phase, value struct lmp_hist in ns).
 */
#ifndef LMP_BIOLATENCY_H
#define LMP_BIOLATENCY_H

#include "lmp/blkio.h"

enum lmp_biolatency_phase {
	LMP_BIOLAT_QUEUE = 0,	/* start -> issue: time in the OS (plug, scheduler) */
	LMP_BIOLAT_SERVICE = 1, /* issue -> complete: time in the device (default) */
	LMP_BIOLAT_TOTAL = 2,	/* start -> complete (--biolatency-queued) */
};

#endif /* LMP_BIOLATENCY_H */

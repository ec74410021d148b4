/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * runqlat: run-queue latency, the time a runnable task waits for a CPU, as a per-cgroup log2
 * histogram (bpf/runqlat.bpf.c). The map `hists` is keyed by the cgroup v2 id (__u64) of the
 * task when it gets the CPU; the value is a per-CPU struct lmp_hist in ns.
 */
#ifndef LMP_RUNQLAT_H
#define LMP_RUNQLAT_H

#include "lmp/event.h"

#endif /* LMP_RUNQLAT_H */

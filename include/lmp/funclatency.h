/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * funclatency: call latency of one function, a log2 histogram per cgroup. The map is keyed
 * by the cgroup v2 id of the calling task; values are struct lmp_hist in nanoseconds.
 */
#ifndef LMP_FUNCLATENCY_H
#define LMP_FUNCLATENCY_H

#include "lmp/event.h"

#endif /* LMP_FUNCLATENCY_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcprtt: the smoothed round-trip time of TCP sockets, sampled on every segment an
 * established socket receives, as a per-cgroup log2 histogram (bpf/tcprtt.bpf.c). The map
 * key is the socket's cgroup v2 id (__u64), the value a per-CPU struct lmp_hist in ns.
 */
#ifndef LMP_TCPRTT_H
#define LMP_TCPRTT_H

#include "lmp/event.h"

#endif /* LMP_TCPRTT_H */

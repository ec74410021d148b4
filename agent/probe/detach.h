/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Destroying BPF links from a pool of threads. The kernel waits for RCU grace periods when
 * a link goes (a classic tracepoint: RCU tasks-trace grace periods; a uprobe_multi link: a
 * tasks-trace and an SRCU grace period). Waiters that overlap share grace periods, so links
 * destroyed in parallel take about as long as the slowest few, not the sum. (Uprobes made
 * through perf events do not gain: the kernel tears those down under one global mutex.)
 */
#ifndef LMP_DETACH_H
#define LMP_DETACH_H

#include <stddef.h>

struct bpf_link;

/* Destroy links[0..n) (NULL entries are skipped) and set each to NULL. */
void lmp_links_destroy(struct bpf_link **links, size_t n);

/* Close link fds[0..n) (negative entries are skipped) and set each to -1. */
void lmp_link_fds_close(int *fds, size_t n);

#endif /* LMP_DETACH_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Destroying BPF links from a pool of threads: each waits for RCU grace periods, which
 * overlapping waiters share, so the time is the slowest few, not the sum.
 */
#ifndef LMP_DETACH_H
#define LMP_DETACH_H

#include <stddef.h>

struct bpf_link;

/* NULL entries are skipped; each is set to NULL */
void lmp_links_destroy(struct bpf_link **links, size_t n);

/* negative entries are skipped; each is set to -1 */
void lmp_link_fds_close(int *fds, size_t n);

#endif /* LMP_DETACH_H */

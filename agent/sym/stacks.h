/* SPDX-License-Identifier: Apache-2.0 */
/* Stacks from BPF stack maps, symbolized (ksyms.h, usyms.h) and printed. */
#ifndef LMP_STACKS_H
#define LMP_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lmp/stack.h"

struct lmp_out;
struct lmp_stacks;

int lmp_stacks_new(struct lmp_stacks **out);
void lmp_stacks_free(struct lmp_stacks *s);
/* once per interval: mappings are re-read on next use */
void lmp_stacks_interval(struct lmp_stacks *s);

/* leaf first: the count, or -errno (a negative id as is; -ENOENT: no longer there) */
int lmp_stacks_read(int fd, __s32 id, __u64 ips[LMP_STACK_DEPTH]);
/* once reported, so the bounded map keeps room */
void lmp_stacks_delete(int fd, __s32 id);

/*
 * key: ["func+0x1c", ...], leaf first; n < 0 prints why it is missing, next to its count.
 * The BPF machinery's own leading frames are left out (here and in folded).
 */
void lmp_stacks_out(struct lmp_stacks *s, struct lmp_out *o, const char *key, bool kernel,
		    __u32 pid, const __u64 *ips, int n);

/* "comm;root;...;leaf" for flamegraph.pl; kernel frames "_[k]"; either may be empty */
void lmp_stacks_folded(struct lmp_stacks *s, const char *comm, __u32 pid, const __u64 *uips, int un,
		       const __u64 *kips, int kn, char *buf, size_t len);

#endif /* LMP_STACKS_H */

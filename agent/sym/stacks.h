/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stacks from BPF stack maps, symbolized and printed: one place for what profile, memleak
 * and biostacks share. Kernel frames resolve through the kallsyms table (agent/sym/ksyms.h),
 * user frames through the process's mappings and ELF symbols (agent/sym/usyms.h).
 */
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
/* call once per interval: process mappings are re-read on next use (exec, dlopen) */
void lmp_stacks_interval(struct lmp_stacks *s);

/*
 * Frames of stack id in stack map fd, leaf first: the count (0..LMP_STACK_DEPTH), or -errno
 * (a negative id as bpf_get_stackid returned it; -ENOENT when the map no longer has it).
 */
int lmp_stacks_read(int fd, __s32 id, __u64 ips[LMP_STACK_DEPTH]);
/* forget an id once its samples are reported, so the bounded map keeps room */
void lmp_stacks_delete(int fd, __s32 id);

/*
 * key: [frame, ...], leaf first, "func+0x1c" each. n < 0 prints why the stack is missing
 * ("[lost: stack map collision]"), which is how a loss shows up next to its count. Leading
 * kernel frames of the BPF machinery that took the stack are left out (here and folded).
 */
void lmp_stacks_out(struct lmp_stacks *s, struct lmp_out *o, const char *key, bool kernel,
		    __u32 pid, const __u64 *ips, int n);

/*
 * One line of folded stacks (flamegraph.pl, speedscope): "comm;root;...;leaf", user frames
 * then kernel frames (suffixed "_[k]"), names only. Either stack may be empty (n <= 0).
 */
void lmp_stacks_folded(struct lmp_stacks *s, const char *comm, __u32 pid, const __u64 *uips, int un,
		       const __u64 *kips, int kn, char *buf, size_t len);

#endif /* LMP_STACKS_H */

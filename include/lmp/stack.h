/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stack maps shared by the stack-keyed probes (profile, memleak, biostacks). A stack is kept
 * once in a BPF_MAP_TYPE_STACK_TRACE map and referred to by its id; 64 frames cover the
 * kernel's block and file-system paths and typical user stacks, at 512 bytes per stack
 * (the kernel default of 127 frames would double every stack map).
 */
#ifndef LMP_STACK_H
#define LMP_STACK_H

#define LMP_STACK_DEPTH 64

#endif /* LMP_STACK_H */

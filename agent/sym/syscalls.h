/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86_64 system call numbers <-> names, from a table committed in agent/sym/syscalls.c (no
 * runtime dependency on kernel headers or tracefs). Pure lookups, no state, no logging.
 * Numbers are those of 64-bit tasks; a 32-bit (ia32) task's raw_syscalls number indexes
 * a different table and is not translated here.
 */
#ifndef LMP_SYSCALLS_H
#define LMP_SYSCALLS_H

/* One past the highest number in the table (the array bound of lmp_syscall_name). */
#define LMP_SYSCALL_MAX 470

/* "getppid" for 110; NULL for a negative, unassigned or out-of-range number. */
const char *lmp_syscall_name(int nr);

/* 110 for "getppid" (an optional "sys_" prefix is accepted); -ENOENT if unknown, -EINVAL
 * for NULL or an empty name. */
int lmp_syscall_nr(const char *name);

#endif /* LMP_SYSCALLS_H */

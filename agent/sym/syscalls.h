/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 syscall numbers <-> names of 64-bit tasks, from a committed table. */
#ifndef LMP_SYSCALLS_H
#define LMP_SYSCALLS_H

#define LMP_SYSCALL_MAX 470

/* NULL when unassigned */
const char *lmp_syscall_name(int nr);

/* "sys_" prefix accepted; -ENOENT, -EINVAL for NULL or "" */
int lmp_syscall_nr(const char *name);

#endif /* LMP_SYSCALLS_H */

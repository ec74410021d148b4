/* SPDX-License-Identifier: Apache-2.0 */
/* What probes read about a process from /proc/<pid>. */
#ifndef LMP_PROC_H
#define LMP_PROC_H

#include <stddef.h>
#include <linux/types.h>

/* /proc/<pid>/comm into buf without its newline; buf is left as it was when the process is
 * gone */
void lmp_proc_comm(__u32 pid, char *buf, size_t len);

/*
 * The first file mapped into pid whose basename names lib ("libc" matches "libc.so.6" and
 * "libc-2.31.so"), as /proc/<pid>/root<path>: the process's own image, not the host's.
 * 0, -ENOENT when none is mapped, -ESRCH when the process is gone.
 */
int lmp_proc_find_lib(__u32 pid, const char *lib, char *out, size_t len);

#endif /* LMP_PROC_H */

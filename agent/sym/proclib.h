/* SPDX-License-Identifier: Apache-2.0 */
/* Where a uprobe goes. */
#ifndef LMP_PROCLIB_H
#define LMP_PROCLIB_H

#include <stddef.h>
#include <linux/types.h>

/*
 * The first mapping of one of libs ("libc" names libc.so.6, not libcrypto.so), as
 * /proc/PID/root/...: the image's copy, not the host's. -ENOENT: none; -ESRCH: gone.
 */
int lmp_proc_lib(__u32 pid, const char *const *libs, size_t n, char *out, size_t len);

/*
 * The default version (name@@VER) wins. -ENOENT, -ENOEXEC (not ELF), -EEXIST (two default
 * definitions disagree), or -errno from open.
 */
int lmp_proc_lib_offset(const char *path, const char *name, __u64 *off);

#endif /* LMP_PROCLIB_H */

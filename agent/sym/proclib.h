/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a uprobe goes: the file a process maps for a library, as that process sees it, and
 * the file offset of a function in an ELF file.
 */
#ifndef LMP_PROCLIB_H
#define LMP_PROCLIB_H

#include <stddef.h>
#include <linux/types.h>

/*
 * The first readable mapping of process pid whose file name names one of libs[0..n) ("libc"
 * names libc.so.6 and libc-2.31.so, not libcrypto.so), as a path through the process's
 * root, /proc/PID/root/...: its own image's copy, not the host's. 0; -ENOENT when none is
 * mapped; -ESRCH when the process is gone.
 */
int lmp_proc_lib(__u32 pid, const char *const *libs, size_t n, char *out, size_t len);

/*
 * File offset of function `name` in the ELF file at path: what a uprobe attaches to. Every
 * alias and symbol version of one address agree; where versions of a name sit at different
 * addresses, the default version (name@@VER) wins. Returns 0, -ENOENT (no such function),
 * -ENOEXEC (not ELF), -EEXIST (two default definitions disagree), or -errno from open.
 */
int lmp_proc_lib_offset(const char *path, const char *name, __u64 *off);

#endif /* LMP_PROCLIB_H */

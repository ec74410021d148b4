/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-space symbolization through /proc/<pid>/maps and the ELF symbols. Symbol tables are
 * cached per (device, inode), so every process of an image shares one; mappings change, so
 * they are cached only until lmp_usyms_forget_pids(). Files are opened through
 * /proc/<pid>/map_files, which reaches into a container's mount namespace and deleted
 * binaries.
 */
#ifndef LMP_USYMS_H
#define LMP_USYMS_H

#include <stddef.h>
#include <linux/types.h>

struct lmp_usyms;

struct lmp_usym {
	const char *name;   /* NULL: no symbol covers the address */
	__u64 offset;	    /* from the file start when name is NULL */
	const char *module; /* basename, or "[vdso]", ... */
};

struct lmp_usyms_stats {
	size_t binaries;
	size_t bytes; /* estimated */
	size_t loads;
	size_t evictions;
	size_t pids;
};

/* max_bytes 0: 16 MiB (LRU by binary) */
int lmp_usyms_new(size_t max_bytes, struct lmp_usyms **out);
void lmp_usyms_free(struct lmp_usyms *u);

/*
 * *out's strings are valid until the next call on u. -ENOENT: in no executable mapping;
 * -ESRCH: the process is gone.
 */
int lmp_usyms_resolve(struct lmp_usyms *u, __u32 pid, __u64 addr, struct lmp_usym *out);

/* "func+0x1c", "[libfoo.so+0x1234]" or the address; returns what snprintf returned */
int lmp_usyms_format(struct lmp_usyms *u, __u32 pid, __u64 addr, char *buf, size_t len);

/* re-read on next use */
void lmp_usyms_forget_pids(struct lmp_usyms *u);

void lmp_usyms_get_stats(const struct lmp_usyms *u, struct lmp_usyms_stats *st);

#endif /* LMP_USYMS_H */

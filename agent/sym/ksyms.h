/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel text symbols from /proc/kallsyms, by address, for kernel stacks. */
#ifndef LMP_KSYMS_H
#define LMP_KSYMS_H

#include <stddef.h>
#include <linux/types.h>

struct lmp_ksyms;

struct lmp_ksym {
	__u64 addr;
	const char *name;
	const char *module; /* NULL: the core kernel */
};

/* -ENOENT/-EACCES, -ENODATA: no text symbol, -EPERM: addresses hidden (kptr_restrict) */
int lmp_ksyms_load(const char *path, struct lmp_ksyms **out);
void lmp_ksyms_free(struct lmp_ksyms *ks);

size_t lmp_ksyms_count(const struct lmp_ksyms *ks);
/*
 * The last symbol at or below addr, or NULL; *off = addr - sym. Valid until
 * lmp_ksyms_free, one pointer per symbol. Not thread-safe: the event loop only.
 */
const struct lmp_ksym *lmp_ksyms_resolve(const struct lmp_ksyms *ks, __u64 addr, __u64 *off);
/* linear, or NULL */
const struct lmp_ksym *lmp_ksyms_find(const struct lmp_ksyms *ks, const char *name);

/* "func+0x1c [module]", else the address; returns what snprintf returned */
int lmp_ksyms_format(const struct lmp_ksyms *ks, __u64 addr, char *buf, size_t len);

/*
 * Loaded on the first call and kept for the life of the process. A failure is kept too,
 * so a host without kallsyms costs one attempt, not one per stack.
 */
int lmp_ksyms_default(const struct lmp_ksyms **out);

struct lmp_ksym_range {
	__u64 start, end;
};

/*
 * out[i]: [start, end) of core-kernel function names[i], {0, 0} when absent. path NULL:
 * lmp_ksyms_default's table. Returns how many were found, or lmp_ksyms_load's error.
 */
int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out);

#endif /* LMP_KSYMS_H */

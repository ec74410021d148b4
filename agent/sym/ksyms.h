/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel symbols from /proc/kallsyms: text symbols sorted by address, looked up by binary
 * search, for turning the instruction pointers of kernel stacks into function names. The
 * process-wide table is read once, on first use, because kallsyms is large and does not
 * change while the agent runs, apart from modules.
 */
#ifndef LMP_KSYMS_H
#define LMP_KSYMS_H

#include <stddef.h>
#include <linux/types.h>

struct lmp_ksyms;

struct lmp_ksym {
	__u64 addr;
	const char *name;
	const char *module; /* "ext4", or NULL for the core kernel */
};

/*
 * Read a kallsyms-format file (tests pass samples; the agent uses lmp_ksyms_default).
 * Returns 0, -ENOENT/-EACCES when it cannot be read, -ENODATA when it holds no text symbol,
 * -EPERM when every address reads as zero (kptr_restrict hides them from this process).
 */
int lmp_ksyms_load(const char *path, struct lmp_ksyms **out);
void lmp_ksyms_free(struct lmp_ksyms *ks);

size_t lmp_ksyms_count(const struct lmp_ksyms *ks);
/*
 * The symbol whose range holds addr (the last one at or below it), or NULL (none, or out of
 * memory); *off = addr - sym. A returned symbol stays valid until lmp_ksyms_free, and is the
 * same pointer for every address it covers. Lookups build that struct on first use, so they
 * are not thread-safe: the agent resolves from its event loop only.
 */
const struct lmp_ksym *lmp_ksyms_resolve(const struct lmp_ksyms *ks, __u64 addr, __u64 *off);
/* by name (linear: for tests and one-off lookups), or NULL */
const struct lmp_ksym *lmp_ksyms_find(const struct lmp_ksyms *ks, const char *name);

/*
 * "func+0x1c", "func+0x1c [module]", or "0xffffffff81234567" when nothing resolves; always
 * NUL-terminated. Returns what snprintf returned.
 */
int lmp_ksyms_format(const struct lmp_ksyms *ks, __u64 addr, char *buf, size_t len);

/*
 * The table of /proc/kallsyms, loaded on the first call and kept for the life of the
 * process. A failed load is remembered too (its -errno returned on every call), so a host
 * without kallsyms costs one attempt, not one per stack.
 */
int lmp_ksyms_default(const struct lmp_ksyms **out);

/* [start, end) of a kernel function's text */
struct lmp_ksym_range {
	__u64 start, end;
};

/*
 * Core-kernel functions by name, for probes that tell callers apart by a return address:
 * out[i] gets the range of names[i], or {0, 0} when absent; a function ends where the next
 * higher text symbol starts. path NULL reads the table of lmp_ksyms_default (so every user
 * shares one reading of /proc/kallsyms), a path a file of that format. Returns how many were
 * found, or what lmp_ksyms_load returns (-EPERM: addresses hidden by kptr_restrict).
 */
int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out);

#endif /* LMP_KSYMS_H */

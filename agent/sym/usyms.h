/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-space symbolization: an address in a process -> the mapping that holds it
 * (/proc/<pid>/maps) -> the file offset -> the ELF virtual address (through the PT_LOAD
 * segments) -> the function (.symtab, else .dynsym, else the build-id debug file).
 *
 * Symbol tables are cached per binary, keyed by (device, inode) as /proc/<pid>/maps reports
 * them, so every process of an image shares one copy; the cache is bounded in bytes and
 * evicts the least recently used binary. Process mappings change (exec, dlopen), so they
 * are cached only until lmp_usyms_forget_pids(), which the probes call once per interval.
 * Files are opened through /proc/<pid>/map_files, which reaches into a container's mount
 * namespace and still works for deleted binaries.
 */
#ifndef LMP_USYMS_H
#define LMP_USYMS_H

#include <stddef.h>
#include <linux/types.h>

struct lmp_usyms;

struct lmp_usym {
	const char *name;   /* function, or NULL when no symbol covers the address */
	__u64 offset;	    /* from the function; from the file start when name is NULL */
	const char *module; /* basename of the mapped file, or "[vdso]", "[anon]", ... */
};

struct lmp_usyms_stats {
	size_t binaries;  /* symbol tables in the cache */
	size_t bytes;	  /* their estimated size */
	size_t loads;	  /* tables read from files so far */
	size_t evictions; /* tables dropped to stay under the bound */
	size_t pids;	  /* processes whose mappings are cached */
};

/* max_bytes bounds the symbol-table cache (0: 16 MiB, what the agent uses) */
int lmp_usyms_new(size_t max_bytes, struct lmp_usyms **out);
void lmp_usyms_free(struct lmp_usyms *u);

/*
 * Resolve addr in process pid. 0 with *out filled (strings valid until the next call on u);
 * -ENOENT when the address is in no executable mapping; -ESRCH when the process is gone.
 */
int lmp_usyms_resolve(struct lmp_usyms *u, __u32 pid, __u64 addr, struct lmp_usym *out);

/*
 * "func+0x1c", "[libfoo.so+0x1234]" (mapped, no symbol) or "0x7f12..." (unknown); always
 * NUL-terminated. Returns what snprintf returned.
 */
int lmp_usyms_format(struct lmp_usyms *u, __u32 pid, __u64 addr, char *buf, size_t len);

/* Drop cached process mappings; they are re-read on next use. */
void lmp_usyms_forget_pids(struct lmp_usyms *u);

void lmp_usyms_get_stats(const struct lmp_usyms *u, struct lmp_usyms_stats *st);

#endif /* LMP_USYMS_H */

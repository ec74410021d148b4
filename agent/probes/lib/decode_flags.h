/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding helpers shared by the event probes (oomkill, sigsnoop, bindsnoop, mountsnoop,
 * opensnoop, capable): bit-flag and enum tables turned into names, signal lists parsed
 * from options, and kernel function address ranges looked up in /proc/kallsyms (for the
 * probes that tell callers apart by a return address on the kernel stack). Pure functions
 * apart from reading the kallsyms file; nothing here logs.
 */
#ifndef LMP_DECODE_FLAGS_H
#define LMP_DECODE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* One flag of a bit set; mask is usually a single bit but may span several (O_ACCMODE). */
struct lmp_flag_name {
	__u64 mask;
	__u64 value; /* (v & mask) == value sets the flag; value 0 with a mask names a field */
	const char *name;
};

#define LMP_FLAG(bit, name)          \
	{                            \
		(bit), (bit), (name) \
	}

/*
 * "O_WRONLY|O_CREAT|0x40000000": every table entry that matches the bits not yet explained,
 * in table order, then what is left in hex. A matching entry consumes its mask, so list
 * composites (O_SYNC before O_DSYNC) and zero-valued field entries (O_RDONLY in O_ACCMODE)
 * before what shares their bits. v = 0 with no entry for it prints "0". Always
 * NUL-terminates; returns the length it wanted (as snprintf does), to detect truncation.
 */
size_t lmp_flags_format(const struct lmp_flag_name *t, size_t n, __u64 v, char *buf, size_t len);

/* Exact-value names (an enum): NULL when v is not in the table. */
struct lmp_enum_name {
	__u64 value;
	const char *name;
};
const char *lmp_enum_name(const struct lmp_enum_name *t, size_t n, __u64 v);

/*
 * Parse a comma list of signals ("SIGCHLD,urg,9"; names with or without SIG, any case,
 * numbers 0..63) into a bit mask (bit n = signal n). "" and "none" give 0. -EINVAL with a
 * one-line reason in err for anything else.
 */
int lmp_signal_mask_parse(const char *list, __u64 *mask, char *err, size_t errlen);

/* [start, end) of a kernel function's text, from kallsyms. */
struct lmp_ksym_range {
	__u64 start, end;
};

/*
 * Look names up in a kallsyms-format file (path NULL: /proc/kallsyms). out[i] gets the
 * range of names[i], or {0, 0} when absent; a function ends where the next higher symbol
 * starts. Returns how many were found, -EPERM when the file hides addresses (kptr_restrict)
 * or -errno when it cannot be read.
 */
int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out);

/*
 * Syscall probes follow several system calls but list one of them in their hooks table
 * (a group must have an alternative on every kernel, and e.g. open(2) does not exist on
 * arm64). The others ride along: each such program loads only when its group chose the
 * tracepoint kind and its own tracepoint exists here; with a raw sys_enter/sys_exit
 * fallback chosen instead, that one program covers every call. Call from .configure.
 */
struct lmp_probe;
struct lmp_extra_tp {
	const char *prog;	/* BPF program name */
	const char *tracepoint; /* "syscalls/sys_enter_openat2" */
};
void lmp_extra_tracepoints(struct lmp_probe *p, const char *group, const struct lmp_extra_tp *x,
			   size_t n);

#endif /* LMP_DECODE_FLAGS_H */

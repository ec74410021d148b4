/* SPDX-License-Identifier: Apache-2.0 */
/* Bit-flag and enum tables turned into names, for the event probes' records. */
#ifndef LMP_DECODE_FLAGS_H
#define LMP_DECODE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* config.c parses --sigsnoop-ignore through this header until it includes signals.h */
#include "probes/lib/signals.h"

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

#endif /* LMP_DECODE_FLAGS_H */

/* SPDX-License-Identifier: Apache-2.0 */
/* Flag and enum tables turned into names. */
#ifndef LMP_DECODE_FLAGS_H
#define LMP_DECODE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* mask may span several bits (O_ACCMODE) */
struct lmp_flag_name {
	__u64 mask;
	__u64 value; /* (v & mask) == value */
	const char *name;
};

#define LMP_FLAG(bit, name)          \
	{                            \
		(bit), (bit), (name) \
	}

/*
 * "O_WRONLY|O_CREAT|0x40000000". A match consumes its mask, so list composites (O_SYNC)
 * and zero-valued fields (O_RDONLY) first. Returns the length wanted, as snprintf does.
 */
size_t lmp_flags_format(const struct lmp_flag_name *t, size_t n, __u64 v, char *buf, size_t len);

struct lmp_enum_name {
	__u64 value;
	const char *name;
};
/* NULL when v is not in the table */
const char *lmp_enum_name(const struct lmp_enum_name *t, size_t n, __u64 v);

#endif /* LMP_DECODE_FLAGS_H */

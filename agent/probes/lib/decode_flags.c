// SPDX-License-Identifier: Apache-2.0
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probes/lib/decode_flags.h"

static size_t append(char *buf, size_t len, size_t used, const char *s)
{
	size_t n = strlen(s);

	if (used < len) {
		size_t room = len - used - 1;

		memcpy(buf + used, s, n < room ? n : room);
		buf[used + (n < room ? n : room)] = 0;
	}
	return used + n;
}

size_t lmp_flags_format(const struct lmp_flag_name *t, size_t n, __u64 v, char *buf, size_t len)
{
	__u64 left = v;
	size_t used = 0;
	char hex[24];

	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (!t[i].mask || (left & t[i].mask) != t[i].value)
			continue;
		if (used)
			used = append(buf, len, used, "|");
		used = append(buf, len, used, t[i].name);
		left &= ~t[i].mask;
	}
	if (left || !used) {
		snprintf(hex, sizeof(hex), left ? "0x%" PRIx64 : "0", (uint64_t)left);
		if (used)
			used = append(buf, len, used, "|");
		used = append(buf, len, used, hex);
	}
	return used;
}

const char *lmp_enum_name(const struct lmp_enum_name *t, size_t n, __u64 v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return NULL;
}

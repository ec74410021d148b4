// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/probe.h"
#include "probes/lib/signals.h"

static int signal_parse_one(const char *s, size_t n)
{
	char word[24];
	char *end;
	long v;

	if (n == 0 || n >= sizeof(word))
		return -EINVAL;
	memcpy(word, s, n);
	word[n] = 0;
	if (isdigit((unsigned char)word[0])) {
		errno = 0;
		v = strtol(word, &end, 10);
		return errno || *end || v < 0 || v > 63 ? -EINVAL : (int)v;
	}
	for (int sig = 1; sig <= 63; sig++) {
		const char *name = lmp_signal_name(sig);

		if (!name)
			continue;
		if (strcasecmp(word, name) == 0 || strcasecmp(word, name + 3) == 0)
			return sig;
	}
	return -EINVAL;
}

int lmp_signal_mask_parse(const char *list, __u64 *mask, char *err, size_t errlen)
{
	const char *p = list;

	*mask = 0;
	if (!list || !*list || strcmp(list, "none") == 0)
		return 0;
	while (p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int sig;

		while (n && isspace((unsigned char)*p))
			p++, n--;
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		sig = signal_parse_one(p, n);
		if (sig < 0) {
			snprintf(err, errlen,
				 "unknown signal '%.*s' (names like SIGCHLD, or 0..63)",
				 (int)(n > 32 ? 32 : n), p);
			return -EINVAL;
		}
		*mask |= 1ULL << sig;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Flag/enum names, signal lists and kallsyms ranges for the event probes (decode_flags.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <bpf/libbpf.h>

#include "probe.h"
#include "decode_flags.h"

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
		/*
		 * Matched against the bits not yet explained, so a composite entry listed first
		 * (O_SYNC = __O_SYNC|O_DSYNC, a magic number) hides its parts; a zero-valued
		 * field entry (O_RDONLY) names v when that field's bits are clear.
		 */
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

int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "re");
	bool pending[16] = { false }, nonzero = false;
	char line[512], name[256], type;
	unsigned long long addr;
	int found = 0;

	if (!f)
		return -errno;
	if (n > 16)
		n = 16; /* callers ask for a handful of functions */
	memset(out, 0, n * sizeof(*out));
	/*
	 * kallsyms lists vmlinux symbols in address order, so a function ends at the first
	 * later line with a higher address (aliases share an address and are skipped).
	 */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		nonzero |= addr != 0;
		for (size_t i = 0; i < n; i++) {
			if (pending[i] && addr > out[i].start) {
				out[i].end = addr;
				pending[i] = false;
			}
		}
		if (type != 't' && type != 'T')
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!out[i].start && strcmp(name, names[i]) == 0 && !strchr(line, '[')) {
				out[i].start = addr;
				pending[i] = true;
			}
		}
	}
	fclose(f);
	if (!nonzero) {
		memset(out, 0, n * sizeof(*out));
		return -EPERM;
	}
	for (size_t i = 0; i < n; i++) {
		/* no end seen, or an implausible size: the file was not sorted there */
		if (!out[i].start || !out[i].end || out[i].end - out[i].start > (1u << 20)) {
			out[i].start = out[i].end = 0;
			continue;
		}
		found++;
	}
	return found;
}

void lmp_extra_tracepoints(struct lmp_probe *p, const char *group, const struct lmp_extra_tp *x,
			   size_t n)
{
	const struct lmp_probe_desc *d = p->desc;
	bool tracepoint = false;

	for (size_t i = 0; i < d->n_hooks; i++)
		if (p->chosen[i] && strcmp(d->hooks[i].group, group) == 0)
			tracepoint = d->hooks[i].kind == LMP_HOOK_TRACEPOINT;
	for (size_t i = 0; i < n; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(p->obj, x[i].prog);
		const char *why = "";

		if (prog)
			bpf_program__set_autoload(
				prog, tracepoint && lmp_feature_hook(NULL, LMP_HOOK_TRACEPOINT,
								     x[i].tracepoint, &why));
	}
}

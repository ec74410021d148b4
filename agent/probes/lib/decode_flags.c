// SPDX-License-Identifier: Apache-2.0
/* Flag/enum names, signal lists and kallsyms ranges for the event probes (decode_flags.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "probe/probe.h"
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

/* one kallsyms line "ffffffff81000000 T name\t[module]": false when it is not one */
struct ksym_line {
	__u64 addr;
	char type;
	const char *name;
	size_t name_len;
	bool module;
};

static bool ksym_parse(const char *s, const char *end, struct ksym_line *l)
{
	int digits = 0;

	l->addr = 0;
	for (; s < end && isxdigit((unsigned char)*s); s++, digits++)
		l->addr = l->addr << 4 |
			  (__u64)(isdigit((unsigned char)*s) ? *s - '0' : (*s | 0x20) - 'a' + 10);
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (!digits || s >= end)
		return false;
	l->type = *s++;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	l->name = s;
	while (s < end && !isspace((unsigned char)*s))
		s++;
	l->name_len = s - l->name;
	l->module = memchr(s, '[', end - s) != NULL;
	return l->name_len > 0;
}

#define KSYM_CHUNK (64 * 1024)

int lmp_ksym_ranges(const char *path, const char *const *names, size_t n,
		    struct lmp_ksym_range *out)
{
	int fd = open(path ? path : "/proc/kallsyms", O_RDONLY | O_CLOEXEC), found = 0;
	bool pending[16] = { false }, nonzero = false, eof = false;
	size_t lens[16], have = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(KSYM_CHUNK);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	if (n > 16)
		n = 16; /* callers ask for a handful of functions */
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(names[i]);
	/*
	 * Read in large chunks and parse by hand: the file has 100k+ lines, and fgets+sscanf
	 * over it cost ~100 ms of agent start-up per caller (docs/performance.md).
	 * kallsyms lists vmlinux symbols in address order, so a function ends at the first
	 * later line with a higher address (aliases share an address and are skipped).
	 */
	while (!eof) {
		ssize_t r = read(fd, buf + have, KSYM_CHUNK - have);
		char *p = buf, *end, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			found = -errno;
			goto out;
		}
		eof = r == 0;
		end = buf + have + r;
		while ((nl = memchr(p, '\n', end - p)) || (eof && p < end)) {
			char *le = nl ? nl : end;
			struct ksym_line l;

			if (ksym_parse(p, le, &l)) {
				nonzero |= l.addr != 0;
				for (size_t i = 0; i < n; i++) {
					if (pending[i] && l.addr > out[i].start) {
						out[i].end = l.addr;
						pending[i] = false;
					}
				}
				for (size_t i = 0; (l.type == 't' || l.type == 'T') && i < n; i++) {
					if (!out[i].start && !l.module && l.name_len == lens[i] &&
					    memcmp(l.name, names[i], lens[i]) == 0) {
						out[i].start = l.addr;
						pending[i] = true;
					}
				}
			}
			p = nl ? nl + 1 : end;
		}
		have = end - p;
		if (have == KSYM_CHUNK) /* a 64 KiB line: not kallsyms, drop it */
			have = 0;
		memmove(buf, p, have);
	}
	if (!nonzero) {
		memset(out, 0, n * sizeof(*out));
		found = -EPERM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* no end seen, or an implausible size: the file was not sorted there */
		if (!out[i].start || !out[i].end || out[i].end - out[i].start > (1u << 20)) {
			out[i].start = out[i].end = 0;
			continue;
		}
		found++;
	}
out:
	free(buf);
	close(fd);
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

// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "base/log.h"

static enum lmp_log_level min_level = LMP_LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

int lmp_log_parse_level(const char *s, enum lmp_log_level *out)
{
	for (int i = 0; i <= LMP_LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

void lmp_log_set_level(enum lmp_log_level lvl)
{
	min_level = lvl;
}

static void vlog(enum lmp_log_level lvl, int err, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n += snprintf(line + n, sizeof(line) - n, " lmp %s: ", level_names[lvl]);
	n += vsnprintf(line + n, n < (int)sizeof(line) ? sizeof(line) - n : 0, fmt, ap);
	if (err && n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(-err));
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	/* one write per line, so lines from here never interleave mid-line */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n] = '\n';
	fwrite(line, 1, n + 1, stderr);
}

void lmp_log(enum lmp_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, 0, fmt, ap);
	va_end(ap);
}

void lmp_log_errno(enum lmp_log_level lvl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, err, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum lmp_log_level lvl = level == LIBBPF_WARN ? LMP_LOG_WARN : LMP_LOG_DEBUG;
	char buf[1024];

	if (lvl < min_level)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libbpf's own warnings already start with "libbpf: "; the verifier's lines do not */
	lmp_log(lvl, "%s%s", strncmp(buf, "libbpf: ", 8) ? "libbpf: " : "", buf);
	return 0;
}

void lmp_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

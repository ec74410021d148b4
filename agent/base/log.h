/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics: stderr only, one line each; stdout carries nothing but events. */
#ifndef LMP_LOG_H
#define LMP_LOG_H

enum lmp_log_level {
	LMP_LOG_DEBUG,
	LMP_LOG_INFO,
	LMP_LOG_WARN,
	LMP_LOG_ERROR,
};

/* parse "debug|info|warn|error"; -EINVAL otherwise */
int lmp_log_parse_level(const char *s, enum lmp_log_level *out);
void lmp_log_set_level(enum lmp_log_level lvl);
void lmp_log(enum lmp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* err is a negative errno; its text is appended */
void lmp_log_errno(enum lmp_log_level lvl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* route libbpf's own messages through lmp_log (warnings and above unless debug) */
void lmp_log_hook_libbpf(void);

#endif /* LMP_LOG_H */

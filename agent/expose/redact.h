/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets in command lines: the values of argv arguments whose name looks like a secret
 * become "***"; the name stays, so the event still says what was passed. Only names are
 * matched, never values. The rules: docs/security.md, "Secrets in command lines". Pure
 * string work, no I/O, no logging.
 */
#ifndef LMP_REDACT_H
#define LMP_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* the --redact-patterns default */
#define LMP_REDACT_DEFAULT                                                         \
	"password,passwd,pwd,secret,token,apikey,accesskey,privatekey,credential," \
	"authorization,cookie"

#define LMP_REDACT_MARK "***"
#define LMP_REDACT_MAX_PATTERNS 64
#define LMP_REDACT_MAX_PATTERN_LEN 64

struct lmp_redact;

/*
 * A comma list; a leading '+' adds to the defaults. -EINVAL with a reason in err for an
 * empty or too long pattern, too many, or characters other than [A-Za-z0-9._-]; -ENOMEM.
 */
int lmp_redact_new(const char *patterns, struct lmp_redact **out, char *err, size_t errlen);
void lmp_redact_free(struct lmp_redact *r);

/* the lmp_option check of --redact-patterns */
int lmp_redact_check(const char *patterns, char *err, size_t errlen);

/* name may have leading dashes */
bool lmp_redact_name_is_secret(const struct lmp_redact *r, const char *name, size_t len);

/*
 * in[0..len) and out are NUL-separated as in /proc/<pid>/cmdline (the last argument may be
 * cut short). Writes at most cap bytes (2 * len + 8 always suffices) and returns how many;
 * *n_redacted (may be NULL) counts the values replaced.
 */
size_t lmp_redact_args(const struct lmp_redact *r, const char *in, size_t len, char *out,
		       size_t cap, unsigned *n_redacted);

/*
 * patterns as text (NULL or "": the defaults), compiled once and kept until the text
 * changes; patterns that do not compile fall back to the defaults
 */
size_t lmp_redact_argv(const char *patterns, const char *in, size_t len, char *out, size_t cap,
		       unsigned *n_redacted);

#endif /* LMP_REDACT_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets in command lines: exec events carry argv, and argv is where people put
 * `--password=hunter2`, `token=...` or `AWS_SECRET_ACCESS_KEY=...`. Before an argv leaves the
 * agent, values whose name looks like a secret are replaced by "***"; the name stays, so the
 * event still says what was passed. Pure string work, no I/O, no logging.
 *
 * Patterns are case-insensitive substrings of an argument's name, compared with '-', '_'
 * and '.' removed on both sides ("api_key" matches --api-key, API_KEY and apiKey). What is
 * redacted:
 *   NAME=VALUE and --NAME=VALUE    the VALUE
 *   NAME: VALUE (a header)         the VALUE ("Authorization: Bearer x")
 *   --NAME VALUE / -NAME VALUE     the next argument, whole
 *   scheme://user:PASSWORD@host    the PASSWORD, whatever the patterns
 *   "NAME": VALUE inside an argument (JSON, or a Python dict with ')
 *                                  a quoted VALUE between its quotes; a bare one (a
 *                                  number) to the next ',', '}', ']' or space
 *   NAME=VALUE after ' ', ',', ';', '&' or '?' inside an argument (libpq conninfo, mount
 *                                  -o lists, query strings): the VALUE, to the next of those
 *   -pVALUE / -p VALUE of a few programs only (mysql and mariadb tools -pVALUE; sshpass -p,
 *                                  7z -p, redis-cli -a, zip/unzip -P, curl -u): elsewhere a
 *                                  short option is a port, a count or a flag (-p8080:80,
 *                                  patch -p1, gcc -pthread) and is left alone
 * A name that ends in "file", "path" or "dir" names where a secret is, not the secret
 * (--token-file /var/run/...): it is left alone. A secret-looking word as a value
 * ("kind": "password") is left alone: only names are matched.
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
 * Compile a comma list of patterns. A leading '+' adds the list to the defaults instead of
 * replacing them. -EINVAL (with a reason in err) for an empty pattern, one longer than
 * LMP_REDACT_MAX_PATTERN_LEN, more than LMP_REDACT_MAX_PATTERNS, or characters other than
 * letters, digits, '-', '_' and '.'; -ENOMEM.
 */
int lmp_redact_new(const char *patterns, struct lmp_redact **out, char *err, size_t errlen);
void lmp_redact_free(struct lmp_redact *r);

/* option check for --redact-patterns (the lmp_option check signature) */
int lmp_redact_check(const char *patterns, char *err, size_t errlen);

/* does this argument name (leading dashes allowed) look like it holds a secret? */
bool lmp_redact_name_is_secret(const struct lmp_redact *r, const char *name, size_t len);

/*
 * Redact an argv given as /proc/<pid>/cmdline gives it: in[0..len) holds NUL-separated
 * arguments, the last one possibly cut short and unterminated. The result goes to out in
 * the same form; it never holds more than cap bytes (2 * len + 8 always suffices). Returns
 * the bytes written; *n_redacted (may be NULL) counts the values replaced.
 */
size_t lmp_redact_args(const struct lmp_redact *r, const char *in, size_t len, char *out,
		       size_t cap, unsigned *n_redacted);

/*
 * The same with the patterns given as text (NULL or "" for the defaults): compiled once
 * and kept until the text changes. Patterns that do not compile fall back to the defaults.
 */
size_t lmp_redact_argv(const char *patterns, const char *in, size_t len, char *out, size_t cap,
		       unsigned *n_redacted);

#endif /* LMP_REDACT_H */

// SPDX-License-Identifier: Apache-2.0
/* agent/expose/redact.c: which argv values are secrets, and what the redacted argv looks like. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "expose/redact.h"

/* argv as a NULL-terminated list -> NUL-separated block (as /proc/<pid>/cmdline) */
static size_t pack(const char *const *argv, char *buf, size_t cap)
{
	size_t n = 0;

	for (int i = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]) + 1;

		assert_true(n + l <= cap);
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	return n;
}

/* NUL-separated block -> "a|b|c" for readable comparisons */
static void join(const char *buf, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = buf[i] ? buf[i] : '|';
	out[k] = 0;
}

static void check(const char *patterns, const char *const *argv, const char *want, unsigned want_n)
{
	struct lmp_redact *r;
	char in[1024], out[2 * 1024 + 8], got[4096];
	size_t n = pack(argv, in, sizeof(in)), m;
	unsigned count = 99;

	assert_int_equal(lmp_redact_new(patterns, &r, NULL, 0), 0);
	m = lmp_redact_args(r, in, n, out, sizeof(out), &count);
	join(out, m, got, sizeof(got));
	assert_string_equal(got, want);
	assert_int_equal(count, want_n);
	lmp_redact_free(r);
}

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_redact_flag_equals(void **state)
{
	check(NULL, ARGV("mysql", "--user=app", "--password=hunter2", "db"),
	      "mysql|--user=app|--password=***|db|", 1);
	check(NULL, ARGV("app", "-Dspring.datasource.password=pw", "-Xmx1g"),
	      "app|-Dspring.datasource.password=***|-Xmx1g|", 1);
}

static void test_redact_env_style(void **state)
{
	check(NULL,
	      ARGV("env", "AWS_ACCESS_KEY_ID=AKIA123", "AWS_SECRET_ACCESS_KEY=abc/def+g",
		   "GITHUB_TOKEN=ghp_x", "HOME=/root", "aws"),
	      "env|AWS_ACCESS_KEY_ID=***|AWS_SECRET_ACCESS_KEY=***|GITHUB_TOKEN=***|HOME=/root|"
	      "aws|",
	      3);
	check(NULL, ARGV("curl", "token=abc", "x=token"), "curl|token=***|x=token|", 1);
}

static void test_redact_separate_value(void **state)
{
	check(NULL, ARGV("vault", "login", "--token", "s.abc", "--address", "http://v"),
	      "vault|login|--token|***|--address|http://v|", 1);
	/* a flag that follows is not taken as the value */
	check(NULL, ARGV("tool", "--no-token", "--verbose"), "tool|--no-token|--verbose|", 0);
	/* the program name is never a flag */
	check(NULL, ARGV("-token", "value"), "-token|value|", 0);
	/* flag at the very end: nothing to redact */
	check(NULL, ARGV("tool", "--password"), "tool|--password|", 0);
}

static void test_redact_name_variants(void **state)
{
	check(NULL, ARGV("x", "--api-key=1", "--API_KEY=2", "--apiKey=3", "--ApiKey", "4"),
	      "x|--api-key=***|--API_KEY=***|--apiKey=***|--ApiKey|***|", 4);
}

static void test_redact_file_path_names_kept(void **state)
{
	check(NULL,
	      ARGV("kubelet", "--token-file=/var/run/t", "--password-file", "/etc/pw",
		   "--secret-dir=/s", "--cert-path", "/p"),
	      "kubelet|--token-file=/var/run/t|--password-file|/etc/pw|--secret-dir=/s|"
	      "--cert-path|/p|",
	      0);
}

static void test_redact_header(void **state)
{
	check(NULL, ARGV("curl", "-H", "Authorization: Bearer eyJabc", "-H", "Accept: */*"),
	      "curl|-H|Authorization: ***|-H|Accept: */*|", 1);
	check(NULL, ARGV("curl", "-H", "Cookie:sid=1"), "curl|-H|Cookie:***|", 1);
}

static void test_redact_url_password(void **state)
{
	check(NULL, ARGV("psql", "postgres://app:s3cr@t@db:5432/x?ssl=1"),
	      "psql|postgres://app:***@db:5432/x?ssl=1|", 1);
	check(NULL, ARGV("git", "clone", "https://user@host/r", "https://host/r2"),
	      "git|clone|https://user@host/r|https://host/r2|", 0);
	check(NULL, ARGV("x", "--upstream=redis://:pw@r:6379,amqp://u:p2@q/"),
	      "x|--upstream=redis://:***@r:6379,amqp://u:***@q/|", 2);
	/* the URL rule holds whatever the patterns */
	check("nothingmatches", ARGV("x", "http://a:b@c"), "x|http://a:***@c|", 1);
}

/* issue 15: mysql -pSECRET, by program only; elsewhere -p is a port, a count, a flag */
static void test_redact_short_option_glued(void **state)
{
	check(NULL, ARGV("mysql", "-uroot", "-pS3cret!", "-h", "db", "shop"),
	      "mysql|-uroot|-p***|-h|db|shop|", 1);
	check(NULL, ARGV("/usr/bin/mysqldump", "-pS3cret", "shop"),
	      "/usr/bin/mysqldump|-p***|shop|", 1);
	check(NULL, ARGV("mariadb", "-ppw"), "mariadb|-p***|", 1);
	/* mysql -p alone prompts; the next argument is the database, not a password */
	check(NULL, ARGV("mysql", "-p", "shop"), "mysql|-p|shop|", 0);
	check(NULL, ARGV("sshpass", "-p", "pw", "ssh", "host"), "sshpass|-p|***|ssh|host|", 1);
	check(NULL, ARGV("sshpass", "-ppw", "ssh", "host"), "sshpass|-p***|ssh|host|", 1);
	check(NULL, ARGV("7z", "x", "-pS3cret", "a.7z"), "7z|x|-p***|a.7z|", 1);
	check(NULL, ARGV("redis-cli", "-a", "pw", "ping"), "redis-cli|-a|***|ping|", 1);
	check(NULL, ARGV("curl", "-u", "me:pw", "https://x"), "curl|-u|***|https://x|", 1);
	check(NULL, ARGV("zip", "-P", "pw", "a.zip", "f"), "zip|-P|***|a.zip|f|", 1);
	/* not these programs: nothing to hide */
	check(NULL, ARGV("docker", "run", "-p8080:80", "nginx"), "docker|run|-p8080:80|nginx|", 0);
	check(NULL, ARGV("patch", "-p1"), "patch|-p1|", 0);
	check(NULL, ARGV("gcc", "-pthread", "-pipe", "x.c"), "gcc|-pthread|-pipe|x.c|", 0);
	check(NULL, ARGV("find", ".", "-print"), "find|.|-print|", 0);
	/* the program's own name is never taken for an option */
	check(NULL, ARGV("-pSECRETLESS"), "-pSECRETLESS|", 0);
	/* nor a long option of these programs */
	check(NULL, ARGV("mysql", "--port=3306", "--protocol", "tcp"),
	      "mysql|--port=3306|--protocol|tcp|", 0);
}

/* issue 15: JSON (and Python dicts) in argv: the values of secret keys */
static void test_redact_json_in_argv(void **state)
{
	check(NULL, ARGV("curl", "-d", "{\"user\":\"app\",\"password\":\"hunter2\"}", "https://x"),
	      "curl|-d|{\"user\":\"app\",\"password\":\"***\"}|https://x|", 1);
	check(NULL, ARGV("app", "--config={\"db\": {\"api_key\" : \"k\\\"ey\", \"pin\": 1234}}"),
	      "app|--config={\"db\": {\"api_key\" : \"***\", \"pin\": 1234}}|", 1);
	check(NULL, ARGV("app", "{\"token\": 12345, \"n\": 1}"), "app|{\"token\": ***, \"n\": 1}|",
	      1);
	check(NULL, ARGV("python3", "-c", "f({'secret': 'x y', 'a': 'b'})"),
	      "python3|-c|f({'secret': '***', 'a': 'b'})|", 1);
	/* a secret-looking word as a value, or a key without a value, stays */
	check(NULL, ARGV("app", "{\"kind\":\"password\",\"token\"}"),
	      "app|{\"kind\":\"password\",\"token\"}|", 0);
	/* an object under a secret key is walked, not swallowed */
	check(NULL, ARGV("app", "{\"credentials\": {\"user\": \"u\"}}"),
	      "app|{\"credentials\": {\"user\": \"u\"}}|", 0);
	/* an unterminated string: nothing read past the end */
	check(NULL, ARGV("app", "{\"password\": \"abc"), "app|{\"password\": \"***|", 1);
}

/* NAME=VALUE inside an argument: libpq conninfo, option lists, query strings */
static void test_redact_inner_pairs(void **state)
{
	check(NULL, ARGV("psql", "host=db user=app password=pw dbname=shop"),
	      "psql|host=db user=app password=*** dbname=shop|", 1);
	check(NULL, ARGV("mount", "-o", "user=u,password=pw,vers=3", "//s/x", "/mnt"),
	      "mount|-o|user=u,password=***,vers=3|//s/x|/mnt|", 1);
	check(NULL, ARGV("curl", "https://api.example/v1?user=u&token=abc#top"),
	      "curl|https://api.example/v1?user=u&token=***#top|", 1);
	check(NULL, ARGV("app", "--opt=a=1,secret=s"), "app|--opt=a=1,secret=***|", 1);
	check(NULL, ARGV("app", "x=tokens-are-words"), "app|x=tokens-are-words|", 0);
}

static void test_redact_patterns_configurable(void **state)
{
	check("mycorp_key", ARGV("x", "--password=p", "--MYCORP-KEY=k"),
	      "x|--password=p|--MYCORP-KEY=***|", 1);
	check("+mycorp_key", ARGV("x", "--password=p", "--mycorpkey=k"),
	      "x|--password=***|--mycorpkey=***|", 2);
	check("+", ARGV("x", "--password=p"), "x|--password=***|", 1);
}

static void test_redact_empty_value_and_no_args(void **state)
{
	check(NULL, ARGV("x", "--password=", "token="), "x|--password=|token=|", 0);
	check(NULL, ARGV(""), "|", 0);
}

static void test_redact_truncated_last_arg(void **state)
{
	struct lmp_redact *r;
	/* cmdline cut mid-argument: no NUL after the last one, and none is added */
	const char in[] = { 'x', 0, '-', '-', 't', 'o', 'k', 'e', 'n', 0, 's', '.', 'a' };
	const char in2[] = { 'x', 0, 'p', 'a', 's', 's', 'w', 'o', 'r', 'd', '=', 'a', 'b' };
	char out[64];
	unsigned n;
	size_t m;

	assert_int_equal(lmp_redact_new(NULL, &r, NULL, 0), 0);
	m = lmp_redact_args(r, in, sizeof(in), out, sizeof(out), &n);
	assert_int_equal(n, 1);
	assert_int_equal(m, 13);
	assert_memory_equal(out, "x\0--token\0***", 13);
	m = lmp_redact_args(r, in2, sizeof(in2), out, sizeof(out), &n);
	assert_int_equal(n, 1);
	assert_int_equal(m, 14);
	assert_memory_equal(out, "x\0password=***", 14);
	lmp_redact_free(r);
}

static void test_redact_output_never_overflows(void **state)
{
	struct lmp_redact *r;
	char in[300], out[600 + 8], small[10];
	size_t n = 0, m;
	unsigned cnt;

	/* worst growth: "t=" + one-byte values, each becomes "t=***" */
	while (n + 4 <= sizeof(in)) {
		memcpy(in + n, "t=x", 4);
		n += 4;
	}
	assert_int_equal(lmp_redact_new("t", &r, NULL, 0), 0);
	m = lmp_redact_args(r, in, n, out, sizeof(out), &cnt);
	assert_int_equal(cnt, n / 4);
	assert_int_equal(m, n / 4 * 6);
	memset(small, 'Z', sizeof(small));
	m = lmp_redact_args(r, in, n, small, 8, &cnt);
	assert_int_equal(m, 8);
	assert_int_equal(small[8], 'Z');
	lmp_redact_free(r);
}

static void test_redact_bad_patterns(void **state)
{
	struct lmp_redact *r = (void *)1;
	char err[200];
	char many[64 * 3 + 8] = "";

	assert_int_equal(lmp_redact_new("a,,b", &r, err, sizeof(err)), -EINVAL);
	assert_null(r);
	assert_non_null(strstr(err, "empty pattern"));
	assert_int_equal(lmp_redact_check("pass word", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "only letters"));
	assert_int_equal(lmp_redact_check("---", err, sizeof(err)), -EINVAL);
	for (int i = 0; i < 65; i++)
		strcat(many, i ? ",a" : "a");
	assert_int_equal(lmp_redact_check(many, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 64"));
	assert_int_equal(lmp_redact_check(LMP_REDACT_DEFAULT, err, sizeof(err)), 0);
	assert_int_equal(lmp_redact_check(" token , secret ", err, sizeof(err)), 0);
}

static void test_redact_argv_cache_follows_text(void **state)
{
	const char in[] = "x\0--password=p\0--foo=f";
	char out[64];
	unsigned n;
	size_t m;

	m = lmp_redact_argv(NULL, in, sizeof(in) - 1, out, sizeof(out), &n);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "x\0--password=***\0--foo=f", m);
	m = lmp_redact_argv("foo", in, sizeof(in) - 1, out, sizeof(out), &n);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "x\0--password=p\0--foo=***", m);
	/* patterns that do not compile: the defaults, never nothing */
	m = lmp_redact_argv("bad pattern!", in, sizeof(in) - 1, out, sizeof(out), &n);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "x\0--password=***\0--foo=f", m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_flag_equals),
		cmocka_unit_test(test_redact_env_style),
		cmocka_unit_test(test_redact_separate_value),
		cmocka_unit_test(test_redact_name_variants),
		cmocka_unit_test(test_redact_file_path_names_kept),
		cmocka_unit_test(test_redact_header),
		cmocka_unit_test(test_redact_url_password),
		cmocka_unit_test(test_redact_short_option_glued),
		cmocka_unit_test(test_redact_json_in_argv),
		cmocka_unit_test(test_redact_inner_pairs),
		cmocka_unit_test(test_redact_patterns_configurable),
		cmocka_unit_test(test_redact_empty_value_and_no_args),
		cmocka_unit_test(test_redact_truncated_last_arg),
		cmocka_unit_test(test_redact_output_never_overflows),
		cmocka_unit_test(test_redact_bad_patterns),
		cmocka_unit_test(test_redact_argv_cache_follows_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

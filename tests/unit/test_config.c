// SPDX-License-Identifier: Apache-2.0
/* Option parsing: defaults, precedence, and a one-line error naming the option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static int parse(struct lmp_config *cfg, char *err, const char **args)
{
	char *argv[32] = { "lmp" };
	int argc = 1;

	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	return lmp_config_parse(cfg, argc, argv, err, 512);
}

static void clear_env(void)
{
	unsetenv("LMP_PROBES");
	unsetenv("LMP_INTERVAL");
	unsetenv("NODE_NAME");
	unsetenv("LMP_NODE_NAME");
	unsetenv("LMP_OUTPUT");
}

static void test_defaults(void **state)
{
	struct lmp_config cfg;
	char err[512];

	clear_env();
	assert_int_equal(parse(&cfg, err, (const char *[]){ NULL }), 0);
	assert_int_equal(cfg.command, LMP_CMD_RUN);
	assert_string_equal(cfg.probes, "all");
	assert_int_equal(cfg.output, LMP_OUTPUT_JSON);
	assert_string_equal(cfg.listen, "127.0.0.1:9464");
	assert_int_equal(cfg.interval, 10);
	assert_int_equal(cfg.duration, 0);
	assert_int_equal(cfg.ringbuf_kb, 256);
	assert_false(cfg.kubelet_insecure_skip_verify);
	assert_string_equal(cfg.kubelet_token_file,
			    "/var/run/secrets/kubernetes.io/serviceaccount/token");
	assert_true(strlen(cfg.node_name) > 0); /* the hostname */
	lmp_config_free(&cfg);
}

static void test_flags_and_forms(void **state)
{
	struct lmp_config cfg;
	char err[512];

	clear_env();
	assert_int_equal(parse(&cfg, err, (const char *[]){ "run", "--probes=process,tcp",
							     "--output", "text", "--interval", "3",
							     "--kubelet-insecure-skip-verify",
							     "--node-name", "n1", NULL }),
			 0);
	assert_string_equal(cfg.probes, "process,tcp");
	assert_int_equal(cfg.output, LMP_OUTPUT_TEXT);
	assert_int_equal(cfg.interval, 3);
	assert_true(cfg.kubelet_insecure_skip_verify);
	assert_string_equal(cfg.node_name, "n1");
	lmp_config_free(&cfg);
}

static void test_precedence_env_then_flag(void **state)
{
	struct lmp_config cfg;
	char err[512];

	clear_env();
	setenv("NODE_NAME", "from-downward-api", 1);
	setenv("LMP_INTERVAL", "5", 1);
	assert_int_equal(parse(&cfg, err, (const char *[]){ NULL }), 0);
	assert_string_equal(cfg.node_name, "from-downward-api");
	assert_int_equal(cfg.interval, 5);
	lmp_config_free(&cfg);

	setenv("LMP_NODE_NAME", "lmp-wins", 1);
	assert_int_equal(parse(&cfg, err, (const char *[]){ "--interval", "6", NULL }), 0);
	assert_string_equal(cfg.node_name, "lmp-wins");
	assert_int_equal(cfg.interval, 6); /* the flag beats the environment */
	lmp_config_free(&cfg);
	clear_env();
}

static void expect_error(const char **args, const char *text)
{
	struct lmp_config cfg;
	char err[512] = "";

	assert_int_equal(parse(&cfg, err, args), -EINVAL);
	if (!strstr(err, text))
		fail_msg("error '%s' does not contain '%s'", err, text);
	assert_null(strchr(err, '\n')); /* one line */
	lmp_config_free(&cfg);
}

static void test_errors_name_the_option(void **state)
{
	clear_env();
	expect_error((const char *[]){ "--bogus", NULL }, "unknown option '--bogus'");
	expect_error((const char *[]){ "--output", "xml", NULL }, "--output");
	expect_error((const char *[]){ "--interval", "0", NULL }, "--interval");
	expect_error((const char *[]){ "--interval", "-1", NULL }, "--interval");
	expect_error((const char *[]){ "--interval", "10s", NULL }, "--interval");
	expect_error((const char *[]){ "--interval", "99999999999999999999", NULL }, "--interval");
	expect_error((const char *[]){ "--duration", NULL }, "option --duration needs a value");
	expect_error((const char *[]){ "--listen", "9464", NULL }, "--listen");
	expect_error((const char *[]){ "--listen", "127.0.0.1:99999", NULL }, "--listen");
	expect_error((const char *[]){ "--ringbuf-kb", "100", NULL }, "power of two");
	expect_error((const char *[]){ "--kubelet-url", "ftp://x", NULL }, "--kubelet-url");
	expect_error((const char *[]){ "--kubelet-insecure-skip-verify=maybe", NULL },
		     "--kubelet-insecure-skip-verify");
	expect_error((const char *[]){ "--log-level", "loud", NULL }, "--log-level");
	expect_error((const char *[]){ "--disable-hooks", "tp_btf,nope", NULL }, "nope");
	expect_error((const char *[]){ "frobnicate", NULL }, "unknown command 'frobnicate'");
	expect_error((const char *[]){ "version", "--probes", "x", NULL },
		     "option --probes does not apply to 'version'");
	expect_error((const char *[]){ "stray", NULL }, "unknown command");
	expect_error((const char *[]){ "run", "stray", NULL }, "unexpected argument 'stray'");
}

static void test_env_errors_name_the_variable(void **state)
{
	clear_env();
	setenv("LMP_INTERVAL", "abc", 1);
	expect_error((const char *[]){ NULL }, "environment LMP_INTERVAL, option --interval");
	clear_env();
	setenv("LMP_OUTPUT", "yaml", 1);
	expect_error((const char *[]){ NULL }, "LMP_OUTPUT");
	clear_env();
}

static void test_help_and_usage(void **state)
{
	struct lmp_config cfg;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f;

	clear_env();
	assert_int_equal(parse(&cfg, err, (const char *[]){ "--probes", "x", "--help", NULL }), 0);
	assert_int_equal(cfg.command, LMP_CMD_HELP);
	lmp_config_free(&cfg);
	f = open_memstream(&buf, &len);
	lmp_config_usage(f);
	fclose(f);
	/* every option is documented with its variable */
	assert_non_null(strstr(buf, "--kubelet-url V"));
	assert_non_null(strstr(buf, "LMP_KUBELET_URL"));
	assert_non_null(strstr(buf, "NODE_NAME"));
	assert_non_null(strstr(buf, "--duration V"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags_and_forms),
		cmocka_unit_test(test_precedence_env_then_flag),
		cmocka_unit_test(test_errors_name_the_option),
		cmocka_unit_test(test_env_errors_name_the_variable),
		cmocka_unit_test(test_help_and_usage),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}

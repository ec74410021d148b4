// SPDX-License-Identifier: Apache-2.0
/* Option parsing: defaults, precedence, and a one-line error naming the option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/config.h"

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
	unsetenv("LMP_PROFILE_HZ");
	unsetenv("LMP_MEMLEAK_CGROUP");
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
	assert_int_equal(parse(&cfg, err,
			       (const char *[]){ "run", "--probes=process,tcp", "--output", "text",
						 "--interval", "3",
						 "--kubelet-insecure-skip-verify", "--node-name",
						 "n1", NULL }),
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

static void expect_ok(const char **args)
{
	struct lmp_config cfg;
	char err[512] = "";

	if (parse(&cfg, err, args) != 0)
		fail_msg("refused: %s", err);
	lmp_config_free(&cfg);
}

/* issue 15: edges of each option, from the flag and from its variable alike */
static void test_option_edges(void **state)
{
	char dir[] = "/tmp/lmp-test-config-XXXXXX";
	char fifo_path[64], reg_path[64];
	FILE *f;

	clear_env();
	/* --btf-path: a FIFO would block open() at start-up; a device is no file either */
	assert_non_null(mkdtemp(dir));
	snprintf(fifo_path, sizeof(fifo_path), "%s/fifo", dir);
	snprintf(reg_path, sizeof(reg_path), "%s/vmlinux", dir);
	assert_int_equal(mkfifo(fifo_path, 0600), 0);
	expect_error((const char *[]){ "--btf-path", fifo_path, NULL }, "is not a regular file");
	expect_error((const char *[]){ "probes", "--btf-path", "/dev/zero", NULL },
		     "option --btf-path: '/dev/zero' is not a regular file");
	expect_error((const char *[]){ "--btf-path", dir, NULL }, "is not a regular file");
	f = fopen(reg_path, "w");
	assert_non_null(f);
	fclose(f);
	expect_ok((const char *[]){ "--btf-path", reg_path, NULL });
	/* missing: a run-time degradation with its own message, not a usage error */
	expect_ok((const char *[]){ "--btf-path", "/nonexistent/vmlinux", NULL });
	unlink(fifo_path);
	unlink(reg_path);
	rmdir(dir);

	/* control characters would split log lines (and, in a URL, the request head) */
	expect_error((const char *[]){ "--node-name", "node\r\nlevel=error msg=forged", NULL },
		     "option --node-name: control characters are not accepted");
	expect_error((const char *[]){ "--kubelet-url", "https://10.0.0.1:10250/pods\n", NULL },
		     "option --kubelet-url: control characters");
	expect_error((const char *[]){ "--memleak-cgroup", "a\tb", NULL }, "control characters");

	/* --kubelet-url: scheme, host, closed [IPv6], port 1..65535 */
	expect_error((const char *[]){ "--kubelet-url", "https://", NULL }, "no host");
	expect_error((const char *[]){ "--kubelet-url", "http://:10250/pods", NULL }, "no host");
	expect_error((const char *[]){ "--kubelet-url", "http://[::1", NULL }, "not closed");
	expect_error((const char *[]){ "--kubelet-url", "http://[::1]x/pods", NULL }, "after ']'");
	expect_error((const char *[]){ "--kubelet-url", "http://h:0/pods", NULL }, "1..65535");
	expect_error((const char *[]){ "--kubelet-url", "http://h:65536", NULL }, "1..65535");
	expect_error((const char *[]){ "--kubelet-url", "http://h:/pods", NULL }, "1..65535");
	expect_error((const char *[]){ "--kubelet-url", "https://u@h/pods", NULL }, "'@'");
	expect_ok((const char *[]){ "--kubelet-url", "https://10.0.0.7:10250/pods", NULL });
	expect_ok((const char *[]){ "--kubelet-url", "http://[::1]:10255/pods", NULL });
	expect_ok((const char *[]){ "--kubelet-url", "https://node-1.example", NULL });
	expect_ok((const char *[]){ "top", "--agent", "http://127.0.0.1:9464", NULL });
	expect_error((const char *[]){ "top", "--agent", "http://", NULL }, "option --agent");

	/* --listen: '' is not a way to turn HTTP off, 'none' is */
	expect_error((const char *[]){ "--listen", "", NULL }, "'none' (HTTP off)");
	expect_error((const char *[]){ "--listen", "::1:9464", NULL }, "[IPv6]:PORT");
	expect_error((const char *[]){ "--listen", "[::1:9464", NULL }, "[IPv6]:PORT");
	expect_ok((const char *[]){ "--listen", "none", NULL });
	expect_ok((const char *[]){ "--listen", "[::1]:9464", NULL });
	expect_ok((const char *[]){ "--listen", "0.0.0.0:0", NULL });

	/* comma lists: an empty item is an error in every list */
	expect_error((const char *[]){ "--include-namespaces", ",,,", NULL },
		     "option --include-namespaces: empty item");
	expect_error((const char *[]){ "--exclude-namespaces", "a,,b", NULL }, "empty item");
	expect_error((const char *[]){ "--probes", ",", NULL }, "option --probes: empty item");
	expect_error((const char *[]){ "--probes", "process,", NULL }, "empty item");
	expect_error((const char *[]){ "--disable-hooks", ",tp_btf", NULL }, "empty item");
	expect_error((const char *[]){ "--include-namespaces", "Kube-System", NULL }, "lowercase");
	expect_ok((const char *[]){ "--include-namespaces", "default,kube-system", NULL });
	expect_ok((const char *[]){ "--include-namespaces", "", NULL }); /* the default: all */

	/* numbers: digits only, no sign, no surrounding space on either side */
	expect_error((const char *[]){ "--interval", " 5", NULL }, "surrounding spaces");
	expect_error((const char *[]){ "--interval", "5 ", NULL }, "surrounding spaces");
	expect_error((const char *[]){ "--interval", "+5", NULL }, "whole number");
	expect_error((const char *[]){ "--top", "0x10", NULL }, "whole number");
	expect_error((const char *[]){ "--node-name", " node-1", NULL }, "surrounding spaces");
	expect_ok((const char *[]){ "--interval", "5", NULL });

	/* the same rules for the variables */
	setenv("LMP_INTERVAL", " 5", 1);
	expect_error((const char *[]){ NULL },
		     "environment LMP_INTERVAL, option --interval: surrounding spaces");
	setenv("LMP_INTERVAL", "5 ", 1);
	expect_error((const char *[]){ NULL }, "LMP_INTERVAL");
	clear_env();
	setenv("NODE_NAME", "n\nx", 1);
	expect_error((const char *[]){ NULL },
		     "environment NODE_NAME, option --node-name: control");
	clear_env();
	setenv("LMP_KUBELET_URL", "http://[::1", 1);
	expect_error((const char *[]){ NULL }, "LMP_KUBELET_URL");
	unsetenv("LMP_KUBELET_URL");
	setenv("LMP_LISTEN", "", 1);
	expect_error((const char *[]){ NULL }, "environment LMP_LISTEN, option --listen");
	unsetenv("LMP_LISTEN");
	setenv("LMP_INCLUDE_NAMESPACES", ",,,", 1);
	expect_error((const char *[]){ NULL }, "LMP_INCLUDE_NAMESPACES");
	unsetenv("LMP_INCLUDE_NAMESPACES");
	setenv("LMP_BTF_PATH", "/dev/null", 1);
	expect_error((const char *[]){ NULL }, "LMP_BTF_PATH");
	unsetenv("LMP_BTF_PATH");
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

/* a probe option's value, read through its row in the registry's table as the probe does */
static const void *probe_value(const struct lmp_config *cfg, const char *probe, const char *name,
			       enum lmp_opt_type type)
{
	for (size_t g = 0; g < lmp_probe_option_groups_len; g++) {
		const struct lmp_option_group *grp = lmp_probe_option_groups[g].group;

		if (strcmp(lmp_probe_option_groups[g].probe, probe))
			continue;
		for (size_t k = 0; k < grp->n; k++)
			if (!strcmp(grp->opts[k].name, name)) {
				assert_int_equal(grp->opts[k].type, type);
				return (const char *)lmp_config_probe_options(cfg, probe) +
				       grp->opts[k].off;
			}
	}
	fail_msg("no option --%s in probe %s", name, probe);
	return NULL;
}

#define PROBE_UINT(cfg, p, n) (*(const unsigned *)probe_value(cfg, p, n, LMP_OPT_UINT))
#define PROBE_BOOL(cfg, p, n) (*(const bool *)probe_value(cfg, p, n, LMP_OPT_BOOL))
#define PROBE_STR(cfg, p, n) (*(char *const *)probe_value(cfg, p, n, LMP_OPT_STR))
#define PROBE_ENUM(cfg, p, n) (*(const int *)probe_value(cfg, p, n, LMP_OPT_ENUM))

/* options a probe declares in its descriptor: defaults, variables, flags, errors */
static void test_probe_options(void **state)
{
	struct lmp_config cfg, zero = { 0 };
	char err[512];

	clear_env();
	assert_int_equal(parse(&cfg, err, (const char *[]){ NULL }), 0);
	assert_int_equal(PROBE_UINT(&cfg, "profile", "profile-hz"), 49);
	assert_int_equal(PROBE_ENUM(&cfg, "profile", "profile-event"), 0);
	assert_true(PROBE_BOOL(&cfg, "memleak", "memleak-kernel"));
	assert_int_equal(PROBE_UINT(&cfg, "memleak", "memleak-pid"), 0);
	assert_string_equal(PROBE_STR(&cfg, "memleak", "memleak-cgroup"), "");
	assert_string_equal(PROBE_STR(&cfg, "sigsnoop", "sigsnoop-ignore"), "SIGCHLD,SIGURG");
	assert_int_equal(PROBE_UINT(&cfg, "syscall", "syscall-max-keys"), 10240);
	assert_true(PROBE_BOOL(&cfg, "syscount", "syscount-latency"));
	assert_false(PROBE_BOOL(&cfg, "opensnoop", "opensnoop-failed"));
	lmp_config_free(&cfg);

	/* the flag beats the variable, as for the generic options */
	setenv("LMP_PROFILE_HZ", "99", 1);
	setenv("LMP_MEMLEAK_CGROUP", "/kubepods/pod1", 1);
	assert_int_equal(parse(&cfg, err,
			       (const char *[]){ "--profile-hz", "7", "--profile-event=cycles",
						 "--memleak-kernel=false", "--opensnoop-failed",
						 "--capable-stream", "all", NULL }),
			 0);
	assert_int_equal(PROBE_UINT(&cfg, "profile", "profile-hz"), 7);
	assert_int_equal(PROBE_ENUM(&cfg, "profile", "profile-event"), 1);
	assert_string_equal(PROBE_STR(&cfg, "memleak", "memleak-cgroup"), "/kubepods/pod1");
	assert_false(PROBE_BOOL(&cfg, "memleak", "memleak-kernel"));
	assert_true(PROBE_BOOL(&cfg, "opensnoop", "opensnoop-failed"));
	assert_int_equal(PROBE_ENUM(&cfg, "capable", "capable-stream"), 2);
	lmp_config_free(&cfg);
	unsetenv("LMP_PROFILE_HZ");
	unsetenv("LMP_MEMLEAK_CGROUP");

	/* the same one-line errors, naming the option or its variable */
	expect_error((const char *[]){ "--profile-hz", "0", NULL },
		     "option --profile-hz: expected a whole number from 1 to 1000, got '0'");
	expect_error(
		(const char *[]){ "--profile-event", "instructions", NULL },
		"option --profile-event: expected one of cpu-clock, cycles; got 'instructions'");
	expect_error((const char *[]){ "--sigsnoop-ignore", "SIGNOPE", NULL }, "--sigsnoop-ignore");
	expect_error((const char *[]){ "--funclatency-target", ":sym", NULL },
		     "option --funclatency-target: expected BINARY:SYMBOL");
	expect_error((const char *[]){ "probes", "--memleak-pid", "1", NULL },
		     "option --memleak-pid does not apply to 'probes'");
	setenv("LMP_SYSCALL_MAX_KEYS", "1", 1);
	expect_error((const char *[]){ NULL },
		     "environment LMP_SYSCALL_MAX_KEYS, option --syscall-max-keys: expected a "
		     "whole number from 64 to 1048576");
	unsetenv("LMP_SYSCALL_MAX_KEYS");

	/* a configuration that was not parsed reads zeroes; so does a probe without options */
	assert_int_equal(PROBE_UINT(&zero, "profile", "profile-hz"), 0);
	assert_null(PROBE_STR(&zero, "memleak", "memleak-cgroup"));
	assert_non_null(lmp_config_probe_options(&zero, "process"));
	assert_non_null(lmp_config_probe_options(&zero, "nosuchprobe"));
}

/* lmp help lists every option once: no probe's option may shadow another's */
static void test_help_lists_each_option_once(void **state)
{
	char *buf = NULL, *line, *save = NULL, flags[64][48];
	size_t len = 0, n = 0, probe_rows = 0;
	FILE *f = open_memstream(&buf, &len);

	lmp_config_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "\nProbe options"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char flag[48];

		if (strncmp(line, "  --", 4) || sscanf(line, " %47s", flag) != 1)
			continue;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(flags[i], flag))
				fail_msg("option %s listed twice", flag);
		assert_true(n < 64);
		strcpy(flags[n++], flag);
	}
	/* and every probe's option is among them */
	for (size_t g = 0; g < lmp_probe_option_groups_len; g++) {
		const struct lmp_option_group *grp = lmp_probe_option_groups[g].group;

		for (size_t k = 0; k < grp->n; k++, probe_rows++) {
			bool found = false;

			for (size_t i = 0; i < n && !found; i++)
				found = !strcmp(flags[i] + 2, grp->opts[k].name);
			assert_true(found);
		}
	}
	assert_true(probe_rows > 0 && probe_rows < n);
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
		cmocka_unit_test(test_option_edges),
		cmocka_unit_test(test_help_and_usage),
		cmocka_unit_test(test_probe_options),
		cmocka_unit_test(test_help_lists_each_option_once),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}

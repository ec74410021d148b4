// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: option and environment parsing (agent/core/config.c lmp_config_parse). The
 * input is a list of NUL-separated tokens; a token "@NAME=VALUE" sets the environment
 * variable NAME for this run (LMP_ is prefixed when missing, so the fuzzer reaches the
 * option variables), every other token is an argv element after "lmp". A parse either
 * succeeds or fails with a one-line message naming what is wrong; it never crashes or
 * leaks, and what it returns is complete (every string option set, the probes' own too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

#define MAX_ARGS 64
#define MAX_ENV 16

static bool env_name_ok(const char *n)
{
	if (!*n)
		return false;
	for (; *n; n++)
		if (!((*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '_'))
			return false;
	return true;
}

/* every string option of every probe (their descriptors' tables) has its value */
static bool probe_strings_set(const struct lmp_config *cfg)
{
	for (size_t g = 0; g < lmp_probe_option_groups_len; g++) {
		const struct lmp_option_group *grp = lmp_probe_option_groups[g].group;
		const char *block = lmp_config_probe_options(cfg, lmp_probe_option_groups[g].probe);

		for (size_t k = 0; k < grp->n; k++)
			if (grp->opts[k].type == LMP_OPT_STR &&
			    !*(char *const *)(block + grp->opts[k].off))
				return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2], *env[MAX_ENV];
	struct lmp_config cfg;
	int argc = 0, n_env = 0, r;
	char err[512];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "lmp";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
		char *tok = buf + i, *eq;
		size_t len = strlen(tok);

		i += len + 1;
		if (tok[0] != '@') {
			argv[argc++] = tok;
			continue;
		}
		eq = strchr(tok + 1, '=');
		if (!eq || n_env >= MAX_ENV)
			continue;
		*eq = 0;
		if (!env_name_ok(tok + 1))
			continue;
		if (asprintf(&env[n_env], "%s%s",
			     strncmp(tok + 1, "LMP_", 4) && strcmp(tok + 1, "NODE_NAME") ? "LMP_" :
											   "",
			     tok + 1) < 0)
			continue;
		setenv(env[n_env], eq + 1, 1);
		n_env++;
	}
	argv[argc] = NULL;

	err[0] = 0;
	r = lmp_config_parse(&cfg, argc, argv, err, sizeof(err));
	if (r < 0) {
		if (!err[0] || strchr(err, '\n'))
			abort();
	} else if (cfg.command == LMP_CMD_RUN) {
		if (!cfg.probes || !cfg.listen || !cfg.node_name || !cfg.log_level ||
		    !cfg.redact_patterns || cfg.interval < 1 || !cfg.ringbuf_kb ||
		    (cfg.ringbuf_kb & (cfg.ringbuf_kb - 1)) || !probe_strings_set(&cfg))
			abort();
	}
	lmp_config_free(&cfg);
	for (int i = 0; i < n_env; i++) {
		unsetenv(env[i]);
		free(env[i]);
	}
	free(buf);
	return 0;
}

/* the --help text is generated from the same table: render it once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *f = fopen("/dev/null", "w");

	if (f) {
		lmp_config_usage(f);
		fclose(f);
	}
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: one option table (config.c) plus each probe's own drive flags,
 * LMP_* variables, validation, defaults and --help.
 */
#ifndef LMP_CONFIG_H
#define LMP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum lmp_output {
	LMP_OUTPUT_JSON,
	LMP_OUTPUT_TEXT,
	LMP_OUTPUT_NONE,
};

enum lmp_command {
	LMP_CMD_RUN,
	LMP_CMD_PROBES,
	LMP_CMD_VERSION,
	LMP_CMD_HELP,
	LMP_CMD_TOP,
	LMP_CMD_WHY,
};

struct lmp_config {
	enum lmp_command command;
	char *probes; /* comma list or "all" */
	enum lmp_output output;
	char *listen; /* ADDR:PORT, "" or "none" disables HTTP */
	char *node_name;
	char *kubelet_url; /* empty: from NODE_IP */
	char *kubelet_token_file;
	char *kubelet_ca_file;
	bool kubelet_insecure_skip_verify;
	unsigned kubelet_refresh; /* seconds */
	bool apiserver_fallback;
	char *apiserver_ca_file;
	unsigned duration;   /* seconds, 0 = until signalled */
	unsigned interval;   /* seconds */
	unsigned ringbuf_kb; /* per probe, power of two */
	unsigned top;
	unsigned metrics_max_series;
	char *include_namespaces; /* comma list; empty: all */
	char *exclude_namespaces;
	char *cgroup_root; /* cgroup v2 mount; empty = detect */
	char *btf_path;
	char *log_level;
	char *disable_hooks; /* comma list of hook kinds */
	bool drop_caps;
	bool no_redact;
	char *redact_patterns;
	void **probe_opts; /* per lmp_probe_option_groups[] entry */
	bool json;
	bool names;
	char *agent_url;
	bool once;
	const char *why_pod;	   /* points into argv */
	const char *why_container; /* NULL: every one */
};

enum lmp_opt_type {
	LMP_OPT_STR, /* strdup()ed */
	LMP_OPT_UINT,
	LMP_OPT_BOOL, /* a bare flag means true */
	LMP_OPT_ENUM, /* int: the index in enums */
};

struct lmp_option {
	const char *name; /* without "--" */
	const char *env;
	const char *env2; /* downward-API name, lower precedence */
	enum lmp_opt_type type;
	size_t off; /* in struct lmp_config or a probe's options block */
	const char *def;
	unsigned min, max;
	const char *const *enums; /* NULL-terminated */
	unsigned cmds;		  /* bit mask of commands */
	int (*check)(const char *val, char *err, size_t len);
	const char *help;
};

#define LMP_CMDS_RUN (1u << LMP_CMD_RUN)

/*
 * A probe's options fill its own struct of size bytes. The rows name its fields with the
 * macros below, so a field of the wrong type fails the build.
 */
struct lmp_option_group {
	const struct lmp_option *opts;
	size_t n;
	size_t size;
};

#define LMP_PROBE_OPTIONS_MAX 64

#define LMP_OPTIONS(type, table)                                                                 \
	{                                                                                        \
		table, sizeof(table) / sizeof((table)[0]),                                       \
			sizeof(type) +                                                           \
				0 * sizeof(char[sizeof(type) <= LMP_PROBE_OPTIONS_MAX ? 1 : -1]) \
	}
#define LMP_OPT_OFF(type, field, ctype) _Generic(((type *)0)->field, ctype : offsetof(type, field))
#define LMP_OPTION_UINT(type, field, name, env, def, min, max, help)                              \
	{                                                                                         \
		name, env, NULL, LMP_OPT_UINT, LMP_OPT_OFF(type, field, unsigned), def, min, max, \
			NULL, LMP_CMDS_RUN, NULL, help                                            \
	}
#define LMP_OPTION_BOOL(type, field, name, env, def, help)                                      \
	{                                                                                       \
		name, env, NULL, LMP_OPT_BOOL, LMP_OPT_OFF(type, field, bool), def, 0, 0, NULL, \
			LMP_CMDS_RUN, NULL, help                                                \
	}
#define LMP_OPTION_STR(type, field, name, env, def, check, help)                                 \
	{                                                                                        \
		name, env, NULL, LMP_OPT_STR, LMP_OPT_OFF(type, field, char *), def, 0, 0, NULL, \
			LMP_CMDS_RUN, check, help                                                \
	}
#define LMP_OPTION_ENUM(type, field, name, env, def, names, help)                               \
	{                                                                                       \
		name, env, NULL, LMP_OPT_ENUM, LMP_OPT_OFF(type, field, int), def, 0, 0, names, \
			LMP_CMDS_RUN, NULL, help                                                \
	}

/* in registry order */
struct lmp_option_source {
	const char *probe;
	const struct lmp_option_group *group;
};
extern const struct lmp_option_source lmp_probe_option_groups[];
extern const size_t lmp_probe_option_groups_len;

/*
 * Defaults, then LMP_* variables, then flags. A usage error: -EINVAL with a one-line
 * message in err (main exits 2).
 */
int lmp_config_parse(struct lmp_config *cfg, int argc, char **argv, char *err, size_t errlen);
void lmp_config_free(struct lmp_config *cfg);
/* never NULL: zeroes without options or before parsing */
const void *lmp_config_probe_options(const struct lmp_config *cfg, const char *probe);
void lmp_config_usage(FILE *f);

#endif /* LMP_CONFIG_H */

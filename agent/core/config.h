/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: one table of options (agent/core/config.c) and each probe's own table
 * (its descriptor) drive parsing of long flags and LMP_* environment variables, validation,
 * defaults and --help.
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
	char *kubelet_url; /* empty: from NODE_IP, else no kubelet */
	char *kubelet_token_file;
	char *kubelet_ca_file;
	bool kubelet_insecure_skip_verify;
	unsigned kubelet_refresh; /* seconds */
	bool apiserver_fallback;  /* list this node's pods from the API server when needed */
	char *apiserver_ca_file;
	unsigned duration;   /* seconds, 0 = until signalled */
	unsigned interval;   /* seconds between summaries */
	unsigned ringbuf_kb; /* per probe, power of two */
	unsigned top;	     /* rows per summary */
	unsigned metrics_max_series;
	char *include_namespaces; /* comma list; empty: every namespace */
	char *exclude_namespaces;
	char *cgroup_root; /* cgroup v2 mount; empty = detect */
	char *btf_path;	   /* external BTF for kernels without /sys/kernel/btf/vmlinux */
	char *log_level;
	char *disable_hooks;   /* comma list of hook kinds never to use (forces fallbacks) */
	bool drop_caps;	       /* drop capabilities not needed once probes are attached */
	bool no_redact;	       /* print exec argv as it is (no secret redaction) */
	char *redact_patterns; /* argument names whose values are redacted (agent/expose/redact.h) */
	void **probe_opts;     /* per lmp_probe_option_groups[] entry: the block its options fill */
	bool json;	       /* `lmp probes --json` */
	bool names;	       /* `lmp probes --names`: the registry, one name a line */
	char *agent_url;       /* `lmp top --agent` */
	bool once;	       /* `lmp top --once` */
	const char *why_pod;   /* `lmp why NAMESPACE/POD`: points into argv */
	const char *why_container; /* `lmp why NAMESPACE/POD CONTAINER`, NULL: every one */
};

enum lmp_opt_type {
	LMP_OPT_STR,  /* char *, strdup()ed; check() may refuse it (a list, a path...) */
	LMP_OPT_UINT, /* unsigned within [min, max] */
	LMP_OPT_BOOL, /* bool: true/1/yes, false/0/no; a bare flag means true */
	LMP_OPT_ENUM, /* int: the index of the value in enums */
};

/* One option: its flag, its variables, where its value goes, its kind, its help. */
struct lmp_option {
	const char *name; /* long flag without "--" */
	const char *env;  /* primary variable */
	const char *env2; /* also accepted (downward-API names), lower precedence */
	enum lmp_opt_type type;
	size_t off; /* of the value: in struct lmp_config, or in a probe's options block */
	const char *def;
	unsigned min, max;	  /* LMP_OPT_UINT */
	const char *const *enums; /* LMP_OPT_ENUM: NULL-terminated names, value = index */
	unsigned cmds;		  /* bit mask of commands that accept it */
	int (*check)(const char *val, char *err, size_t len);
	const char *help;
};

#define LMP_CMDS_RUN (1u << LMP_CMD_RUN)

/*
 * A probe's options (lmp_probe_desc.options): `lmp run` options whose values fill a block
 * of `size` bytes, the probe's own struct, which it reads in configure() through
 * lmp_config_probe_options(). The rows name the struct's fields with the macros below, so a
 * field of the wrong type fails the build.
 */
struct lmp_option_group {
	const struct lmp_option *opts;
	size_t n;
	size_t size;
};

/* a configuration that was not parsed reads every probe option as 0, false or NULL */
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

/* every probe's options, in registry order (agent/probes/probes.c) */
struct lmp_option_source {
	const char *probe;
	const struct lmp_option_group *group;
};
extern const struct lmp_option_source lmp_probe_option_groups[];
extern const size_t lmp_probe_option_groups_len;

/*
 * Parse argv and the environment into cfg (defaults first, then LMP_* variables, then
 * flags). On a usage error returns -EINVAL with a one-line message naming the option in
 * err; main prints it and exits 2.
 */
int lmp_config_parse(struct lmp_config *cfg, int argc, char **argv, char *err, size_t errlen);
void lmp_config_free(struct lmp_config *cfg);
/*
 * The options block of a probe (its struct, filled from its option rows), never NULL: a
 * probe without options, or a configuration that was not parsed, reads zeroes.
 */
const void *lmp_config_probe_options(const struct lmp_config *cfg, const char *probe);
void lmp_config_usage(FILE *f);

#endif /* LMP_CONFIG_H */

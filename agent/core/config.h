/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: one table of options (agent/core/config.c) drives parsing of long flags
 * and LMP_* environment variables, validation, defaults and --help.
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
	bool syscall_latency;  /* syscall probe: also hook sys_exit (errors, latency) */
	unsigned syscall_max_keys;  /* syscall probe: (cgroup, pid, syscall) keys per interval */
	bool syscount_latency;	    /* syscount: latency (sys_enter + sys_exit); false: counts */
	unsigned tcpconnlat_min_ms; /* tcpconnlat: stream connects at least this slow */
	unsigned profile_hz;	    /* profile: samples per second per CPU */
	int profile_event;	    /* profile: 0 cpu-clock (software), 1 cycles (hardware) */
	char *funclatency_target;   /* funclatency: "binary:symbol" or a kernel function */
	unsigned funclatency_pid;   /* funclatency: only this process (0: all) */
	unsigned memleak_pid;	    /* memleak: this process (0: none) */
	char *memleak_cgroup;	    /* memleak: every process of this v2 cgroup ("" none) */
	bool memleak_kernel;	    /* memleak: also kernel allocations of the target */
	bool biolatency_queued;	    /* biolatency: start -> complete instead of issue -> */
	unsigned biosnoop_min_latency_us; /* biosnoop: queue + service threshold */
	char *sigsnoop_ignore;		  /* sigsnoop: signals neither followed nor counted */
	int capable_stream;	   /* capable: 0 audited denials, 1 every denial, 2 every check */
	bool opensnoop_failed;	   /* opensnoop: stream failed opens only (all are counted) */
	bool json;		   /* `lmp probes --json` */
	char *agent_url;	   /* `lmp top --agent` */
	bool once;		   /* `lmp top --once` */
	const char *why_pod;	   /* `lmp why NAMESPACE/POD`: points into argv */
	const char *why_container; /* `lmp why NAMESPACE/POD CONTAINER`, NULL: every one */
};

/*
 * Parse argv and the environment into cfg (defaults first, then LMP_* variables, then
 * flags). On a usage error returns -EINVAL with a one-line message naming the option in
 * err; main prints it and exits 2.
 */
int lmp_config_parse(struct lmp_config *cfg, int argc, char **argv, char *err, size_t errlen);
void lmp_config_free(struct lmp_config *cfg);
void lmp_config_usage(FILE *f);

#endif /* LMP_CONFIG_H */

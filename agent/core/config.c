// SPDX-License-Identifier: Apache-2.0
/*
 * Options as a table: each row names the flag, its environment variable, its default, its
 * type and range. Parsing, validation and --help all read the same rows, so they cannot
 * disagree. Precedence: default < environment < command line. One file over 600 lines: the
 * general table is most of it, one row per option, and the parser reads it whole.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "core/config.h"
#include "probe/feature.h"
#include "base/log.h"
#include "expose/redact.h"

#define RUN LMP_CMDS_RUN
#define PROBES (1u << LMP_CMD_PROBES)
#define TOP (1u << LMP_CMD_TOP)
#define WHY (1u << LMP_CMD_WHY)
#define OFF(f) offsetof(struct lmp_config, f)

static const char *const outputs[] = { "json", "text", "none", NULL };

/* "1".."65535" (or from 0 when zero_ok), digits only */
static bool port_ok(const char *p, size_t n, bool zero_ok)
{
	unsigned long v = 0;

	if (!n || n > 5 || strspn(p, "0123456789") < n)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v <= 65535 && (zero_ok || v > 0);
}

/* "" is not "off": an empty value from a template must not silently end the endpoint */
static int check_listen(const char *v, char *err, size_t len)
{
	const char *colon = strrchr(v, ':');

	if (strcmp(v, "none") == 0)
		return 0;
	if (!colon || colon == v || (v[0] == '[' && colon[-1] != ']') ||
	    (v[0] != '[' && memchr(v, ':', colon - v)) || (v[0] != '[' && strchr(v, ']'))) {
		snprintf(err, len, "expected ADDR:PORT, [IPv6]:PORT or 'none' (HTTP off), got '%s'",
			 v);
		return -EINVAL;
	}
	if (!port_ok(colon + 1, strlen(colon + 1), true)) {
		snprintf(err, len, "port must be 0..65535, got '%s'", colon + 1);
		return -EINVAL;
	}
	return 0;
}

static int check_level(const char *v, char *err, size_t len)
{
	enum lmp_log_level lvl;

	if (lmp_log_parse_level(v, &lvl) < 0) {
		snprintf(err, len, "expected debug, info, warn or error, got '%s'", v);
		return -EINVAL;
	}
	return 0;
}

/* http(s)://HOST[:PORT][/PATH]: a host, a closed [IPv6], a port 1..65535 */
static int check_url(const char *v, char *err, size_t len)
{
	const char *host, *end, *port = NULL;
	const char *why = NULL;

	if (!*v)
		return 0;
	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		why = "expected an http:// or https:// URL";
	if (!why) {
		end = host + strcspn(host, "/?#");
		if (*host == '[') {
			const char *close = memchr(host, ']', end - host);

			if (!close || close == host + 1)
				why = "IPv6 address not closed by ']'";
			else if (close + 1 < end && close[1] != ':')
				why = "expected ':PORT' after ']'";
			else if (close + 1 < end)
				port = close + 2;
		} else {
			port = memchr(host, ':', end - host);
			if (port == host || end == host)
				why = "no host";
			else if (port)
				port++;
		}
		if (!why && port && !port_ok(port, end - port, false))
			why = "port must be 1..65535";
		if (!why && strpbrk(host, " @\\"))
			why = "spaces, '@' and '\\' are not accepted";
	}
	if (why) {
		snprintf(err, len, "%s, got '%s'", why, v);
		return -EINVAL;
	}
	return 0;
}

/* a comma list has no empty item: ',,' is a typo, not "everything" */
static int check_list(const char *v, char *err, size_t len)
{
	size_t n = strlen(v);

	if (n && (v[0] == ',' || v[n - 1] == ',' || strstr(v, ",,"))) {
		snprintf(err, len, "empty item in the comma list '%s'", v);
		return -EINVAL;
	}
	return 0;
}

static int check_ns_list(const char *v, char *err, size_t len)
{
	if (check_list(v, err, len) < 0)
		return -EINVAL;
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-,") != strlen(v)) {
		snprintf(err, len,
			 "namespace names are lowercase letters, digits and '-', got '%s'", v);
		return -EINVAL;
	}
	return 0;
}

/*
 * Must be a regular file when it exists: a FIFO would block start-up in open(), a device
 * would be read forever. A missing file is a run-time degradation (docs/hardening.md).
 */
static int check_btf_path(const char *v, char *err, size_t len)
{
	struct stat st;

	if (*v && stat(v, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, len, "'%s' is not a regular file", v);
		return -EINVAL;
	}
	return 0;
}

static int check_hook_kinds(const char *v, char *err, size_t len)
{
	if (check_list(v, err, len) < 0)
		return -EINVAL;
	for (const char *p = v; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool found = false;

		for (int k = 0; k < _LMP_HOOK_KIND_MAX && !found; k++)
			found = strlen(lmp_hook_kind_name(k)) == n &&
				strncmp(lmp_hook_kind_name(k), p, n) == 0;
		if (!found) {
			snprintf(err, len,
				 "unknown hook kind '%.*s' (fentry, fexit, tp_btf, raw_tp, "
				 "tracepoint, kprobe, kretprobe, uprobe, perf_sw, perf_hw)",
				 (int)n, p);
			return -EINVAL;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

#define SA "/var/run/secrets/kubernetes.io/serviceaccount"

static const struct lmp_option options[] = {
	{ "probes", "LMP_PROBES", NULL, LMP_OPT_STR, OFF(probes), "all", .cmds = RUN,
	  .check = check_list, .help = "probes to run: comma list of names, or 'all'" },
	{ "output", "LMP_OUTPUT", NULL, LMP_OPT_ENUM, OFF(output), "json", .enums = outputs,
	  .cmds = RUN, .help = "event output on stdout: json, text or none" },
	{ "listen", "LMP_LISTEN", NULL, LMP_OPT_STR, OFF(listen), "127.0.0.1:9464", .cmds = RUN,
	  .check = check_listen,
	  .help = "HTTP address for /metrics and the API ([v6]:PORT too; port 0: any free one), or 'none' to turn HTTP off" },
	{ "node-name", "LMP_NODE_NAME", "NODE_NAME", LMP_OPT_STR, OFF(node_name), "", .cmds = RUN,
	  .help = "node name put in every event (default: hostname)" },
	{ "interval", "LMP_INTERVAL", NULL, LMP_OPT_UINT, OFF(interval), "10", 1, 3600, .cmds = RUN,
	  .help = "seconds between summaries and map reads" },
	{ "duration", "LMP_DURATION", NULL, LMP_OPT_UINT, OFF(duration), "0", 0, UINT_MAX / 1000,
	  .cmds = RUN, .help = "stop after this many seconds (0: run until signalled)" },
	{ "top", "LMP_TOP", NULL, LMP_OPT_UINT, OFF(top), "10", 1, 1000, .cmds = RUN,
	  .help = "rows per periodic summary" },
	{ "ringbuf-kb", "LMP_RINGBUF_KB", NULL, LMP_OPT_UINT, OFF(ringbuf_kb), "256", 4, 262144,
	  .cmds = RUN, .help = "ring buffer size per probe in KiB (power of two)" },
	{ "kubelet-url", "LMP_KUBELET_URL", NULL, LMP_OPT_STR, OFF(kubelet_url), "", .cmds = RUN,
	  .check = check_url,
	  .help = "kubelet /pods URL, or its base URL (default: https://$NODE_IP:10250/pods)" },
	{ "kubelet-token-file", "LMP_KUBELET_TOKEN_FILE", NULL, LMP_OPT_STR,
	  OFF(kubelet_token_file), SA "/token", .cmds = RUN,
	  .help = "bearer token file, re-read when it changes" },
	{ "kubelet-ca-file", "LMP_KUBELET_CA_FILE", NULL, LMP_OPT_STR, OFF(kubelet_ca_file),
	  SA "/ca.crt", .cmds = RUN, .help = "CA bundle that signs the kubelet's certificate" },
	{ "kubelet-insecure-skip-verify", "LMP_KUBELET_INSECURE_SKIP_VERIFY", NULL, LMP_OPT_BOOL,
	  OFF(kubelet_insecure_skip_verify), "false", .cmds = RUN,
	  .help = "do not verify the kubelet's TLS certificate (logs a warning)" },
	{ "kubelet-refresh", "LMP_KUBELET_REFRESH", NULL, LMP_OPT_UINT, OFF(kubelet_refresh), "30",
	  1, 3600, .cmds = RUN, .help = "seconds between kubelet /pods refreshes" },
	{ "apiserver-fallback", "LMP_APISERVER_FALLBACK", NULL, LMP_OPT_BOOL,
	  OFF(apiserver_fallback), "true", .cmds = RUN,
	  .help = "when the kubelet cannot be reached or verified, list this node's pods from the "
		  "API server ($KUBERNETES_SERVICE_HOST; RBAC: list pods)" },
	{ "apiserver-ca-file", "LMP_APISERVER_CA_FILE", NULL, LMP_OPT_STR, OFF(apiserver_ca_file),
	  SA "/ca.crt", .cmds = RUN, .help = "CA bundle that signs the API server's certificate" },
	{ "metrics-max-series", "LMP_METRICS_MAX_SERIES", NULL, LMP_OPT_UINT,
	  OFF(metrics_max_series), "50000", 100, 10000000, .cmds = RUN,
	  .help = "cap on metric series (excess is counted)" },
	{ "include-namespaces", "LMP_INCLUDE_NAMESPACES", NULL, LMP_OPT_STR,
	  OFF(include_namespaces), "", .cmds = RUN, .check = check_ns_list,
	  .help = "only these namespaces' pods (comma list; default: all)" },
	{ "exclude-namespaces", "LMP_EXCLUDE_NAMESPACES", NULL, LMP_OPT_STR,
	  OFF(exclude_namespaces), "", .cmds = RUN, .check = check_ns_list,
	  .help = "never these namespaces' pods (comma list)" },
	{ "cgroup-root", "LMP_CGROUP_ROOT", NULL, LMP_OPT_STR, OFF(cgroup_root), "", .cmds = RUN,
	  .help = "cgroup v2 mount point (default: detected)" },
	{ "btf-path", "LMP_BTF_PATH", NULL, LMP_OPT_STR, OFF(btf_path), "", .cmds = RUN | PROBES,
	  .check = check_btf_path,
	  .help = "kernel BTF file when /sys/kernel/btf/vmlinux is missing" },
	{ "disable-hooks", "LMP_DISABLE_HOOKS", NULL, LMP_OPT_STR, OFF(disable_hooks), "",
	  .cmds = RUN | PROBES, .check = check_hook_kinds,
	  .help = "hook kinds never to use, e.g. 'tp_btf,raw_tp' (forces the fallbacks)" },
	{ "drop-caps", "LMP_DROP_CAPS", NULL, LMP_OPT_BOOL, OFF(drop_caps), "true", .cmds = RUN,
	  .help = "drop the capabilities probes no longer need once attached (docs/security.md)" },
	{ "no-redact", "LMP_NO_REDACT", NULL, LMP_OPT_BOOL, OFF(no_redact), "false", .cmds = RUN,
	  .help = "print exec argv unredacted (default: values of secret-looking names are ***)" },
	{ "redact-patterns", "LMP_REDACT_PATTERNS", NULL, LMP_OPT_STR, OFF(redact_patterns),
	  LMP_REDACT_DEFAULT, .cmds = RUN, .check = lmp_redact_check,
	  .help = "argument names whose values exec events redact (comma list; '+x' adds x)" },
	{ "log-level", "LMP_LOG_LEVEL", NULL, LMP_OPT_STR, OFF(log_level), "info",
	  .cmds = RUN | PROBES | TOP | WHY, .check = check_level,
	  .help = "stderr verbosity: debug, info, warn, error" },
	{ "json", NULL, NULL, LMP_OPT_BOOL, OFF(json), "false", .cmds = PROBES,
	  .help = "print the probe table as JSON" },
	{ "names", NULL, NULL, LMP_OPT_BOOL, OFF(names), "false", .cmds = PROBES,
	  .help = "print only the registry's probe names, one a line (loads nothing)" },
	{ "agent", "LMP_AGENT", NULL, LMP_OPT_STR, OFF(agent_url), "http://127.0.0.1:9464",
	  .cmds = TOP | WHY, .check = check_url, .help = "agent HTTP address to read from" },
	{ "once", NULL, NULL, LMP_OPT_BOOL, OFF(once), "false", .cmds = TOP,
	  .help = "print one table and exit" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct {
	const char *name;
	enum lmp_command cmd;
	const char *help;
} commands[] = {
	{ "run", LMP_CMD_RUN, "run the agent (default)" },
	{ "probes", LMP_CMD_PROBES, "list every probe and how it attaches on this kernel" },
	{ "top", LMP_CMD_TOP, "per-pod latency view of a running agent" },
	{ "why", LMP_CMD_WHY, "NAMESPACE/POD [CONTAINER]: why its containers died (-o json)" },
	{ "version", LMP_CMD_VERSION, "print the version" },
	{ "help", LMP_CMD_HELP, "show this help" },
};

static const char *command_name(enum lmp_command cmd)
{
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (commands[c].cmd == cmd)
			return commands[c].name;
	return "?";
}

/* every option row: the generic ones of struct lmp_config, then each probe's */
struct opt_iter {
	size_t group; /* 0: options[]; g + 1: lmp_probe_option_groups[g] */
	size_t i;
};

static const struct lmp_option *opt_next(struct opt_iter *it)
{
	const struct lmp_option_group *g;

	if (it->group == 0 && it->i < N_OPTIONS)
		return &options[it->i++];
	if (it->group == 0)
		it->group = 1, it->i = 0;
	for (; it->group <= lmp_probe_option_groups_len; it->group++, it->i = 0) {
		g = lmp_probe_option_groups[it->group - 1].group;
		if (it->i < g->n)
			return &g->opts[it->i++];
	}
	return NULL;
}

/* where the value of the option opt_next() just gave goes (NULL: not allocated) */
static void *opt_field(const struct lmp_config *cfg, const struct opt_iter *it,
		       const struct lmp_option *o)
{
	void *base = it->group == 0  ? (void *)cfg :
		     cfg->probe_opts ? cfg->probe_opts[it->group - 1] :
				       NULL;

	return base ? (char *)base + o->off : NULL;
}

static int set_value(void *field, const struct lmp_option *o, const char *val, const char *origin,
		     char *err, size_t len)
{
	char why[200] = "";
	unsigned long v;
	size_t n = strlen(val);
	char *end;

	/* one rule for every option and variable: no control characters (they split log
	 * lines and headers), no surrounding whitespace (" 5" and "5 " alike) */
	for (size_t k = 0; k < n; k++) {
		if ((unsigned char)val[k] < 0x20 || val[k] == 0x7f) {
			snprintf(why, sizeof(why), "control characters are not accepted");
			goto bad;
		}
	}
	if (n && (val[0] == ' ' || val[n - 1] == ' ')) {
		snprintf(why, sizeof(why), "surrounding spaces are not accepted, got '%s'", val);
		goto bad;
	}
	switch (o->type) {
	case LMP_OPT_STR:
		if (o->check && o->check(val, why, sizeof(why)) < 0)
			goto bad;
		free(*(char **)field);
		*(char **)field = strdup(val);
		return *(char **)field ? 0 : -ENOMEM;
	case LMP_OPT_UINT:
		errno = 0;
		v = strtoul(val, &end, 10);
		if (!*val || *end || errno || strspn(val, "0123456789") != n || v < o->min ||
		    v > o->max) {
			snprintf(why, sizeof(why),
				 "expected a whole number from %u to %u, got '%s'", o->min, o->max,
				 val);
			goto bad;
		}
		*(unsigned *)field = v;
		return 0;
	case LMP_OPT_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes")) {
			*(bool *)field = true;
			return 0;
		}
		if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no")) {
			*(bool *)field = false;
			return 0;
		}
		snprintf(why, sizeof(why), "expected true or false, got '%s'", val);
		goto bad;
	case LMP_OPT_ENUM:
		for (int i = 0; o->enums[i]; i++) {
			if (strcmp(val, o->enums[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		snprintf(why, sizeof(why), "expected one of");
		for (int i = 0; o->enums[i]; i++)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s %s",
				 i ? "," : "", o->enums[i]);
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "; got '%s'", val);
		goto bad;
	}
	return -EINVAL;
bad:
	snprintf(err, len, "%s --%s: %s", origin, o->name, why);
	return -EINVAL;
}

static const struct lmp_option *find_option(const struct lmp_config *cfg, const char *name,
					    size_t n, void **field)
{
	struct opt_iter it = { 0 };
	const struct lmp_option *o;

	while ((o = opt_next(&it)))
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0) {
			*field = opt_field(cfg, &it, o);
			return o;
		}
	return NULL;
}

static int alloc_probe_opts(struct lmp_config *cfg)
{
	cfg->probe_opts = calloc(lmp_probe_option_groups_len, sizeof(*cfg->probe_opts));
	if (!cfg->probe_opts)
		return -ENOMEM;
	for (size_t g = 0; g < lmp_probe_option_groups_len; g++) {
		cfg->probe_opts[g] = calloc(1, lmp_probe_option_groups[g].group->size ?: 1);
		if (!cfg->probe_opts[g])
			return -ENOMEM;
	}
	return 0;
}

const void *lmp_config_probe_options(const struct lmp_config *cfg, const char *probe)
{
	static const union {
		max_align_t align;
		char bytes[LMP_PROBE_OPTIONS_MAX];
	} zeroes;

	for (size_t g = 0; cfg->probe_opts && g < lmp_probe_option_groups_len; g++)
		if (!strcmp(lmp_probe_option_groups[g].probe, probe))
			return cfg->probe_opts[g];
	return &zeroes;
}

static int post_check(struct lmp_config *cfg, char *err, size_t len)
{
	char host[256];

	if (cfg->ringbuf_kb & (cfg->ringbuf_kb - 1)) {
		snprintf(err, len, "option --ringbuf-kb: must be a power of two, got %u",
			 cfg->ringbuf_kb);
		return -EINVAL;
	}
	if (!*cfg->node_name && gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = 0;
		free(cfg->node_name);
		cfg->node_name = strdup(host);
		if (!cfg->node_name)
			return -ENOMEM;
	}
	return 0;
}

static int parse(struct lmp_config *cfg, int argc, char **argv, char *err, size_t len)
{
	const struct lmp_option *o;
	struct opt_iter it = { 0 };
	int i = 1, r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->command = LMP_CMD_RUN;
	if (argc > 1 && argv[1][0] != '-') {
		size_t c;

		for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
			if (strcmp(argv[1], commands[c].name) == 0)
				break;
		if (c == sizeof(commands) / sizeof(commands[0])) {
			snprintf(err, len, "unknown command '%s' (try 'lmp help')", argv[1]);
			return -EINVAL;
		}
		cfg->command = commands[c].cmd;
		i = 2;
	}
	r = alloc_probe_opts(cfg);
	if (r < 0)
		return r;

	while ((o = opt_next(&it))) {
		r = set_value(opt_field(cfg, &it, o), o, o->def, "default", err, len);
		if (r < 0)
			return r;
	}
	/* environment: the downward-API name first, so LMP_* wins over it */
	for (it = (struct opt_iter){ 0 }; (o = opt_next(&it));) {
		const char *names[2] = { o->env2, o->env };

		for (int k = 0; k < 2; k++) {
			const char *v = names[k] ? getenv(names[k]) : NULL;
			char origin[64];

			if (!v || !(o->cmds & (1u << cfg->command)))
				continue;
			snprintf(origin, sizeof(origin), "environment %s, option", names[k]);
			r = set_value(opt_field(cfg, &it, o), o, v, origin, err, len);
			if (r < 0)
				return r;
		}
	}

	for (; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		void *field;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			cfg->command = LMP_CMD_HELP;
			return 0;
		}
		if (cfg->command == LMP_CMD_TOP && !strcmp(arg, "-o")) {
			/* kubectl-style short form: `lmp top -o json|table` */
			const char *v = i + 1 < argc ? argv[++i] : "";

			if (strcmp(v, "json") && strcmp(v, "table")) {
				snprintf(err, len, "option -o: expected json or table, got '%s'",
					 v);
				return -EINVAL;
			}
			cfg->json = !strcmp(v, "json");
			continue;
		}
		if (cfg->command == LMP_CMD_WHY && !strcmp(arg, "-o")) {
			const char *v = i + 1 < argc ? argv[++i] : "";

			if (strcmp(v, "json") && strcmp(v, "text")) {
				snprintf(err, len, "option -o: expected json or text, got '%s'", v);
				return -EINVAL;
			}
			cfg->json = !strcmp(v, "json");
			continue;
		}
		if (cfg->command == LMP_CMD_WHY && arg[0] != '-' && !cfg->why_container) {
			if (!cfg->why_pod &&
			    (!strchr(arg, '/') || arg[0] == '/' || arg[strlen(arg) - 1] == '/' ||
			     strchr(strchr(arg, '/') + 1, '/'))) {
				snprintf(err, len, "why: expected NAMESPACE/POD, got '%s'", arg);
				return -EINVAL;
			}
			*(cfg->why_pod ? &cfg->why_container : &cfg->why_pod) = arg;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			snprintf(err, len, "unexpected argument '%s'", arg);
			return -EINVAL;
		}
		arg += 2;
		eq = strchr(arg, '=');
		o = find_option(cfg, arg, eq ? (size_t)(eq - arg) : strlen(arg), &field);
		if (!o) {
			snprintf(err, len, "unknown option '--%.*s'",
				 (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
			return -EINVAL;
		}
		if (!(o->cmds & (1u << cfg->command))) {
			snprintf(err, len, "option --%s does not apply to '%s'", o->name,
				 command_name(cfg->command));
			return -EINVAL;
		}
		if (eq) {
			val = eq + 1;
		} else if (o->type == LMP_OPT_BOOL) {
			val = "true";
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			snprintf(err, len, "option --%s needs a value", o->name);
			return -EINVAL;
		}
		r = set_value(field, o, val, "option", err, len);
		if (r < 0)
			return r;
	}
	if (cfg->command == LMP_CMD_WHY && !cfg->why_pod) {
		snprintf(err, len, "why: expected NAMESPACE/POD [CONTAINER]");
		return -EINVAL;
	}
	return post_check(cfg, err, len);
}

/* the message quotes what it refuses: control characters in it would forge log lines */
int lmp_config_parse(struct lmp_config *cfg, int argc, char **argv, char *err, size_t len)
{
	int r;

	if (len)
		err[0] = 0;
	r = parse(cfg, argc, argv, err, len);
	for (char *p = err; r < 0 && len && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}

void lmp_config_free(struct lmp_config *cfg)
{
	struct opt_iter it = { 0 };
	const struct lmp_option *o;
	char **field;

	while ((o = opt_next(&it))) {
		field = opt_field(cfg, &it, o);
		if (o->type == LMP_OPT_STR && field) {
			free(*field);
			*field = NULL;
		}
	}
	for (size_t g = 0; cfg->probe_opts && g < lmp_probe_option_groups_len; g++)
		free(cfg->probe_opts[g]);
	free(cfg->probe_opts);
	cfg->probe_opts = NULL;
}

static void usage_option(FILE *f, const struct lmp_option *op)
{
	char flag[64];

	snprintf(flag, sizeof(flag), "--%s%s", op->name, op->type == LMP_OPT_BOOL ? "" : " V");
	fprintf(f, "  %-34s %s", flag, op->help);
	if (op->def && *op->def && (op->type != LMP_OPT_BOOL || !strcmp(op->def, "true")))
		fprintf(f, " [%s]", op->def);
	if (!(op->cmds & RUN))
		fprintf(f, " (lmp %s%s)",
			command_name(op->cmds & PROBES ? LMP_CMD_PROBES : LMP_CMD_TOP),
			op->cmds & WHY ? ", lmp why" : "");
	if (op->env)
		fprintf(f, " (%s%s%s)", op->env, op->env2 ? ", " : "", op->env2 ? op->env2 : "");
	fprintf(f, "\n");
}

void lmp_config_usage(FILE *f)
{
	fprintf(f, "Usage: lmp [COMMAND] [OPTIONS]\n\nKubernetes-aware eBPF node agent.\n\n"
		   "Commands:\n");
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		fprintf(f, "  %-10s %s\n", commands[c].name, commands[c].help);
	fprintf(f, "\nOptions (each also read from its environment variable):\n");
	for (size_t o = 0; o < N_OPTIONS; o++)
		usage_option(f, &options[o]);
	fprintf(f, "\nProbe options (lmp run; each probe's own, from its descriptor):\n");
	for (size_t g = 0; g < lmp_probe_option_groups_len; g++)
		for (size_t o = 0; o < lmp_probe_option_groups[g].group->n; o++)
			usage_option(f, &lmp_probe_option_groups[g].group->opts[o]);
	fprintf(f,
		"\nValues: no control characters, no surrounding spaces, numbers in digits, no\n"
		"empty item in a comma list; the same for the environment variables.\n"
		"\nExit status: 0 on a clean stop, 1 when no probe could attach or on a runtime\n"
		"failure, 2 on a usage error (a --listen address in use included).\n");
}

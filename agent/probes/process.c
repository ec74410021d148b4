// SPDX-License-Identifier: Apache-2.0
/* process: exec and exit of every process (bpf/process.bpf.c). */
#include "lmp/process.h"
#include "process.skel.h"
#include "deaths/deaths.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "expose/redact.h"

LMP_DEFINE_SKEL_OPS(process);

static const struct lmp_hook process_hooks[] = {
	LMP_HOOKS_TP("exec", "sched_process_exec", "sched"),
	LMP_HOOKS_TP("exit", "sched_process_exit", "sched"),
};

static const struct lmp_metric_desc execs_total = {
	"lmp_execs_total",
	"Processes executed (execve), per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};
static const struct lmp_metric_desc exits_total = {
	"lmp_process_exits_total",
	"Processes exited, per container and terminating signal "
	"(\"\" for a normal exit).",
	LMP_METRIC_COUNTER,
	"signal",
	1,
	true,
};

/* argv arrives as /proc/<pid>/cmdline does: NUL-separated, possibly cut mid-argument */
static void exec_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_process_exec *e = rec;
	__u32 n = e->args_size < sizeof(e->args) ? e->args_size : sizeof(e->args);
	char redacted[2 * sizeof(e->args) + 8]; /* agent/expose/redact.h: 2 * len + 8 always fits */
	const char *args = e->args;
	struct lmp_identity id;
	unsigned n_redacted = 0;
	__u32 i = 0;

	if (!rt->cfg || !rt->cfg->no_redact) {
		n = lmp_redact_argv(rt->cfg ? rt->cfg->redact_patterns : NULL, e->args, n, redacted,
				    sizeof(redacted), &n_redacted);
		args = redacted;
	}
	lmp_out_array_begin(rt->out, "argv");
	while (i < n) {
		__u32 start = i;

		while (i < n && args[i])
			i++;
		lmp_out_strn(rt->out, NULL, args + start, i - start);
		i++; /* the NUL */
	}
	lmp_out_array_end(rt->out);
	if (n_redacted)
		lmp_out_u64(rt->out, "argv_redacted", n_redacted);
	lmp_deaths_on_exec(rt->deaths, e->hdr.pid, args, n);
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &execs_total, &id, NULL, 1);
	}
}

static void exit_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_process_exit *e = rec;
	const char *sig = lmp_signal_name(e->signal);
	struct lmp_identity id;

	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &exits_total, &id, sig ? sig : "", 1);
	}
	lmp_deaths_on_exit(rt->deaths, e);
}

static const struct lmp_field exec_fields[] = {
	LMP_FIELD(struct lmp_process_exec, ppid, "ppid", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_process_exec, filename, "filename", LMP_FIELD_STR),
	LMP_FIELD(struct lmp_process_exec, truncated, "argv_truncated", LMP_FIELD_BOOL32),
};

static const struct lmp_field exit_fields[] = {
	LMP_FIELD(struct lmp_process_exit, ppid, "ppid", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_process_exit, exit_code, "exit_code", LMP_FIELD_S32),
	LMP_FIELD(struct lmp_process_exit, signal, "signal", LMP_FIELD_SIGNAL),
	LMP_FIELD(struct lmp_process_exit, core_dumped, "core_dumped", LMP_FIELD_BOOL32),
	LMP_FIELD(struct lmp_process_exit, lifetime_ns, "lifetime_s", LMP_FIELD_NS_AS_S),
};

static const struct lmp_event_desc process_events[] = {
	[LMP_PROCESS_EXEC] = { "exec", sizeof(struct lmp_process_exec), exec_fields,
			       ARRAY_SIZE(exec_fields), exec_extra },
	[LMP_PROCESS_EXIT] = { "exit", sizeof(struct lmp_process_exit), exit_fields,
			       ARRAY_SIZE(exit_fields), exit_extra },
};

const struct lmp_probe_desc lmp_probe_process = {
	.name = "process",
	.summary = "process exec (filename, argv, ppid) and exit (code, signal, lifetime)",
	.skel = &process_skel_ops,
	.hooks = process_hooks,
	.n_hooks = ARRAY_SIZE(process_hooks),
	.events = process_events,
	.n_events = ARRAY_SIZE(process_events),
};

// SPDX-License-Identifier: Apache-2.0
/* sigsnoop: who signalled whom, both pods named (bpf/sigsnoop.bpf.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "lmp/sigsnoop.h"
#include "sigsnoop.skel.h"
#include "core/config.h"
#include "probes/lib/decode_flags.h"
#include "probes/lib/autoload.h"
#include "probes/lib/signals.h"
#include "deaths/deaths.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"

LMP_DEFINE_SKEL_OPS(sigsnoop);

static const struct lmp_hook sigsnoop_hooks[] = {
	LMP_HOOKS_SYSCALL("kill"),
	LMP_HOOKS_TP("generate", "signal_generate", "signal"),
};

struct sigsnoop_options {
	char *ignore; /* signals neither followed nor counted */
};

static int check_signal_list(const char *v, char *err, size_t len)
{
	__u64 mask;

	return lmp_signal_mask_parse(v, &mask, err, len);
}

static const struct lmp_option sigsnoop_options[] = {
	LMP_OPTION_STR(
		struct sigsnoop_options, ignore, "sigsnoop-ignore", "LMP_SIGSNOOP_IGNORE",
		"SIGCHLD,SIGURG", check_signal_list,
		"sigsnoop probe: signals not followed (comma list of names/numbers, or 'none')"),
};

static const struct lmp_extra_tp enter_extra[] = {
	{ "tp_sys_enter_tkill", "syscalls/sys_enter_tkill" },
	{ "tp_sys_enter_tgkill", "syscalls/sys_enter_tgkill" },
};
static const struct lmp_extra_tp exit_extra[] = {
	{ "tp_sys_exit_tkill", "syscalls/sys_exit_tkill" },
	{ "tp_sys_exit_tgkill", "syscalls/sys_exit_tgkill" },
};

static const struct lmp_metric_desc signals_total = {
	"lmp_signals_total",
	"Signals generated for a container's tasks (the receiving side), by signal; those in "
	"--sigsnoop-ignore are not counted.",
	LMP_METRIC_COUNTER,
	"signal",
	1,
	true,
};

/* si_code values that do not depend on the signal (include/uapi/asm-generic/siginfo.h) */
static const struct lmp_enum_name si_codes[] = {
	{ 0, "SI_USER" },
	{ 0x80, "SI_KERNEL" },
	{ (__u32)-1, "SI_QUEUE" },
	{ (__u32)-2, "SI_TIMER" },
	{ (__u32)-3, "SI_MESGQ" },
	{ (__u32)-4, "SI_ASYNCIO" },
	{ (__u32)-5, "SI_SIGIO" },
	{ (__u32)-6, "SI_TKILL" },
	{ (__u32)-7, "SI_DETHREAD" },
	{ (__u32)-60, "SI_ASYNCNL" },
};
static const struct lmp_enum_name segv_codes[] = {
	{ 1, "SEGV_MAPERR" },  { 2, "SEGV_ACCERR" },  { 3, "SEGV_BNDERR" },  { 4, "SEGV_PKUERR" },
	{ 5, "SEGV_ACCADI" },  { 6, "SEGV_ADIDERR" }, { 7, "SEGV_ADIPERR" }, { 8, "SEGV_MTEAERR" },
	{ 9, "SEGV_MTESERR" }, { 10, "SEGV_CPERR" },
};
static const struct lmp_enum_name bus_codes[] = {
	{ 1, "BUS_ADRALN" },	{ 2, "BUS_ADRERR" },	{ 3, "BUS_OBJERR" },
	{ 4, "BUS_MCEERR_AR" }, { 5, "BUS_MCEERR_AO" },
};
static const struct lmp_enum_name ill_codes[] = {
	{ 1, "ILL_ILLOPC" }, { 2, "ILL_ILLOPN" }, { 3, "ILL_ILLADR" },
	{ 4, "ILL_ILLTRP" }, { 5, "ILL_PRVOPC" }, { 6, "ILL_PRVREG" },
	{ 7, "ILL_COPROC" }, { 8, "ILL_BADSTK" }, { 9, "ILL_BADIADDR" },
};
static const struct lmp_enum_name fpe_codes[] = {
	{ 1, "FPE_INTDIV" }, { 2, "FPE_INTOVF" }, { 3, "FPE_FLTDIV" },
	{ 4, "FPE_FLTOVF" }, { 5, "FPE_FLTUND" }, { 6, "FPE_FLTRES" },
	{ 7, "FPE_FLTINV" }, { 8, "FPE_FLTSUB" }, { 14, "FPE_CONDTRAP" },
};
static const struct lmp_enum_name trap_codes[] = {
	{ 1, "TRAP_BRKPT" },  { 2, "TRAP_TRACE" }, { 3, "TRAP_BRANCH" },
	{ 4, "TRAP_HWBKPT" }, { 5, "TRAP_UNK" },   { 6, "TRAP_PERF" },
};
static const struct lmp_enum_name chld_codes[] = {
	{ 1, "CLD_EXITED" },  { 2, "CLD_KILLED" },  { 3, "CLD_DUMPED" },
	{ 4, "CLD_TRAPPED" }, { 5, "CLD_STOPPED" }, { 6, "CLD_CONTINUED" },
};
static const struct lmp_enum_name poll_codes[] = {
	{ 1, "POLL_IN" },  { 2, "POLL_OUT" }, { 3, "POLL_MSG" },
	{ 4, "POLL_ERR" }, { 5, "POLL_PRI" }, { 6, "POLL_HUP" },
};

#define CODES(t) t, ARRAY_SIZE(t)

/* SI_* first (they apply to every signal), then the signal's own positive codes */
static const char *si_code_name(__u32 sig, __s32 code)
{
	const char *n = lmp_enum_name(CODES(si_codes), (__u32)code);

	if (n || code <= 0)
		return n;
	switch (sig) {
	case 4:
		return lmp_enum_name(CODES(ill_codes), code);
	case 5:
		return lmp_enum_name(CODES(trap_codes), code);
	case 7:
		return lmp_enum_name(CODES(bus_codes), code);
	case 8:
		return lmp_enum_name(CODES(fpe_codes), code);
	case 11:
		return lmp_enum_name(CODES(segv_codes), code);
	case 17:
		return lmp_enum_name(CODES(chld_codes), code);
	case 29:
		return lmp_enum_name(CODES(poll_codes), code);
	}
	return NULL;
}

static const char *const via_names[] = {
	[LMP_SIG_VIA_KERNEL] = NULL,
	[LMP_SIG_VIA_KILL] = "kill",
	[LMP_SIG_VIA_TKILL] = "tkill",
	[LMP_SIG_VIA_TGKILL] = "tgkill",
};

static const struct lmp_enum_name deliveries[] = {
	{ LMP_SIG_DELIVERED, "delivered" },
	{ LMP_SIG_IGNORED, "ignored" },
	{ LMP_SIG_ALREADY_PENDING, "already_pending" },
	{ LMP_SIG_OVERFLOW_FAIL, "overflow_fail" },
	{ LMP_SIG_LOSE_INFO, "lose_info" },
	{ LMP_SIG_NOT_GENERATED, "not_generated" },
};

static int sigsnoop_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct sigsnoop_options *o = lmp_probe_options(p, cfg);
	struct sigsnoop_bpf *s = skel;
	static const int nrs[] = { SYS_kill, SYS_tkill, SYS_tgkill };
	struct lmp_sys_want want = {
		.enter = true, .exit = true, .nrs = nrs, .n_nrs = ARRAY_SIZE(nrs)
	};
	char err[160];
	__u64 mask = 0;

	if (lmp_signal_mask_parse(o->ignore, &mask, err, sizeof(err)) < 0) {
		snprintf(p->reason, sizeof(p->reason), "--sigsnoop-ignore: %s", err);
		return -EINVAL;
	}
	s->rodata->cfg_ignore_mask = mask;
	s->rodata->cfg_nr_kill = SYS_kill;
	s->rodata->cfg_nr_tkill = SYS_tkill;
	s->rodata->cfg_nr_tgkill = SYS_tgkill;
	lmp_extra_tracepoints(p, "enter", enter_extra, ARRAY_SIZE(enter_extra));
	lmp_extra_tracepoints(p, "exit", exit_extra, ARRAY_SIZE(exit_extra));
	/* the dispatcher's maps in any case (they are in the object), its programs and
	 * these calls routed to the tails when the tail programs were chosen */
	return lmp_sys_join(p, s->obj, cfg, &want, NULL);
}

static void signal_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_sigsnoop_event *e = rec;
	const char *via = e->via < ARRAY_SIZE(via_names) ? via_names[e->via] : NULL;
	const char *code = si_code_name(e->sig, e->code);
	const char *sig = lmp_signal_name(e->sig);
	struct lmp_identity id;

	lmp_deaths_on_signal(rt->deaths, e);
	if (via) {
		lmp_out_str(rt->out, "syscall", via);
		lmp_out_s64(rt->out, "target_arg", e->target_arg);
	} else {
		lmp_out_null(rt->out, "syscall");
	}
	if (code)
		lmp_out_str(rt->out, "code", code);
	else
		lmp_out_s64(rt->out, "code", e->code);
	lmp_out_str(rt->out, "delivery", lmp_enum_name(CODES(deliveries), e->delivery));
	if (e->targets > 1)
		lmp_out_u64(rt->out, "targets", e->targets);
	if (!e->target_cgroup_id) { /* target not found: no cgroup has id 0 */
		lmp_out_null(rt->out, "target_cgroup_id");
		return;
	}
	lmp_out_u64(rt->out, "target_cgroup_id", e->target_cgroup_id);
	lmp_ident_lookup_pid(rt->ident, e->target_cgroup_id, e->target_pid, &id);
	if (id.cgroup)
		lmp_out_str(rt->out, "target_cgroup", id.cgroup);
	lmp_out_identity(rt->out, "target_k8s", &id);
	/* counted for the receiving container, once per signal actually generated */
	if (rt->metrics && e->delivery != LMP_SIG_NOT_GENERATED)
		lmp_metrics_add(rt->metrics, &signals_total, &id, sig ? sig : "", 1);
}

static const struct lmp_field signal_fields[] = {
	LMP_FIELD(struct lmp_sigsnoop_event, sig, "sig", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_sigsnoop_event, sig, "signal", LMP_FIELD_SIGNAL),
	LMP_FIELD(struct lmp_sigsnoop_event, ret, "result", LMP_FIELD_ERRNO),
	LMP_FIELD(struct lmp_sigsnoop_event, target_pid, "target_pid", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_sigsnoop_event, target_tid, "target_tid", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_sigsnoop_event, target_comm, "target_comm", LMP_FIELD_STR),
};

static __u64 signal_target(const void *rec, __u32 *pid)
{
	const struct lmp_sigsnoop_event *e = rec;

	*pid = e->target_pid;
	return e->target_cgroup_id;
}

static const struct lmp_event_desc sigsnoop_events[] = {
	[LMP_SIGSNOOP_SIGNAL] = { "signal", sizeof(struct lmp_sigsnoop_event), signal_fields,
				  ARRAY_SIZE(signal_fields), signal_extra, signal_target },
};

const struct lmp_probe_desc lmp_probe_sigsnoop = {
	.name = "sigsnoop",
	.summary = "signals: kill/tkill/tgkill and kernel-generated, sender and target pods",
	.skel = &sigsnoop_skel_ops,
	.hooks = sigsnoop_hooks,
	.n_hooks = ARRAY_SIZE(sigsnoop_hooks),
	.events = sigsnoop_events,
	.n_events = ARRAY_SIZE(sigsnoop_events),
	.configure = sigsnoop_configure,
	.attach = lmp_sys_attach,
	.cleanup = lmp_sys_leave,
	.options = LMP_OPTIONS(struct sigsnoop_options, sigsnoop_options),
};

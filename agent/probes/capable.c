// SPDX-License-Identifier: Apache-2.0
/* capable: capability checks, audit flag, result; denials per pod (bpf/capable.bpf.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "lmp/capable.h"
#include "capable.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/map_rows.h"
#include "sym/ksyms.h"

LMP_DEFINE_SKEL_OPS(capable);

enum { HOOK_TP_BTF, HOOK_RAW_TP, HOOK_TP, HOOK_FEXIT, HOOK_KRETPROBE };

static const struct lmp_hook capable_hooks[] = {
	[HOOK_TP_BTF] = { "check", LMP_HOOK_TP_BTF, "tp_btf_cap_capable", "cap_capable" },
	[HOOK_RAW_TP] = { "check", LMP_HOOK_RAW_TP, "raw_tp_cap_capable", "cap_capable" },
	[HOOK_TP] = { "check", LMP_HOOK_TRACEPOINT, "tp_cap_capable", "capability/cap_capable" },
	[HOOK_FEXIT] = { "check", LMP_HOOK_FEXIT, "fexit_cap_capable", "cap_capable" },
	[HOOK_KRETPROBE] = { "check", LMP_HOOK_KRETPROBE, "kretprobe_cap_capable", "cap_capable" },
};

static const char *const capable_streams[] = { "audited", "denied", "all", NULL };

struct capable_options {
	int stream; /* 0 audited denials, 1 every denial, 2 every check */
};

static const struct lmp_option capable_options[] = {
	LMP_OPTION_ENUM(struct capable_options, stream, "capable-stream", "LMP_CAPABLE_STREAM",
			"audited", capable_streams,
			"capable probe: events for audited denials, every denial, or all checks"),
};

static const struct lmp_metric_desc denials_total = {
	"lmp_capability_denials_total",
	"Capability checks denied by cap_capable(), per container and capability; noaudit "
	"probes (checks the kernel does not log) are not counted.",
	LMP_METRIC_COUNTER,
	"capability",
	1,
	true,
};

/* include/uapi/linux/capability.h */
static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* "CAP_SYS_ADMIN"; a number the table does not know yet prints as "CAP_<n>" */
static const char *cap_name(__s32 cap, char buf[16])
{
	if (cap >= 0 && (size_t)cap < ARRAY_SIZE(cap_names))
		return cap_names[cap];
	snprintf(buf, 16, "CAP_%d", cap);
	return buf;
}

/* callers that ask without audit; the BPF side matches return addresses against them */
static const char *const noaudit_funcs[] = {
	"ns_capable_noaudit", "has_ns_capability_noaudit", "has_capability_noaudit",
	"ptracer_capable",    "cap_vm_enough_memory",	   "security_vm_enough_memory_mm",
};

static int capable_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct capable_options *o = lmp_probe_options(p, cfg);
	struct capable_bpf *s = skel;
	struct lmp_ksym_range r[ARRAY_SIZE(noaudit_funcs)];
	size_t k = 0;

	_Static_assert(ARRAY_SIZE(noaudit_funcs) == ARRAY_SIZE(s->rodata->cfg_noaudit_start),
		       "one range per noaudit caller");
	s->rodata->cfg_stream = o->stream;
	/* found ones packed first: the BPF side stops at the first zero start */
	if (lmp_ksym_ranges(NULL, noaudit_funcs, ARRAY_SIZE(noaudit_funcs), r) > 0) {
		for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
			if (!r[i].start)
				continue;
			s->rodata->cfg_noaudit_start[k] = r[i].start;
			s->rodata->cfg_noaudit_end[k] = r[i].end;
			k++;
		}
	}
	/* the kretprobe needs its entry half */
	bpf_program__set_autoload(s->progs.kprobe_cap_capable, p->chosen[HOOK_KRETPROBE]);
	return 0;
}

static void check_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_capable_event *e = rec;
	char buf[16];

	lmp_out_str(rt->out, "capability", cap_name(e->cap, buf));
	if (e->audit == LMP_CAP_AUDIT_UNKNOWN)
		lmp_out_null(rt->out, "audit");
	else
		lmp_out_bool(rt->out, "audit", e->audit == LMP_CAP_AUDIT);
	if (e->insetid)
		lmp_out_bool(rt->out, "insetid", true);
	lmp_out_bool(rt->out, "granted", e->ret == 0);
}

/* a row as lmp_map_rows_drain() lays it out: key, value */
struct check_row {
	struct lmp_capable_key key;
	struct lmp_capable_count c;
};

/* most denied first, then most checked */
static int cmp_rows(const void *a, const void *b)
{
	const struct check_row *x = a, *y = b;
	__u64 xd = x->c.denied, yd = y->c.denied;
	__u64 xt = x->c.granted + x->c.denied + x->c.denied_noaudit;
	__u64 yt = y->c.granted + y->c.denied + y->c.denied_noaudit;

	if (xd != yd)
		return xd < yd ? 1 : -1;
	return xt < yt ? 1 : xt > yt ? -1 : 0;
}

static void capable_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct capable_bpf *s = skel;
	struct lmp_map_rows m = { 0 };
	struct check_row *v;
	size_t n;
	struct lmp_identity id;
	char buf[16];
	int r;

	r = lmp_map_rows_drain(&m, bpf_map__fd(s->maps.checks), 0, sizeof(struct lmp_capable_key),
			       sizeof(struct lmp_capable_count));
	if (r < 0 || m.oom)
		p->decode_errors++;
	v = (struct check_row *)m.rows;
	n = m.n;
	for (size_t i = 0; rt->metrics && i < n; i++) {
		if (!v[i].c.denied)
			continue;
		lmp_ident_lookup(rt->ident, v[i].key.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &denials_total, &id, cap_name(v[i].key.cap, buf),
				v[i].c.denied);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_rows);
	for (size_t i = 0; i < n && i < rt->cfg->top; i++) {
		const struct check_row *row = &v[i];

		lmp_probe_summary_begin(p, rt, "summary", row->key.cgroup_id, 0, NULL);
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_str(rt->out, "capability", cap_name(row->key.cap, buf));
		lmp_out_u64(rt->out, "granted", row->c.granted);
		lmp_out_u64(rt->out, "denied", row->c.denied);
		lmp_out_u64(rt->out, "denied_noaudit", row->c.denied_noaudit);
		lmp_out_end(rt->out);
	}
	lmp_map_rows_release(&m);
}

static const struct lmp_field check_fields[] = {
	LMP_FIELD(struct lmp_capable_event, cap, "cap", LMP_FIELD_S32),
	LMP_FIELD(struct lmp_capable_event, ret, "result", LMP_FIELD_ERRNO),
	LMP_FIELD(struct lmp_capable_event, userns_inum, "userns", LMP_FIELD_U32),
	LMP_FIELD(struct lmp_capable_event, userns_level, "userns_level", LMP_FIELD_U32),
};

static const struct lmp_event_desc capable_events[] = {
	[LMP_CAPABLE_CHECK] = { "check", sizeof(struct lmp_capable_event), check_fields,
				ARRAY_SIZE(check_fields), check_extra },
};

const struct lmp_probe_desc lmp_probe_capable = {
	.name = "capable",
	.summary = "capability checks: capability, audit flag, result; denials per pod",
	.skel = &capable_skel_ops,
	.hooks = capable_hooks,
	.n_hooks = ARRAY_SIZE(capable_hooks),
	.events = capable_events,
	.n_events = ARRAY_SIZE(capable_events),
	.configure = capable_configure,
	.interval = capable_interval,
	.options = LMP_OPTIONS(struct capable_options, capable_options),
};

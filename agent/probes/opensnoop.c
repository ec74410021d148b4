// SPDX-License-Identifier: Apache-2.0
/* opensnoop: open/openat/openat2 with path, decoded flags, fd or errno (bpf/opensnoop.bpf.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>

#include "lmp/opensnoop.h"
#include "opensnoop.skel.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "probes/lib/decode_flags.h"
#include "probes/lib/autoload.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/map_rows.h"
#include "probes/lib/sysdisp.h"

LMP_DEFINE_SKEL_OPS(opensnoop);

static const struct lmp_hook opensnoop_hooks[] = {
	LMP_HOOKS_SYSCALL("openat"),
};

struct opensnoop_options {
	bool failed;
};

static const struct lmp_option opensnoop_options[] = {
	LMP_OPTION_BOOL(struct opensnoop_options, failed, "opensnoop-failed",
			"LMP_OPENSNOOP_FAILED", "false",
			"opensnoop probe: events for failed opens only"),
};

/* open(2) is absent on arm64 and openat2(2) before 5.6: these load only where they exist */
static const struct lmp_extra_tp enter_extra[] = {
	{ "tp_sys_enter_open", "syscalls/sys_enter_open" },
	{ "tp_sys_enter_openat2", "syscalls/sys_enter_openat2" },
};
static const struct lmp_extra_tp exit_extra[] = {
	{ "tp_sys_exit_open", "syscalls/sys_exit_open" },
	{ "tp_sys_exit_openat2", "syscalls/sys_exit_openat2" },
};

static const struct lmp_metric_desc opens_total = {
	"lmp_opens_total",
	"Files opened (open, openat, openat2 calls, failed ones included), "
	"per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};
static const struct lmp_metric_desc open_failures_total = {
	"lmp_open_failures_total",
	"open, openat and openat2 calls that failed, per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};

/* glibc hides the internal bits behind composite flags; the kernel's own values */
#ifndef __O_LARGEFILE
#define __O_LARGEFILE 0100000 /* O_LARGEFILE is 0 in 64-bit user space */
#endif
#ifndef __O_TMPFILE
#define __O_TMPFILE (O_TMPFILE & ~O_DIRECTORY)
#endif

/* O_ACCMODE is a field, not a bit: its three values come first */
static const struct lmp_flag_name open_flags[] = {
	{ O_ACCMODE, O_RDONLY, "O_RDONLY" },
	{ O_ACCMODE, O_WRONLY, "O_WRONLY" },
	{ O_ACCMODE, O_RDWR, "O_RDWR" },
	LMP_FLAG(O_CREAT, "O_CREAT"),
	LMP_FLAG(O_EXCL, "O_EXCL"),
	LMP_FLAG(O_NOCTTY, "O_NOCTTY"),
	LMP_FLAG(O_TRUNC, "O_TRUNC"),
	LMP_FLAG(O_APPEND, "O_APPEND"),
	LMP_FLAG(O_NONBLOCK, "O_NONBLOCK"),
	LMP_FLAG(O_SYNC, "O_SYNC"), /* includes O_DSYNC: matched before it */
	LMP_FLAG(O_DSYNC, "O_DSYNC"),
	LMP_FLAG(O_ASYNC, "O_ASYNC"),
	LMP_FLAG(O_DIRECT, "O_DIRECT"),
	LMP_FLAG(__O_LARGEFILE, "O_LARGEFILE"),
	LMP_FLAG(O_TMPFILE, "O_TMPFILE"), /* includes O_DIRECTORY */
	LMP_FLAG(O_DIRECTORY, "O_DIRECTORY"),
	LMP_FLAG(O_NOFOLLOW, "O_NOFOLLOW"),
	LMP_FLAG(O_NOATIME, "O_NOATIME"),
	LMP_FLAG(O_CLOEXEC, "O_CLOEXEC"),
	LMP_FLAG(O_PATH, "O_PATH"),
};

/* openat2 resolve flags (include/uapi/linux/openat2.h) */
static const struct lmp_flag_name resolve_flags[] = {
	LMP_FLAG(0x01, "RESOLVE_NO_XDEV"),     LMP_FLAG(0x02, "RESOLVE_NO_MAGICLINKS"),
	LMP_FLAG(0x04, "RESOLVE_NO_SYMLINKS"), LMP_FLAG(0x08, "RESOLVE_BENEATH"),
	LMP_FLAG(0x10, "RESOLVE_IN_ROOT"),     LMP_FLAG(0x20, "RESOLVE_CACHED"),
};

static const char *const call_names[] = {
	[LMP_OPEN_OPEN] = "open",
	[LMP_OPEN_OPENAT] = "openat",
	[LMP_OPEN_OPENAT2] = "openat2",
};

static int opensnoop_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct opensnoop_options *o = lmp_probe_options(p, cfg);
	struct opensnoop_bpf *s = skel;
	static const int nrs[] = {
#ifdef SYS_open
		SYS_open,
#endif
		SYS_openat, 437 /* openat2 */
	};
	struct lmp_sys_want want = {
		.enter = true, .exit = true, .nrs = nrs, .n_nrs = ARRAY_SIZE(nrs)
	};

#ifdef SYS_open
	s->rodata->cfg_nr_open = SYS_open;
#endif
	s->rodata->cfg_nr_openat = SYS_openat;
#ifdef SYS_openat2
	s->rodata->cfg_nr_openat2 = SYS_openat2;
#else
	s->rodata->cfg_nr_openat2 = 437; /* same number on every architecture */
#endif
	s->rodata->cfg_failed_only = o->failed;
	lmp_extra_tracepoints(p, "enter", enter_extra, ARRAY_SIZE(enter_extra));
	lmp_extra_tracepoints(p, "exit", exit_extra, ARRAY_SIZE(exit_extra));
	/* the dispatcher's maps in any case (they are in the object), its programs and
	 * these calls routed to the tails when the tail programs were chosen */
	return lmp_sys_join(p, s->obj, cfg, &want, NULL);
}

static void open_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_opensnoop_event *e = rec;
	char buf[256];

	lmp_out_str(rt->out, "syscall", e->call < 3 ? call_names[e->call] : "?");
	if (e->ret >= 0)
		lmp_out_s64(rt->out, "fd", e->ret);
	else
		lmp_out_null(rt->out, "fd");
	lmp_flags_format(open_flags, ARRAY_SIZE(open_flags), e->flags, buf, sizeof(buf));
	lmp_out_str(rt->out, "flags", buf);
	/* the mode only means something when the call may create a file */
	if (e->flags & (O_CREAT | __O_TMPFILE)) {
		snprintf(buf, sizeof(buf), "%04o", e->mode & 07777);
		lmp_out_str(rt->out, "mode", buf);
	}
	if (e->call != LMP_OPEN_OPEN) {
		if (e->dfd == AT_FDCWD)
			lmp_out_str(rt->out, "dfd", "AT_FDCWD");
		else
			lmp_out_s64(rt->out, "dfd", e->dfd);
	}
	if (e->call == LMP_OPEN_OPENAT2 && e->resolve) {
		lmp_flags_format(resolve_flags, ARRAY_SIZE(resolve_flags), e->resolve, buf,
				 sizeof(buf));
		lmp_out_str(rt->out, "resolve", buf);
	}
}

/* a row as lmp_map_rows_drain() lays it out: key, value */
struct count_row {
	__u64 cgroup_id;
	struct lmp_opensnoop_count c;
};

static int cmp_opens(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	return x->c.opens < y->c.opens ? 1 : x->c.opens > y->c.opens ? -1 : 0;
}

/* exact per-cgroup counts (ring-buffer loss does not touch them): metrics and a summary */
static void opensnoop_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct opensnoop_bpf *s = skel;
	struct lmp_map_rows m = { 0 };
	struct count_row *v;
	size_t n;
	struct lmp_identity id;
	int r;

	r = lmp_map_rows_drain(&m, bpf_map__fd(s->maps.counts), 0, sizeof(__u64),
			       sizeof(struct lmp_opensnoop_count));
	if (r < 0 || m.oom)
		p->decode_errors++;
	v = (struct count_row *)m.rows;
	n = m.n;
	for (size_t i = 0; rt->metrics && i < n; i++) {
		lmp_ident_lookup(rt->ident, v[i].cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &opens_total, &id, NULL, v[i].c.opens);
		lmp_metrics_add(rt->metrics, &open_failures_total, &id, NULL, v[i].c.failures);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_opens);
	for (size_t i = 0; i < n && i < rt->cfg->top; i++) {
		lmp_probe_summary_begin(p, rt, "summary", v[i].cgroup_id, 0, NULL);
		lmp_out_u64(rt->out, "interval_s", rt->cfg->interval);
		lmp_out_u64(rt->out, "opens", v[i].c.opens);
		lmp_out_u64(rt->out, "failures", v[i].c.failures);
		lmp_out_end(rt->out);
	}
	lmp_map_rows_release(&m);
}

static const struct lmp_field open_fields[] = {
	LMP_FIELD(struct lmp_opensnoop_event, path, "path", LMP_FIELD_STR),
	LMP_FIELD(struct lmp_opensnoop_event, ret, "result", LMP_FIELD_ERRNO),
};

static const struct lmp_event_desc opensnoop_events[] = {
	[LMP_OPENSNOOP_OPEN] = { "open", sizeof(struct lmp_opensnoop_event), open_fields,
				 ARRAY_SIZE(open_fields), open_extra },
};

const struct lmp_probe_desc lmp_probe_opensnoop = {
	.name = "opensnoop",
	.summary = "file opens: path, decoded flags, mode, fd or errno; opens per pod",
	.skel = &opensnoop_skel_ops,
	.hooks = opensnoop_hooks,
	.n_hooks = ARRAY_SIZE(opensnoop_hooks),
	.events = opensnoop_events,
	.n_events = ARRAY_SIZE(opensnoop_events),
	.configure = opensnoop_configure,
	.attach = lmp_sys_attach,
	.cleanup = lmp_sys_leave,
	.interval = opensnoop_interval,
	.options = LMP_OPTIONS(struct opensnoop_options, opensnoop_options),
};

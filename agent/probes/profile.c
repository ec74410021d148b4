// SPDX-License-Identifier: Apache-2.0
/*
 * profile: on-CPU stack samples per pod (bpf/profile.bpf.c). Every interval the counts are
 * drained and each pod's busiest stacks are printed, symbolized, with a folded-stack line
 * that flamegraph.pl and speedscope read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/profile.h"
#include "profile.skel.h"
#include "base/array.h"
#include "probes/lib/map_rows.h"
#include "probe/bpfmap.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "sym/stacks.h"

LMP_DEFINE_SKEL_OPS(profile);

static const struct lmp_hook profile_hooks[] = {
	{ "sample", LMP_HOOK_PERF_SW, "perf_event_cpu_clock", "cpu-clock" },
	{ "sample", LMP_HOOK_PERF_HW, "perf_event_cycles", "cycles" },
};

enum { PROFILE_EVENT_CPU_CLOCK, PROFILE_EVENT_CYCLES }; /* --profile-event values */
static const char *const profile_events[] = { "cpu-clock", "cycles", NULL };

struct profile_options {
	unsigned hz; /* samples per second per CPU */
	int event;   /* PROFILE_EVENT_* */
};

static const struct lmp_option profile_options[] = {
	LMP_OPTION_UINT(struct profile_options, hz, "profile-hz", "LMP_PROFILE_HZ", "49", 1, 1000,
			"profile probe: stack samples per second on each CPU"),
	LMP_OPTION_ENUM(
		struct profile_options, event, "profile-event", "LMP_PROFILE_EVENT", "cpu-clock",
		profile_events,
		"profile probe: cpu-clock (software timer) or cycles (needs a hardware PMU)"),
};

static const struct lmp_metric_desc samples_total = {
	"lmp_profile_samples_total",
	"On-CPU stack samples taken, per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};

/* a row as lmp_map_rows_drain_shared() lays it out: key, value */
struct row {
	struct lmp_profile_key k;
	struct lmp_profile_val v;
};

/* a row to print, its stacks copied out of the map before the ids are freed */
struct shown {
	const struct row *r;
	__u64 pod_samples;
	int un, kn;
	__u64 uips[LMP_STACK_DEPTH], kips[LMP_STACK_DEPTH];
};

struct profile_priv {
	struct lmp_stacks *stacks;
	struct lmp_map_rows buf;
	struct row *rows; /* buf's, as rows */
	size_t n;
	struct shown *shown;
	size_t n_shown, cap_shown;
	bool oom; /* a row could not be kept this interval */
	unsigned hz;
};

static int perf_open(bool hw, unsigned hz, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = hw ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE,
		.config = hw ? PERF_COUNT_HW_CPU_CYCLES : PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = hz,
	};

	return syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int profile_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	const struct profile_options *o = lmp_probe_options(p, cfg);
	struct profile_bpf *s = skel;
	struct profile_priv *pp;
	int fd, err;

	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	p->priv = pp;
	pp->hz = o->hz ? o->hz : 49;
	err = lmp_stacks_new(&pp->stacks);
	if (err < 0)
		return err;
	if (o->event != PROFILE_EVENT_CYCLES)
		return 0;
	/* asked for cycles: the hook table put the software clock first, so switch here */
	fd = perf_open(true, pp->hz, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(p->reason, sizeof(p->reason),
			 "unsupported on this node: --profile-event cycles needs a hardware PMU "
			 "(perf_event_open cycles: %s)",
			 strerror(-err));
		return -ENOTSUP;
	}
	close(fd);
	bpf_program__set_autoload(s->progs.perf_event_cpu_clock, false);
	bpf_program__set_autoload(s->progs.perf_event_cycles, true);
	snprintf(p->attach, sizeof(p->attach), "sample=perf_hw");
	return 0;
}

/* one perf event per CPU, each feeding the chosen program */
static int profile_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct profile_bpf *s = skel;
	struct profile_priv *pp = p->priv;
	bool hw = bpf_program__autoload(s->progs.perf_event_cycles);
	struct bpf_program *prog = hw ? s->progs.perf_event_cycles : s->progs.perf_event_cpu_clock;
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return ncpu ? ncpu : -ENODEV;
	p->links = calloc(ncpu, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct bpf_link *l;
		int fd = perf_open(hw, pp->hz, cpu), err;

		if (fd < 0) {
			if (errno == ENODEV) /* possible but offline CPU */
				continue;
			err = -errno;
			snprintf(p->reason, sizeof(p->reason), "perf_event_open %s on CPU %d: %s",
				 hw ? "cycles" : "cpu-clock", cpu, strerror(-err));
			return err;
		}
		l = bpf_program__attach_perf_event(prog, fd);
		if (!l) {
			err = -errno;
			close(fd);
			snprintf(p->reason, sizeof(p->reason), "attach to CPU %d: %s", cpu,
				 strerror(-err));
			return err;
		}
		p->links[p->n_links++] = l; /* the link owns fd now */
	}
	return p->n_links ? 0 : -ENODEV;
}

/* by cgroup, then busiest stack first */
static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->k.cgroup_id != y->k.cgroup_id)
		return x->k.cgroup_id < y->k.cgroup_id ? -1 : 1;
	if (x->v.samples != y->v.samples)
		return x->v.samples > y->v.samples ? -1 : 1;
	return 0;
}

static void print_row(struct lmp_probe *p, struct profile_priv *pp, const struct shown *sh,
		      struct lmp_rt *rt)
{
	const struct row *r = sh->r;
	char comm[LMP_COMM_LEN + 1], folded[4096];

	memcpy(comm, r->v.comm, LMP_COMM_LEN);
	comm[LMP_COMM_LEN] = 0;
	lmp_probe_summary_begin(p, rt, "stack", r->k.cgroup_id, r->k.pid, comm);
	lmp_out_u64(rt->out, "samples", r->v.samples);
	lmp_out_u64(rt->out, "pod_samples", sh->pod_samples);
	lmp_out_double(rt->out, "cpu_s", (double)r->v.samples / pp->hz);
	lmp_stacks_folded(pp->stacks, comm, r->k.pid, sh->uips, sh->un, sh->kips, sh->kn, folded,
			  sizeof(folded));
	lmp_out_str(rt->out, "folded", folded);
	lmp_stacks_out(pp->stacks, rt->out, "user_stack", false, r->k.pid, sh->uips, sh->un);
	lmp_stacks_out(pp->stacks, rt->out, "kernel_stack", true, r->k.pid, sh->kips, sh->kn);
	lmp_out_end(rt->out);
}

static struct shown *shown_add(struct profile_priv *pp)
{
	if (!lmp_array_reserve(&pp->shown, &pp->cap_shown, pp->n_shown + 1, sizeof(*pp->shown), 64))
		return NULL;
	return &pp->shown[pp->n_shown++];
}

/*
 * Drain the counts, copy out the stacks of the rows to print, free every stack id of the
 * interval, and only then symbolize: samples taken meanwhile re-insert their stacks, so
 * the window in which a new count can point at a freed stack is a few syscalls, not the
 * time symbolization takes.
 */
static void profile_interval(struct lmp_probe *p, void *skel, struct lmp_rt *rt)
{
	struct profile_bpf *s = skel;
	struct profile_priv *pp = p->priv;
	int stacks_fd = bpf_map__fd(s->maps.stacks);
	unsigned top = rt->cfg->top ? rt->cfg->top : 10;
	struct lmp_identity id;
	size_t i = 0;

	pp->n_shown = 0;
	if (lmp_map_rows_drain_shared(&pp->buf, bpf_map__fd(s->maps.counts), 0,
				      sizeof(struct lmp_profile_key),
				      sizeof(struct lmp_profile_val)) < 0)
		return;
	pp->oom = pp->buf.oom;
	pp->rows = (struct row *)pp->buf.rows;
	pp->n = pp->buf.n;
	if (pp->n)
		qsort(pp->rows, pp->n, sizeof(*pp->rows), cmp_row);
	while (i < pp->n) {
		__u64 cg = pp->rows[i].k.cgroup_id, pod_samples = 0;
		size_t end = i;

		while (end < pp->n && pp->rows[end].k.cgroup_id == cg)
			pod_samples += pp->rows[end++].v.samples;
		for (size_t k = i; k < end && k - i < top; k++) {
			struct shown *sh = shown_add(pp);

			if (!sh) {
				pp->oom = true;
				break;
			}
			sh->r = &pp->rows[k];
			sh->pod_samples = pod_samples;
			sh->un = lmp_stacks_read(stacks_fd, sh->r->k.user_stack_id, sh->uips);
			sh->kn = lmp_stacks_read(stacks_fd, sh->r->k.kernel_stack_id, sh->kips);
		}
		if (rt->metrics) {
			lmp_ident_lookup(rt->ident, cg, &id);
			lmp_metrics_add(rt->metrics, &samples_total, &id, NULL, pod_samples);
		}
		i = end;
	}
	for (i = 0; i < pp->n; i++) {
		lmp_stacks_delete(stacks_fd, pp->rows[i].k.user_stack_id);
		lmp_stacks_delete(stacks_fd, pp->rows[i].k.kernel_stack_id);
	}
	if (pp->oom)
		p->decode_errors++;
	lmp_stacks_interval(pp->stacks);
	for (i = 0; i < pp->n_shown; i++)
		print_row(p, pp, &pp->shown[i], rt);
}

static void profile_cleanup(struct lmp_probe *p)
{
	struct profile_priv *pp = p->priv;

	if (!pp)
		return;
	lmp_stacks_free(pp->stacks);
	lmp_map_rows_release(&pp->buf);
	free(pp->shown);
	free(pp);
	p->priv = NULL;
}

const struct lmp_probe_desc lmp_probe_profile = {
	.name = "profile",
	.summary = "on-CPU stack samples per pod (cpu-clock, --profile-hz), symbolized, folded",
	.skel = &profile_skel_ops,
	.hooks = profile_hooks,
	.n_hooks = ARRAY_SIZE(profile_hooks),
	.configure = profile_configure,
	.attach = profile_attach,
	.interval = profile_interval,
	.cleanup = profile_cleanup,
	.options = LMP_OPTIONS(struct profile_options, profile_options),
	/* user stacks: /proc/<pid>/maps and /proc/<pid>/root of any process (ptrace access);
	 * /proc/<pid>/map_files for replaced or deleted binaries (checkpoint/restore) */
	.caps = LMP_CAPS_USER_STACKS,
	.needs = LMP_NEED_KERNEL_STACKS | LMP_NEED_USER_STACKS,
};

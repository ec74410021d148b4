// SPDX-License-Identifier: Apache-2.0
/*
 * Generic probe lifecycle. The choice of attach alternatives happens before the object is
 * loaded: losing programs get autoload=false, so the verifier never sees a program whose
 * hook the kernel lacks (an fentry program fails to load where fentry is refused, which
 * would fail the whole object).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lmp/event.h"
#include "core/config.h"
#include "base/log.h"
#include "probe/probe.h"

static const char *const state_names[] = {
	[LMP_PROBE_DISABLED] = "disabled", [LMP_PROBE_UNSUPPORTED] = "unsupported",
	[LMP_PROBE_FAILED] = "failed",	   [LMP_PROBE_UNCONFIGURED] = "not-configured",
	[LMP_PROBE_READY] = "ready",	   [LMP_PROBE_RUNNING] = "running",
};

const char *lmp_probe_state_name(enum lmp_probe_state s)
{
	return s <= LMP_PROBE_RUNNING ? state_names[s] : "?";
}

const char *lmp_signal_name(int sig)
{
	static char rt[16];
	const char *abbr;

	if (sig >= 34 && sig <= 64) { /* SIGRTMIN..SIGRTMAX as the kernel numbers them */
		snprintf(rt, sizeof(rt), "SIGRT%d", sig - 34);
		return rt;
	}
	abbr = sig > 0 && sig < 34 ? sigabbrev_np(sig) : NULL;
	if (!abbr)
		return NULL;
	snprintf(rt, sizeof(rt), "SIG%s", abbr);
	return rt;
}

const char *lmp_errno_name(int err)
{
	return err > 0 ? strerrorname_np(err) : NULL;
}

const char lmp_hook_deferred[] = "works, deferred to a shared alternative";

int lmp_hooks_choose(const struct lmp_hook *hooks, size_t n, lmp_hook_check_fn check, void *ctx,
		     const bool *failed, bool *chosen, char *why, size_t whylen)
{
	size_t i = 0;

	if (whylen)
		why[0] = 0;
	while (i < n) {
		const char *group = hooks[i].group;
		size_t end = i, used, mark = whylen ? strlen(why) : 0, deferred = n;
		bool found = false;

		while (end < n && strcmp(hooks[end].group, group) == 0)
			end++;
		for (size_t k = i; k < end; k++) {
			const char *reason = "";

			chosen[k] = false;
			if (!found && !(failed && failed[k]) && check(ctx, &hooks[k], &reason)) {
				chosen[k] = true;
				found = true;
			} else if (!found && reason == lmp_hook_deferred && deferred == n) {
				deferred = k; /* works: the group's last resort */
			} else if (!found && whylen && !(failed && failed[k])) {
				used = strlen(why);
				snprintf(why + used, whylen - used, "%s%s: %s: %s",
					 used ? "; " : "", group, lmp_hook_kind_name(hooks[k].kind),
					 reason);
			}
		}
		if (!found && deferred < n)
			chosen[deferred] = found = true;
		if (!found)
			return -ENOTSUP;
		if (whylen)
			why[mark] = 0; /* the group has a hook: its losers are no reason */
		i = end;
	}
	if (whylen)
		why[0] = 0;
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* a line of the verifier's trace, not its verdict */
static bool verifier_noise(const char *l, size_t len)
{
	size_t i = 0;

	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i == len || l[i] == ';' || l[i] == '(' || starts_with(l + i, "processed ") ||
	    starts_with(l + i, "verification time") || starts_with(l + i, "stack depth") ||
	    starts_with(l + i, "last_idx ") || starts_with(l + i, "regs=") ||
	    starts_with(l + i, "parent ") || starts_with(l + i, "propagating ") ||
	    starts_with(l + i, "mark_precise") || starts_with(l + i, "from ") ||
	    starts_with(l + i, "func#") || starts_with(l + i, "Func#") ||
	    starts_with(l + i, "...") || starts_with(l + i, "Validating ") ||
	    starts_with(l + i, "frame") || starts_with(l + i, "caller:") ||
	    starts_with(l + i, "callee:") || starts_with(l + i, "returning from"))
		return true;
	if (l[i] == 'R' && i + 1 < len && l[i + 1] >= '0' && l[i + 1] <= '9')
		return true; /* register state: "R1=ctx(...) R10=fp0" */
	while (i < len && l[i] >= '0' && l[i] <= '9')
		i++;
	/* an instruction ("12: (85) call ...") or a state at one ("12: R0=..."), not "5: x" */
	return i < len && l[i] == ':' && i + 2 < len && (l[i + 2] == '(' || l[i + 2] == 'R');
}

void lmp_verifier_error(const char *log, char *out, size_t len)
{
	const char *best = NULL, *p = log;
	size_t best_len = 0;

	if (!len)
		return;
	out[0] = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (!verifier_noise(p, l)) {
			best = p;
			best_len = l;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (best)
		snprintf(out, len, "%.*s", (int)best_len, best);
}

void lmp_probe_init(struct lmp_probe *p, const struct lmp_registry_entry *e)
{
	memset(p, 0, sizeof(*p));
	p->name = e->name;
	p->desc = e->desc;
	p->events_fd = -1;
	p->drops_fd = -1;
	p->state = LMP_PROBE_READY;
}

const void *lmp_probe_options(const struct lmp_probe *p, const struct lmp_config *cfg)
{
	return lmp_config_probe_options(cfg, p->name);
}

void lmp_probes_wants(const struct lmp_probe *ps, size_t n, __u64 *caps, unsigned *needs)
{
	*caps = 0;
	*needs = 0;
	for (size_t i = 0; ps && i < n; i++) {
		if (ps[i].state != LMP_PROBE_RUNNING || !ps[i].desc)
			continue;
		*caps |= ps[i].desc->caps;
		*needs |= ps[i].desc->needs;
	}
}

void lmp_probe_describe(struct lmp_probe *p, lmp_served_by_fn served_by, void *ctx)
{
	const struct lmp_probe_desc *d = p->desc;
	size_t used = 0, cap = sizeof(p->attach);

	p->attach[0] = 0;
	for (size_t i = 0; i < d->n_hooks; i++) {
		const char *by = served_by ? served_by(d->hooks[i].group, ctx) : NULL;

		if (!p->chosen[i])
			continue;
		used += snprintf(p->attach + used, used < cap ? cap - used : 0, "%s%s=%s%s",
				 used ? "," : "", d->hooks[i].group,
				 by ? "shared:" : lmp_hook_kind_name(d->hooks[i].kind),
				 by ? by : "");
	}
}

int lmp_probe_resolve(struct lmp_probe *p, lmp_hook_check_fn check, void *ctx)
{
	const struct lmp_probe_desc *d = p->desc;
	size_t n;
	int r;

	if (!d)
		return -ENOTSUP;
	n = d->n_hooks ? d->n_hooks : 1;
	free(p->chosen);
	free(p->failed);
	p->chosen = calloc(n, sizeof(bool));
	p->failed = calloc(n, sizeof(bool));
	if (!p->chosen || !p->failed)
		return -ENOMEM;
	p->check = check;
	p->check_ctx = ctx;
	p->failures[0] = 0;
	r = lmp_hooks_choose(d->hooks, d->n_hooks, check, ctx, NULL, p->chosen, p->reason,
			     sizeof(p->reason));
	if (r < 0) {
		p->state = LMP_PROBE_UNSUPPORTED;
		return r;
	}
	lmp_probe_describe(p, NULL, NULL);
	p->state = LMP_PROBE_READY;
	return 0;
}

int lmp_probe_set_rodata_u32(struct bpf_object *obj, const char *var, __u32 val)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	size_t size;
	char *data;
	int id;

	if (!map || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	data = (char *)bpf_map__initial_value(map, &size); /* writable until load */
	if (id < 0 || !data)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var) == 0) {
			if (vs->size != sizeof(val) || vs->offset + sizeof(val) > size)
				return -EINVAL;
			memcpy(data + vs->offset, &val, sizeof(val));
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The chosen hook a program belongs to: its own, or the one it is a companion of (an entry
 * kprobe_x loaded with kretprobe_x): companions are named <kind>_<target> like their hook.
 */
static int hook_of_prog(const struct lmp_probe *p, const char *prog)
{
	const char *rest = prog ? strchr(prog, '_') : NULL;

	for (size_t i = 0; prog && i < p->desc->n_hooks; i++)
		if (p->chosen[i] && strcmp(p->desc->hooks[i].prog, prog) == 0)
			return (int)i;
	for (size_t i = 0; rest && i < p->desc->n_hooks; i++) {
		const char *hr = strchr(p->desc->hooks[i].prog, '_');

		if (p->chosen[i] && hr && strcmp(hr, rest) == 0)
			return (int)i;
	}
	return -1;
}

int lmp_probe_links_alloc(struct lmp_probe *p)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, p->obj)
		n++;
	p->links = calloc(n ? n : 1, sizeof(*p->links));
	return p->links ? 0 : -ENOMEM;
}

static int attach_chosen(struct lmp_probe *p, int *bad)
{
	struct bpf_program *prog;

	if (lmp_probe_links_alloc(p) < 0)
		return -ENOMEM;
	bpf_object__for_each_program(prog, p->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			int err = -errno;

			snprintf(p->reason, sizeof(p->reason), "attach %s: %s",
				 bpf_program__name(prog), strerror(-err));
			*bad = hook_of_prog(p, bpf_program__name(prog));
			return err;
		}
		p->links[p->n_links++] = l;
	}
	return 0;
}

/*
 * libbpf names the program it was loading when the object failed in its own warnings
 * ("prog 'x': BPF program load failed", "prog 'x': failed to load", CO-RE errors): the
 * last one named is the culprit. Probes start one at a time on one thread.
 */
static struct {
	libbpf_print_fn_t chained;
	char prog[128];
	char map[128]; /* or the map it could not create */
} L;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && starts_with(fmt, "libbpf: prog '%s': ")) {
		va_list copy;

		va_copy(copy, ap);
		snprintf(L.prog, sizeof(L.prog), "%s", va_arg(copy, const char *));
		va_end(copy);
	} else if (level == LIBBPF_WARN && starts_with(fmt, "libbpf: map '%s': failed to create")) {
		va_list copy;

		va_copy(copy, ap);
		snprintf(L.map, sizeof(L.map), "map %s: ", va_arg(copy, const char *));
		va_end(copy);
	}
	return L.chained ? L.chained(level, fmt, ap) : 0;
}

/* the verifier log of a refused program; grown by libbpf never, so generous */
#define VERIFIER_LOG_SIZE (8U << 20)

/*
 * One try with the alternatives chosen now: open, configure, load and (attach) attach.
 * *bad is the hook whose program the kernel refused, or -1 when the failure is not one
 * program's (a map, configuration); why gets the verifier's error for the log.
 */
static int try_start(struct lmp_probe *p, const struct lmp_config *cfg, bool attach, int *bad,
		     char *why, size_t whylen)
{
	const struct lmp_probe_desc *d = p->desc;
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_program *prog;
	struct bpf_map *events;
	char *vlog = NULL;
	int err;

	*bad = -1;
	why[0] = 0;
	p->reason[0] = 0;
	/*
	 * Name the kernel BTF even when it is the default: otherwise libbpf 1.1 also walks
	 * kernel-module BTF for CO-RE candidates, which needs CAP_SYS_ADMIN, and a DaemonSet
	 * with only CAP_BPF + CAP_PERFMON would fail to load probes with type flavours.
	 */
	if (cfg->btf_path && *cfg->btf_path)
		opts.btf_custom_path = cfg->btf_path;
	else if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		opts.btf_custom_path = "/sys/kernel/btf/vmlinux";
	p->skel = d->skel->open(&opts);
	if (!p->skel) {
		err = -errno;
		snprintf(p->reason, sizeof(p->reason), "open: %s", strerror(-err));
		return err;
	}
	p->obj = d->skel->obj(p->skel);
	for (size_t i = 0; i < d->n_hooks; i++) {
		prog = bpf_object__find_program_by_name(p->obj, d->hooks[i].prog);
		if (!prog) { /* descriptor and BPF source disagree: a programming error */
			snprintf(p->reason, sizeof(p->reason), "no BPF program %s",
				 d->hooks[i].prog);
			return -ENOENT;
		}
		bpf_program__set_autoload(prog, p->chosen[i]);
	}
	events = bpf_object__find_map_by_name(p->obj, "events");
	if (events && cfg->ringbuf_kb)
		bpf_map__set_max_entries(events, cfg->ringbuf_kb * 1024);
	lmp_probe_set_rodata_u32(p->obj, "cfg_self_pid",
				 getpid()); /* absent in some probes: fine */
	if (d->configure) {
		err = d->configure(p, p->skel, cfg);
		if (err < 0) {
			if (!p->reason[0])
				snprintf(p->reason, sizeof(p->reason), "configure: %s",
					 strerror(-err));
			return err;
		}
	}
	/*
	 * Our own log buffer: libbpf loads with no log first, and only a refused program fills
	 * it (libbpf would otherwise print the whole log as a warning).
	 */
	vlog = malloc(VERIFIER_LOG_SIZE);
	if (vlog) {
		vlog[0] = 0;
		bpf_object__for_each_program(prog, p->obj)
			bpf_program__set_log_buf(prog, vlog, VERIFIER_LOG_SIZE);
	}
	L.prog[0] = L.map[0] = 0;
	L.chained = libbpf_set_print(capture_print);
	err = bpf_object__load(p->obj);
	libbpf_set_print(L.chained);
	if (err) {
		char lib[128];

		libbpf_strerror(err, lib, sizeof(lib)); /* knows libbpf's own codes (4001...) */
		if (vlog)
			lmp_verifier_error(vlog, why, whylen);
		if (!why[0])
			snprintf(why, whylen, "%s", lib);
		*bad = hook_of_prog(p, L.prog);
		/* CO-RE relocation is what fails first without kernel BTF: name the cause */
		snprintf(p->reason, sizeof(p->reason), "load%s%s: %s%s%s", L.prog[0] ? " " : "",
			 L.prog, L.map, why,
			 lmp_feature_btf() ? "" :
					     " (needs kernel BTF, which is unavailable: see "
					     "the BTF warning above and --btf-path)");
		free(vlog);
		return err;
	}
	free(vlog);
	bpf_object__for_each_program(prog, p->obj)
		bpf_program__set_log_buf(prog, NULL, 0); /* nothing keeps the freed buffer */
	if (!attach)
		return 0;
	err = d->attach ? d->attach(p, p->skel, cfg) : attach_chosen(p, bad);
	if (err < 0) {
		if (!p->reason[0])
			snprintf(p->reason, sizeof(p->reason), "attach: %s", strerror(-err));
		snprintf(why, whylen, "attach: %s", strerror(-err));
		return err;
	}
	if (events)
		p->events_fd = bpf_map__fd(events);
	p->drops_fd = bpf_object__find_map_fd_by_name(p->obj, "drops");
	return 0;
}

/* the group of hook bad has no alternative left: say what each one that failed said */
static void record_failure(struct lmp_probe *p, int bad, const char *why)
{
	const struct lmp_hook *h = &p->desc->hooks[bad];
	size_t used = strlen(p->failures);

	snprintf(p->failures + used, sizeof(p->failures) - used, "%s%s=%s: %s", used ? "; " : "",
		 h->group, lmp_hook_kind_name(h->kind), why);
	p->failed[bad] = true;
}

static int start(struct lmp_probe *p, const struct lmp_config *cfg, bool attach)
{
	char why[256], left[256];
	int err, bad;

	if (p->state != LMP_PROBE_READY || !p->chosen || !p->failed)
		return -EINVAL;
	p->failures[0] = 0;
	for (;;) {
		const struct lmp_hook *h;

		err = try_start(p, cfg, attach, &bad, why, sizeof(why));
		if (!err)
			break;
		if (bad < 0 || !p->check)
			goto fail;
		h = &p->desc->hooks[bad];
		record_failure(p, bad, why);
		lmp_probe_stop(p);
		if (lmp_hooks_choose(p->desc->hooks, p->desc->n_hooks, p->check, p->check_ctx,
				     p->failed, p->chosen, left, sizeof(left)) < 0) {
			lmp_log(LMP_LOG_WARN, "probe %s: %s=%s refused (%s); no alternative left",
				p->name, h->group, lmp_hook_kind_name(h->kind), why);
			snprintf(p->reason, sizeof(p->reason), "every alternative failed: %s; %s",
				 p->failures, left);
			goto fail;
		}
		lmp_probe_describe(p, NULL, NULL);
		lmp_log(LMP_LOG_WARN, "probe %s: %s=%s refused (%s); trying %s", p->name, h->group,
			lmp_hook_kind_name(h->kind), why, p->attach);
	}
	p->state = attach ? LMP_PROBE_RUNNING : LMP_PROBE_READY;
	p->reason[0] = 0;
	return 0;
fail:
	lmp_probe_stop(p);
	p->state = err == -LMP_ENOTCONFIGURED ? LMP_PROBE_UNCONFIGURED : LMP_PROBE_FAILED;
	return err;
}

int lmp_probe_start(struct lmp_probe *p, const struct lmp_config *cfg)
{
	return start(p, cfg, true);
}

int lmp_probe_verify(struct lmp_probe *p, const struct lmp_config *cfg)
{
	int err = start(p, cfg, false);

	if (!err)
		lmp_probe_stop(p);
	return err;
}

void lmp_probe_read_drops(struct lmp_probe *p)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 sum[2] = { 0, 0 };

	if (p->drops_fd < 0 || ncpu <= 0)
		return;
	for (__u32 k = 0; k < 2; k++) {
		__u64 vals[ncpu];

		if (bpf_map_lookup_elem(p->drops_fd, &k, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[k] += vals[c];
	}
	p->lost = sum[0];
	p->map_full = sum[1];
}

void lmp_probe_stop(struct lmp_probe *p)
{
	for (size_t i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	p->links = NULL;
	p->n_links = 0;
	if (p->desc && p->desc->cleanup)
		p->desc->cleanup(p);
	if (p->skel)
		p->desc->skel->destroy(p->skel);
	p->skel = NULL;
	p->obj = NULL;
	p->events_fd = p->drops_fd = -1;
	if (p->state == LMP_PROBE_RUNNING)
		p->state = LMP_PROBE_READY;
}

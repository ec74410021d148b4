/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic probe lifecycle (choose hooks, open, configure, load, attach, poll, destroy)
 * over a descriptor (agent/probes/<name>.c). Returns -errno; the caller logs.
 */
#ifndef LMP_PROBE_H
#define LMP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "base/caps.h"
#include "core/config.h"
#include "probe/feature.h"

struct bpf_object;
struct bpf_object_open_opts;
struct bpf_link;
struct lmp_deaths;
struct lmp_event_hdr;
struct lmp_ident;
struct lmp_metrics;
struct lmp_out;
struct lmp_probe;

/* configure(): the probe needs a target option; not an error under --probes all */
#define LMP_ENOTCONFIGURED 4095

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* so the generic code never casts function pointers */
struct lmp_skel_ops {
	void *(*open)(const struct bpf_object_open_opts *opts);
	struct bpf_object *(*obj)(void *skel);
	void (*destroy)(void *skel);
};

#define LMP_DEFINE_SKEL_OPS(n)                                                         \
	static void *n##_skel_open(const struct bpf_object_open_opts *o)               \
	{                                                                              \
		return n##_bpf__open_opts(o);                                          \
	}                                                                              \
	static struct bpf_object *n##_skel_obj(void *s)                                \
	{                                                                              \
		return ((struct n##_bpf *)s)->obj;                                     \
	}                                                                              \
	static void n##_skel_destroy(void *s)                                          \
	{                                                                              \
		n##_bpf__destroy(s);                                                   \
	}                                                                              \
	static const struct lmp_skel_ops n##_skel_ops = { n##_skel_open, n##_skel_obj, \
							  n##_skel_destroy }

/* hook rows, best first: programs tp_btf_<tp>, raw_tp_<tp>, tp_<tp> */
#define LMP_HOOKS_TP(group, tp, cat)                             \
	{ group, LMP_HOOK_TP_BTF, "tp_btf_" tp, tp },            \
		{ group, LMP_HOOK_RAW_TP, "raw_tp_" tp, tp },    \
	{                                                        \
		group, LMP_HOOK_TRACEPOINT, "tp_" tp, cat "/" tp \
	}
#define LMP_HOOKS_FUNC(group, fn)                        \
	{ group, LMP_HOOK_FENTRY, "fentry_" fn, fn },    \
	{                                                \
		group, LMP_HOOK_KPROBE, "kprobe_" fn, fn \
	}
/*
 * its own syscall tracepoints, else the shared dispatcher's tails (probes/lib/sysdisp.h).
 * Alone, the tracepoints are cheapest (the dispatcher would run on every syscall); once the
 * dispatcher runs for syscall, syscount or file, they only add the kernel's
 * syscall-tracepoint handler to every call, so the tails come first then.
 */
#define LMP_SYSDISP_USERS "syscall,syscount,file"
#define LMP_HOOKS_SYSCALL(call)                                                                \
	{ "enter", LMP_HOOK_TRACEPOINT, "tp_sys_enter_" call, "syscalls/sys_enter_" call,      \
	  0,	   LMP_SYSDISP_USERS },                                                        \
		{ "enter", LMP_HOOK_TP_BTF, "tail_btf_enter", "sys_enter" },                   \
		{ "enter", LMP_HOOK_RAW_TP, "tail_raw_enter", "sys_enter" },                   \
		{ "exit", LMP_HOOK_TRACEPOINT, "tp_sys_exit_" call, "syscalls/sys_exit_" call, \
		  0,	  LMP_SYSDISP_USERS },                                                 \
		{ "exit", LMP_HOOK_TP_BTF, "tail_btf_exit", "sys_exit" },                      \
	{                                                                                      \
		"exit", LMP_HOOK_RAW_TP, "tail_raw_exit", "sys_exit"                           \
	}

enum lmp_probe_need {
	/* kallsyms is read before the capabilities are dropped */
	LMP_NEED_KERNEL_STACKS = 1 << 0,
	LMP_NEED_USER_STACKS = 1 << 1,
	LMP_NEED_UPROBES = 1 << 2,
};

#define LMP_CAPS_USER_STACKS (LMP_CAP(CAP_SYS_PTRACE) | LMP_CAP(CAP_CHECKPOINT_RESTORE))
#define LMP_CAPS_UPROBES (LMP_CAP(CAP_SYS_ADMIN) | LMP_CAP(CAP_PERFMON) | LMP_CAP(CAP_BPF))

enum lmp_field_kind {
	LMP_FIELD_U32,
	LMP_FIELD_S32,
	LMP_FIELD_U64,
	LMP_FIELD_STR, /* NUL-terminated or full */
	LMP_FIELD_BOOL32,
	LMP_FIELD_NS_AS_S,
	LMP_FIELD_ERRNO, /* prints "" for a result >= 0 */
	LMP_FIELD_SIGNAL,
};

struct lmp_field {
	const char *name;
	enum lmp_field_kind kind;
	size_t off;
	size_t size;
};

#define LMP_FIELD(type, member, name, kind)                                     \
	{                                                                       \
		name, kind, offsetof(type, member), sizeof(((type *)0)->member) \
	}

struct lmp_rt {
	const struct lmp_config *cfg;
	struct lmp_out *out;
	struct lmp_ident *ident;
	struct lmp_metrics *metrics;
	struct lmp_deaths *deaths; /* NULL: off */
	bool stopping;		   /* the last interval before stop: report, start nothing new */
};

/* indexed by hdr.type */
struct lmp_event_desc {
	const char *name;
	size_t size; /* minimum record size */
	const struct lmp_field *fields;
	size_t n_fields;
	/* optional: more fields after the declared ones */
	void (*extra)(struct lmp_probe *p, const void *rec, struct lmp_rt *rt);
	/* optional: a second cgroup (a signal's target), held for its labels too; 0: none */
	__u64 (*other_cgroup)(const void *rec, __u32 *pid);
};

struct lmp_probe_desc {
	const char *name;
	const char *summary;
	const struct lmp_skel_ops *skel;
	const struct lmp_hook *hooks;
	size_t n_hooks;
	const struct lmp_event_desc *events; /* NULL: aggregates only */
	size_t n_events;
	/* before load; -ENOTSUP with a reason, or -LMP_ENOTCONFIGURED */
	int (*configure)(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);
	struct lmp_option_group options;
	/* capabilities still used once attached; the agent drops the rest */
	__u64 caps;
	unsigned needs; /* enum lmp_probe_need */
	/* optional: instead of attaching every chosen program */
	int (*attach)(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);
	/* optional: each record before it may be held for labels, for reads that cannot wait */
	void (*arrived)(struct lmp_probe *p, const void *rec, size_t len, struct lmp_rt *rt);
	/* every --interval */
	void (*interval)(struct lmp_probe *p, void *skel, struct lmp_rt *rt);
	void (*cleanup)(struct lmp_probe *p); /* frees p->priv */
};

enum lmp_probe_state {
	LMP_PROBE_DISABLED,
	LMP_PROBE_UNSUPPORTED,
	LMP_PROBE_FAILED,
	LMP_PROBE_UNCONFIGURED,
	LMP_PROBE_READY, /* hooks chosen (after verify: and loaded once) */
	LMP_PROBE_RUNNING,
};

struct lmp_probe {
	const struct lmp_probe_desc *desc;
	const char *name;
	enum lmp_probe_state state;
	char reason[512];
	char attach[256];
	bool *chosen;
	bool *failed; /* refused once, never chosen again */
	char failures[512];
	lmp_hook_check_fn check; /* asked again on a fallback */
	void *check_ctx;
	void *skel;
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t n_links;
	int events_fd, drops_fd;
	__u64 events;
	__u64 decode_errors;
	__u64 filtered;
	__u64 lost; /* failed reservations */
	__u64 map_full;
	__u64 lost_logged, map_full_logged, decode_errors_logged;
	void *priv;
};

/* every probe, built or not (agent/probes/probes.c) */
struct lmp_registry_entry {
	const char *name;
	const struct lmp_probe_desc *desc;
};
extern const struct lmp_registry_entry lmp_registry[];
extern const size_t lmp_registry_len;

/*
 * Sets chosen[] to the first alternative per group that passes check and is not failed[]
 * (may be NULL). -ENOTSUP when a group has none; why then says what the kernel lacks.
 */
int lmp_hooks_choose(const struct lmp_hook *hooks, size_t n, lmp_hook_check_fn check, void *ctx,
		     const bool *failed, bool *chosen, char *why, size_t whylen);

/*
 * The last line of a verifier log that is not trace or statistics: the verifier stops at
 * its first error. "" when there is none.
 */
void lmp_verifier_error(const char *log, char *out, size_t len);

void lmp_probe_init(struct lmp_probe *p, const struct lmp_registry_entry *e);
const void *lmp_probe_options(const struct lmp_probe *p, const struct lmp_config *cfg);
/* union over the running probes */
void lmp_probes_wants(const struct lmp_probe *ps, size_t n, __u64 *caps, unsigned *needs);
/*
 * Once attached: drop the capabilities the running probes do not use, unless
 * --drop-caps=false. -errno when the kernel refused; the agent runs on.
 */
int lmp_probes_drop_caps(const struct lmp_config *cfg, const struct lmp_probe *ps, size_t n);
/* state READY or UNSUPPORTED */
int lmp_probe_resolve(struct lmp_probe *p, lmp_hook_check_fn check, void *ctx);
/* the probe whose programs serve group, or NULL */
typedef const char *(*lmp_served_by_fn)(const char *group, void *ctx);
/* p->attach, "start=tp_btf" or "start=shared:<probe>"; served_by may be NULL */
void lmp_probe_describe(struct lmp_probe *p, lmp_served_by_fn served_by, void *ctx);
/* before load */
struct bpf_object;
int lmp_probe_set_rodata_u32(struct bpf_object *obj, const char *var, __u32 val);
/* for a descriptor's own attach; 0 or -ENOMEM */
int lmp_probe_links_alloc(struct lmp_probe *p);
/*
 * State RUNNING, or -errno with p->reason. A refused alternative is logged and the next of
 * its group is tried.
 */
int lmp_probe_start(struct lmp_probe *p, const struct lmp_config *cfg);
/* load without attaching, then unload (`lmp probes`): READY, FAILED or UNCONFIGURED */
int lmp_probe_verify(struct lmp_probe *p, const struct lmp_config *cfg);
int lmp_probe_handle(struct lmp_probe *p, const void *data, size_t len, struct lmp_rt *rt);
/* updates p->lost and p->map_full */
void lmp_probe_read_drops(struct lmp_probe *p);
void lmp_probe_stop(struct lmp_probe *p);

const char *lmp_probe_state_name(enum lmp_probe_state s);

/* pid/comm may be 0/NULL; the caller ends the line with lmp_out_end() */
void lmp_probe_summary_begin(struct lmp_probe *p, struct lmp_rt *rt, const char *event,
			     __u64 cgroup_id, __u32 pid, const char *comm);

const char *lmp_signal_name(int sig); /* or NULL */
const char *lmp_errno_name(int err);  /* or NULL */

#endif /* LMP_PROBE_H */

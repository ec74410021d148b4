/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A probe is one BPF object plus a descriptor (agent/probes/<name>.c): its hooks with their
 * alternatives best first, how its records decode, and its periodic work. This module runs
 * the generic lifecycle: choose hooks -> open -> configure -> load -> attach -> poll ->
 * destroy. Library code: returns -errno and leaves logging to the caller.
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

/* Typed wrappers around one skeleton, so the generic code never casts function pointers. */
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

/*
 * Hook rows of the common alternative sets, best first. A tracepoint: tp_btf, raw_tp and
 * tracefs programs named tp_btf_<tp>, raw_tp_<tp> and tp_<tp>, for category cat.
 */
#define LMP_HOOKS_TP(group, tp, cat)                             \
	{ group, LMP_HOOK_TP_BTF, "tp_btf_" tp, tp },            \
		{ group, LMP_HOOK_RAW_TP, "raw_tp_" tp, tp },    \
	{                                                        \
		group, LMP_HOOK_TRACEPOINT, "tp_" tp, cat "/" tp \
	}
/* a kernel function: fentry_<fn>, then kprobe_<fn> */
#define LMP_HOOKS_FUNC(group, fn)                        \
	{ group, LMP_HOOK_FENTRY, "fentry_" fn, fn },    \
	{                                                \
		group, LMP_HOOK_KPROBE, "kprobe_" fn, fn \
	}
/*
 * One system call of a syscall-family probe (probes/lib/sysdisp.h): its own enter and exit
 * tracepoints (tp_sys_enter_<call>), else the shared dispatcher's tail programs.
 */
#define LMP_HOOKS_SYSCALL(call)                                                                  \
	{ "enter", LMP_HOOK_TRACEPOINT, "tp_sys_enter_" call, "syscalls/sys_enter_" call },      \
		{ "enter", LMP_HOOK_TP_BTF, "tail_btf_enter", "sys_enter" },                     \
		{ "enter", LMP_HOOK_RAW_TP, "tail_raw_enter", "sys_enter" },                     \
		{ "exit", LMP_HOOK_TRACEPOINT, "tp_sys_exit_" call, "syscalls/sys_exit_" call }, \
		{ "exit", LMP_HOOK_TP_BTF, "tail_btf_exit", "sys_exit" },                        \
	{                                                                                        \
		"exit", LMP_HOOK_RAW_TP, "tail_raw_exit", "sys_exit"                             \
	}

/* What a probe uses at run time besides its programs (lmp_probe_desc.needs). */
enum lmp_probe_need {
	/* kernel stack symbols: kallsyms is read before the capabilities are dropped */
	LMP_NEED_KERNEL_STACKS = 1 << 0,
	/* user stacks: /proc/<pid>/maps and /proc/<pid>/root of any process */
	LMP_NEED_USER_STACKS = 1 << 1,
	/* attaches uprobes after start (each new process of its target) */
	LMP_NEED_UPROBES = 1 << 2,
};

/* the capabilities those needs keep (lmp_probe_desc.caps) */
#define LMP_CAPS_USER_STACKS (LMP_CAP(CAP_SYS_PTRACE) | LMP_CAP(CAP_CHECKPOINT_RESTORE))
#define LMP_CAPS_UPROBES (LMP_CAP(CAP_SYS_ADMIN) | LMP_CAP(CAP_PERFMON) | LMP_CAP(CAP_BPF))

/* How one field of a record is printed. */
enum lmp_field_kind {
	LMP_FIELD_U32,
	LMP_FIELD_S32,
	LMP_FIELD_U64,
	LMP_FIELD_STR,	   /* fixed char array, NUL-terminated or full */
	LMP_FIELD_BOOL32,  /* __u32 0/1 */
	LMP_FIELD_NS_AS_S, /* __u64 nanoseconds printed as seconds (float) */
	LMP_FIELD_ERRNO,   /* __s32 negative errno or >= 0 result: prints name, "" when ok */
	LMP_FIELD_SIGNAL,  /* __u32 signal number: prints its name ("SIGKILL") */
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

/* Runtime services a probe's callbacks may use. */
struct lmp_rt {
	const struct lmp_config *cfg;
	struct lmp_out *out;
	struct lmp_ident *ident;
	struct lmp_metrics *metrics;
	struct lmp_deaths
		*deaths; /* joins exit, signal and OOM records (agent/deaths/deaths.h); NULL: off */
	bool stopping;	 /* the last interval before stop: report, start nothing new */
};

/* One record type of a probe's ring buffer (indexed by hdr.type). */
struct lmp_event_desc {
	const char *name; /* the "event" field */
	size_t size;	  /* minimum record size */
	const struct lmp_field *fields;
	size_t n_fields;
	/* optional: extra output/metrics after the declared fields, before the line ends */
	void (*extra)(struct lmp_probe *p, const void *rec, struct lmp_rt *rt);
	/*
	 * optional: a second cgroup the line names (a signal's target) and its process; the
	 * record is held for that cgroup's labels as for its own (0: none)
	 */
	__u64 (*other_cgroup)(const void *rec, __u32 *pid);
};

struct lmp_probe_desc {
	const char *name;
	const char *summary; /* one line for `lmp probes` and the docs */
	const struct lmp_skel_ops *skel;
	const struct lmp_hook *hooks;
	size_t n_hooks;
	const struct lmp_event_desc *events; /* NULL for probes that only aggregate */
	size_t n_events;
	/*
	 * before load: set rodata, resize maps. May return -ENOTSUP with a reason, or
	 * -LMP_ENOTCONFIGURED when the probe needs an option that was not given.
	 */
	int (*configure)(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);
	/* its `lmp run` options; configure() reads them with lmp_probe_options() */
	struct lmp_option_group options;
	/*
	 * the capabilities it still uses once attached (LMP_CAP(CAP_x), core/caps.h): the
	 * agent keeps the union over the running probes and drops the rest
	 */
	__u64 caps;
	unsigned needs; /* enum lmp_probe_need */
	/* instead of attaching every chosen program (uprobes, perf events) */
	int (*attach)(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);
	/*
	 * optional: each record as it leaves the ring buffer, before the agent may hold it (up
	 * to 1 s) for its new pod's labels; for reads that cannot wait (oomkill's post-mortem)
	 */
	void (*arrived)(struct lmp_probe *p, const void *rec, size_t len, struct lmp_rt *rt);
	/* every --interval: read aggregation maps, print summaries, feed metrics */
	void (*interval)(struct lmp_probe *p, void *skel, struct lmp_rt *rt);
	void (*cleanup)(struct lmp_probe *p); /* free p->priv */
};

enum lmp_probe_state {
	LMP_PROBE_DISABLED,	/* not selected by --probes */
	LMP_PROBE_UNSUPPORTED,	/* no attach alternative works on this kernel */
	LMP_PROBE_FAILED,	/* load or attach failed */
	LMP_PROBE_UNCONFIGURED, /* needs an option (a target) the operator did not give */
	LMP_PROBE_READY,	/* hooks chosen; after lmp_probe_verify(): and loaded once */
	LMP_PROBE_RUNNING,
};

struct lmp_probe {
	const struct lmp_probe_desc *desc;
	const char *name;
	enum lmp_probe_state state;
	char reason[512];   /* why it is not running */
	char attach[256];   /* chosen hooks, "exec=tp_btf,exit=tp_btf" */
	bool *chosen;	    /* per hook */
	bool *failed;	    /* per hook: refused at load or attach, never chosen again */
	char failures[512]; /* "issue=tp_btf: <verifier's error>; ..." for the log and reason */
	lmp_hook_check_fn check; /* what lmp_probe_resolve() asked, again on a fallback */
	void *check_ctx;
	void *skel;
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t n_links;
	int events_fd, drops_fd;
	__u64 events;	     /* records received */
	__u64 decode_errors; /* records too short or of an unknown type */
	__u64 filtered;	     /* events of namespaces excluded by the operator */
	__u64 lost;	     /* reservations that failed, read from the drops map */
	__u64 map_full;	     /* aggregation updates that failed */
	__u64 lost_logged, map_full_logged, decode_errors_logged; /* what the logs said so far */
	void *priv;						  /* the probe's own state */
};

/* The registry: every probe of the product list, built or not (agent/probes/probes.c). */
struct lmp_registry_entry {
	const char *name;
	const struct lmp_probe_desc *desc;
};
extern const struct lmp_registry_entry lmp_registry[];
extern const size_t lmp_registry_len;

/*
 * Pick one alternative per group: the first whose check passes and that is not marked in
 * failed (may be NULL: alternatives that already failed to load here). chosen[i] is set for
 * the winners. Returns 0, or -ENOTSUP when a group has no working alternative; why then
 * says, per alternative of that group, what the kernel lacks.
 */
int lmp_hooks_choose(const struct lmp_hook *hooks, size_t n, lmp_hook_check_fn check, void *ctx,
		     const bool *failed, bool *chosen, char *why, size_t whylen);

/*
 * The line of a verifier log that says why the program was refused: the last line that is
 * not a trace of the instructions, register states, source or statistics (the verifier
 * stops at its first error, so that is the error). Writes "" when there is none.
 */
void lmp_verifier_error(const char *log, char *out, size_t len);

void lmp_probe_init(struct lmp_probe *p, const struct lmp_registry_entry *e);
/* the probe's options block (its desc's options), from the parsed configuration */
const void *lmp_probe_options(const struct lmp_probe *p, const struct lmp_config *cfg);
/* the union over the running probes among ps[0..n) of their caps and of their needs */
void lmp_probes_wants(const struct lmp_probe *ps, size_t n, __u64 *caps, unsigned *needs);
/*
 * Least privilege once the probes are attached (agent/probe/runtime_caps.c): keep the
 * capabilities the running probes still use (lmp_probes_wants()), drop the rest unless
 * --drop-caps=false, and log once what was kept and why. Returns 0, or -errno when the
 * kernel refused (the agent runs on with what it has).
 */
int lmp_probes_drop_caps(const struct lmp_config *cfg, const struct lmp_probe *ps, size_t n);
/* choose hooks on this kernel (state READY or UNSUPPORTED) */
int lmp_probe_resolve(struct lmp_probe *p, lmp_hook_check_fn check, void *ctx);
/* names the probe whose programs serve group for this one, or NULL: they are its own */
typedef const char *(*lmp_served_by_fn)(const char *group, void *ctx);
/*
 * Write p->attach from the chosen hooks, "start=tp_btf,issue=tp_btf"; a group that
 * served_by (may be NULL) names another probe for reads "start=shared:<probe>".
 */
void lmp_probe_describe(struct lmp_probe *p, lmp_served_by_fn served_by, void *ctx);
/* Set a `const volatile __u32` global of the object's .rodata by name, before load. */
struct bpf_object;
int lmp_probe_set_rodata_u32(struct bpf_object *obj, const char *var, __u32 val);
/* p->links sized for every program of p->obj (a descriptor's own attach fills it); 0 or -ENOMEM */
int lmp_probe_links_alloc(struct lmp_probe *p);
/*
 * open, configure, load, attach: state RUNNING, or -errno with p->reason. An alternative
 * the kernel refuses at load or attach is logged and the next one of its group is tried;
 * the probe fails when a group has none left (p->reason names each failure).
 */
int lmp_probe_start(struct lmp_probe *p, const struct lmp_config *cfg);
/*
 * The same without attaching, then unloaded again (`lmp probes`): state stays READY with
 * p->attach naming the alternatives that loaded, or becomes FAILED / UNCONFIGURED.
 */
int lmp_probe_verify(struct lmp_probe *p, const struct lmp_config *cfg);
/* decode one ring-buffer record and print it */
int lmp_probe_handle(struct lmp_probe *p, const void *data, size_t len, struct lmp_rt *rt);
/* read the drops map: updates p->lost and p->map_full */
void lmp_probe_read_drops(struct lmp_probe *p);
void lmp_probe_stop(struct lmp_probe *p);

const char *lmp_probe_state_name(enum lmp_probe_state s);

/*
 * Start a summary line of an aggregating probe (one per cgroup or process per interval):
 * the common fields with ts = now; pid/comm may be 0/NULL for per-cgroup rows. Continue with
 * lmp_out_* calls and finish with lmp_out_end(rt->out).
 */
void lmp_probe_summary_begin(struct lmp_probe *p, struct lmp_rt *rt, const char *event,
			     __u64 cgroup_id, __u32 pid, const char *comm);

/* helpers for descriptors */
const char *lmp_signal_name(int sig); /* "SIGKILL", or NULL */
const char *lmp_errno_name(int err);  /* "ECONNREFUSED" for 111, or NULL */

#endif /* LMP_PROBE_H */

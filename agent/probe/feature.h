/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the running kernel can attach: detected once, cached, and explained. Each answer
 * says why not, so `lmp probes` can tell the operator exactly what the kernel lacks.
 */
#ifndef LMP_FEATURE_H
#define LMP_FEATURE_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

enum lmp_hook_kind {
	LMP_HOOK_FENTRY,
	LMP_HOOK_FEXIT,
	LMP_HOOK_TP_BTF,
	LMP_HOOK_RAW_TP,
	LMP_HOOK_TRACEPOINT, /* target "category/name" */
	LMP_HOOK_KPROBE,
	LMP_HOOK_KRETPROBE,
	LMP_HOOK_UPROBE,  /* target: a binary path, or NULL for "any" */
	LMP_HOOK_PERF_SW, /* software perf event (cpu-clock) */
	LMP_HOOK_PERF_HW, /* hardware counter; target "llc" for cache references/misses */
	_LMP_HOOK_KIND_MAX,
};

const char *lmp_hook_kind_name(enum lmp_hook_kind kind);

/* One attach alternative. Alternatives of one group are contiguous, best first. */
struct lmp_hook {
	const char *group; /* what the hook observes: "exec", "exit", "connect", ... */
	enum lmp_hook_kind kind;
	const char *prog;   /* BPF program name in the object */
	const char *target; /* function, tracepoint ("cat/name") or event for the check */
	/*
	 * tp_btf/raw_tp: the tracepoint arguments the program was written for, 0 for any. A
	 * tracepoint whose arguments changed between releases (block_rq_issue lost its queue
	 * in 5.11) gets one program per layout, and the kernel's BTF picks the one that fits.
	 */
	unsigned args;
};

/*
 * A source of answers for "can this hook attach here?". The real one probes the kernel;
 * tests pass a fake table. Returns true, or false with a static or cached reason in *why.
 */
typedef bool (*lmp_hook_check_fn)(void *ctx, const struct lmp_hook *h, const char **why);

/* Detect kernel features once: BTF (vmlinux or btf_path), tracefs (mounting it if missing). */
int lmp_feature_init(const char *btf_path);
void lmp_feature_fini(void);
/*
 * The parsed kernel BTF (vmlinux or btf_path), or NULL when there is none. Shared so that
 * probes do not parse the 5+ MB file again; loaded again on demand after a release.
 */
const struct btf *lmp_feature_btf(void);
/* Drop the parsed kernel BTF (several MB of RSS) once the probes are loaded. */
void lmp_feature_release_btf(void);
/* can a hook of this kind attach to target here (cached)? */
bool lmp_feature_hook(void *ctx, enum lmp_hook_kind kind, const char *target, const char **why);
/*
 * The arguments of tracepoint tp as its btf_trace_<tp> typedef declares them (without the
 * probe's __data): the count, or -errno (-ENOENT: not in BTF, -ENODATA: no kernel BTF).
 */
int lmp_feature_tp_nargs(const char *tp);
/* the real kernel check, an lmp_hook_check_fn (ctx unused): kind, target and arguments */
bool lmp_feature_check(void *ctx, const struct lmp_hook *h, const char **why);
/* tracefs mount point in use, or NULL */
const char *lmp_feature_tracefs(void);

#endif /* LMP_FEATURE_H */

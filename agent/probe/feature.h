/* SPDX-License-Identifier: Apache-2.0 */
/* What the kernel can attach, cached; every no says why, for `lmp probes`. */
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
	LMP_HOOK_UPROBE, /* target NULL: any */
	LMP_HOOK_PERF_SW,
	LMP_HOOK_PERF_HW,
	_LMP_HOOK_KIND_MAX,
};

const char *lmp_hook_kind_name(enum lmp_hook_kind kind);

/* alternatives of one group are contiguous, best first */
struct lmp_hook {
	const char *group; /* "exec", "exit", ... */
	enum lmp_hook_kind kind;
	const char *prog;
	const char *target;
	/*
	 * tp_btf/raw_tp: the argument count the program was written for, 0: any. Lets the
	 * kernel's BTF pick one program per layout of a tracepoint that changed.
	 */
	unsigned args;
	/*
	 * Probes (a comma list) that run a cheaper shared alternative of this row: while one of
	 * them is selected, the row is passed over for the rest of its group, and taken only
	 * when nothing later in the group works (lmp_hooks_choose).
	 */
	const char *defer_for;
};

/* the reason a check gives for a row that works but is deferred (lmp_hook.defer_for) */
extern const char lmp_hook_deferred[];

/* false with a static or cached reason in *why; tests pass a fake */
typedef bool (*lmp_hook_check_fn)(void *ctx, const struct lmp_hook *h, const char **why);

/* mounts tracefs if missing */
int lmp_feature_init(const char *btf_path);
void lmp_feature_fini(void);
/* or NULL; shared so probes do not parse it again; reloaded after a release */
const struct btf *lmp_feature_btf(void);
/* once the probes are loaded */
void lmp_feature_release_btf(void);
bool lmp_feature_hook(void *ctx, enum lmp_hook_kind kind, const char *target, const char **why);
/* from btf_trace_<tp>; -ENOENT: not in BTF, -ENODATA: no kernel BTF */
int lmp_feature_tp_nargs(const char *tp);
/* the real lmp_hook_check_fn (ctx unused) */
bool lmp_feature_check(void *ctx, const struct lmp_hook *h, const char **why);
/* or NULL */
const char *lmp_feature_tracefs(void);

#endif /* LMP_FEATURE_H */

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
	LMP_HOOK_UPROBE,   /* target: a binary path, or NULL for "any" */
	LMP_HOOK_PERF_SW,  /* software perf event (cpu-clock) */
	LMP_HOOK_PERF_HW,  /* hardware counter; target "llc" for cache references/misses */
	_LMP_HOOK_KIND_MAX,
};

const char *lmp_hook_kind_name(enum lmp_hook_kind kind);

/*
 * A source of answers for "can this hook attach here?". The real one probes the kernel;
 * tests pass a fake table. Returns true, or false with a static or cached reason in *why.
 */
typedef bool (*lmp_hook_check_fn)(void *ctx, enum lmp_hook_kind kind, const char *target,
				  const char **why);

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
/* the real kernel check, an lmp_hook_check_fn (ctx unused) */
bool lmp_feature_hook(void *ctx, enum lmp_hook_kind kind, const char *target, const char **why);
/* tracefs mount point in use, or NULL */
const char *lmp_feature_tracefs(void);

#endif /* LMP_FEATURE_H */

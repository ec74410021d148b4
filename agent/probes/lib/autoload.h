/* SPDX-License-Identifier: Apache-2.0 */
/* Which of a probe's BPF programs load, beyond the hooks its table chose. */
#ifndef LMP_AUTOLOAD_H
#define LMP_AUTOLOAD_H

#include <stdbool.h>
#include <stddef.h>

struct lmp_probe;
struct bpf_object;

/* Load the program named prog or not; -ENOENT with p->reason when obj has no such program. */
int lmp_prog_autoload(struct lmp_probe *p, struct bpf_object *obj, const char *prog, bool on);

/*
 * Syscall probes follow several system calls but list one of them in their hooks table
 * (a group must have an alternative on every kernel, and e.g. open(2) does not exist on
 * arm64). The others ride along: each such program loads only when its group chose the
 * tracepoint kind and its own tracepoint exists here; with a raw sys_enter/sys_exit
 * fallback chosen instead, that one program covers every call. Call from .configure.
 */
struct lmp_extra_tp {
	const char *prog;	/* BPF program name */
	const char *tracepoint; /* "syscalls/sys_enter_openat2" */
};
void lmp_extra_tracepoints(struct lmp_probe *p, const char *group, const struct lmp_extra_tp *x,
			   size_t n);

#endif /* LMP_AUTOLOAD_H */

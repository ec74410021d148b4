/* SPDX-License-Identifier: Apache-2.0 */
/* Which of a probe's BPF programs load, beyond the hooks its table chose. */
#ifndef LMP_AUTOLOAD_H
#define LMP_AUTOLOAD_H

#include <stdbool.h>
#include <stddef.h>

struct lmp_probe;
struct bpf_object;

/* -ENOENT with p->reason when there is no such program */
int lmp_prog_autoload(struct lmp_probe *p, struct bpf_object *obj, const char *prog, bool on);

/*
 * A hooks group lists one syscall, since a group needs an alternative on every kernel;
 * the other calls' programs load when the group chose tracepoints and theirs exist here.
 * From configure().
 */
struct lmp_extra_tp {
	const char *prog;
	const char *tracepoint; /* "syscalls/sys_enter_openat2" */
};
void lmp_extra_tracepoints(struct lmp_probe *p, const char *group, const struct lmp_extra_tp *x,
			   size_t n);

#endif /* LMP_AUTOLOAD_H */

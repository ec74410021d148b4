/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall dispatcher the syscall-family probes share (bpf/lmp_syscall.bpf.h has the
 * design; agent/probes/lib/sysdisp.c). Each family probe calls lmp_sys_join() from configure(),
 * names lmp_sys_attach() as its descriptor's attach and calls lmp_sys_leave() from cleanup().
 */
#ifndef LMP_PROBES_SYSDISP_H
#define LMP_PROBES_SYSDISP_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/sysdisp.h"
#include "probe/probe.h"

struct lmp_config;

/* the syscall probe's options; the dispatcher sizes its per-process maps from max_keys */
struct lmp_syscall_options {
	bool latency;	   /* also hook sys_exit (errors, latency) */
	unsigned max_keys; /* (cgroup, pid, syscall) keys per interval */
};

/* what a probe needs from the dispatcher */
struct lmp_sys_want {
	bool enter, exit;	    /* the dispatcher's program on that side */
	struct lmp_sys_users users; /* its share of the per-syscall work (0/1 each) */
	const int *nrs;		    /* syscalls routed to its tail programs (negative: skipped) */
	size_t n_nrs;
};

/*
 * Before load. The object reuses the agent's one set of dispatcher maps (created when the
 * first family probe joins, sized from cfg; on kernels without task storage for tracing
 * programs, found by a feature probe, its task-local maps become LRU hashes by thread id,
 * which also covers the probe's own task-local map named task_local when not NULL).
 * When one of the probe's chosen hooks is a dispatcher program or one of its tails (the
 * others, its own tracepoints or fexit, need nothing here), it keeps each side's dispatcher
 * program only when no probe that joined before has it, and its tails; p->attach then
 * names the probe whose program serves a side ("exit=shared:syscount"). Returns 0 or -errno
 * with p->reason.
 */
int lmp_sys_join(struct lmp_probe *p, struct bpf_object *obj, const struct lmp_config *cfg,
		 const struct lmp_sys_want *want, const char *task_local);

/* The descriptor's attach: attaches the loaded programs but the tails, installs the tails,
 * routes want->nrs to them and counts want->users in. */
int lmp_sys_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);

/* Undo lmp_sys_join() and lmp_sys_attach(); the maps go with the last probe. */
void lmp_sys_leave(struct lmp_probe *p);

#endif /* LMP_PROBES_SYSDISP_H */

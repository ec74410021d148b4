/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall dispatcher the syscall-family probes share (design: bpf/lmp_syscall.bpf.h,
 * docs/probes/syscall.md). A probe calls lmp_sys_join() from configure(), names
 * lmp_sys_attach() as its attach and calls lmp_sys_leave() from cleanup().
 */
#ifndef LMP_PROBES_SYSDISP_H
#define LMP_PROBES_SYSDISP_H

#include <stdbool.h>
#include <stddef.h>

#include "lmp/sysdisp.h"
#include "probe/probe.h"

struct lmp_config;

/* the syscall probe's; the dispatcher's maps are sized from max_keys */
struct lmp_syscall_options {
	bool latency;
	unsigned max_keys; /* per interval */
};

struct lmp_sys_want {
	bool enter, exit;
	struct lmp_sys_users users; /* 0/1 each */
	const int *nrs;		    /* routed to its tails; negative: skipped */
	size_t n_nrs;
};

/*
 * Before load: the object reuses the agent's one set of dispatcher maps and keeps a side's
 * dispatcher program only when no earlier probe has it. Without task storage for tracing
 * programs, task-local maps (and task_local, when not NULL) become LRU hashes by thread
 * id. 0 or -errno with p->reason.
 */
int lmp_sys_join(struct lmp_probe *p, struct bpf_object *obj, const struct lmp_config *cfg,
		 const struct lmp_sys_want *want, const char *task_local);

/* attaches all but the tails, installs the tails and routes want->nrs to them */
int lmp_sys_attach(struct lmp_probe *p, void *skel, const struct lmp_config *cfg);

/* the maps go with the last probe */
void lmp_sys_leave(struct lmp_probe *p);

#endif /* LMP_PROBES_SYSDISP_H */

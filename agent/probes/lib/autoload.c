// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "probe/feature.h"
#include "probe/probe.h"
#include "probes/lib/autoload.h"

void lmp_extra_tracepoints(struct lmp_probe *p, const char *group, const struct lmp_extra_tp *x,
			   size_t n)
{
	const struct lmp_probe_desc *d = p->desc;
	bool tracepoint = false;

	for (size_t i = 0; i < d->n_hooks; i++)
		if (p->chosen[i] && strcmp(d->hooks[i].group, group) == 0)
			tracepoint = d->hooks[i].kind == LMP_HOOK_TRACEPOINT;
	for (size_t i = 0; i < n; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(p->obj, x[i].prog);
		const char *why = "";

		if (prog)
			bpf_program__set_autoload(
				prog, tracepoint && lmp_feature_hook(NULL, LMP_HOOK_TRACEPOINT,
								     x[i].tracepoint, &why));
	}
}

int lmp_prog_autoload(struct lmp_probe *p, struct bpf_object *obj, const char *prog, bool on)
{
	struct bpf_program *bp = bpf_object__find_program_by_name(obj, prog);

	if (!bp) {
		snprintf(p->reason, sizeof(p->reason), "no BPF program %s", prog);
		return -ENOENT;
	}
	bpf_program__set_autoload(bp, on);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Which capabilities the agent keeps once its probes are attached (probe.h,
 * lmp_probes_drop_caps). Loading and attaching needs CAP_BPF and CAP_PERFMON (and, on some
 * set-ups, more); afterwards the programs, maps and ring buffers are file descriptors the
 * agent holds. What remains is what each running probe declares in its descriptor (.caps),
 * plus CAP_BPF where this kernel wants it for every bpf() call.
 *
 * CAP_BPF is measured rather than assumed: before the permitted set is reduced, the
 * effective set is lowered and one map lookup is tried on a running probe's map. Older
 * kernels with kernel.unprivileged_bpf_disabled set refuse every bpf() command without
 * CAP_BPF, reads through a held map fd included; there the lookup fails with EPERM and
 * CAP_BPF is kept. Newer kernels check privileges when a map is created or a program
 * loaded, not when a held fd is used, and CAP_BPF goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/caps.h"
#include "core/config.h"
#include "base/log.h"
#include "probe/probe.h"
#include "sym/ksyms.h"

/* does a map lookup through a held fd work with the current effective set? */
static int map_read_works(const struct lmp_probe *ps, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();

	for (size_t i = 0; ps && i < n && ncpu > 0; i++) {
		__u64 *vals;
		__u32 key = 0;
		int r;

		if (ps[i].state != LMP_PROBE_RUNNING || ps[i].drops_fd < 0)
			continue;
		vals = calloc(ncpu, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		r = bpf_map_lookup_elem(ps[i].drops_fd, &key, vals) < 0 ? -errno : 0;
		free(vals);
		return r;
	}
	return -ENOENT; /* nothing to try it on: assume the worst */
}

int lmp_probes_drop_caps(const struct lmp_config *cfg, const struct lmp_probe *ps, size_t n)
{
	__u64 eff, prm, keep, caps;
	unsigned needs;
	char kept_s[256], probe_s[64];
	bool bpf_measured = false;
	int r, bset_left, nnp_err;

	if (!cfg->drop_caps) {
		lmp_log(LMP_LOG_INFO, "capabilities: all kept (--drop-caps=false)");
		return 0;
	}
	r = lmp_caps_get(&eff, &prm, NULL);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_WARN, r, "capabilities: cannot read them, none dropped");
		return r;
	}
	if (!prm) {
		lmp_log(LMP_LOG_INFO, "capabilities: none held, nothing to drop");
		return 0;
	}
	lmp_probes_wants(ps, n, &caps, &needs);
	keep = caps & prm;
	/* kernel stacks: read kallsyms now, while CAP_SYSLOG still shows real addresses */
	if (needs & LMP_NEED_KERNEL_STACKS) {
		const struct lmp_ksyms *ks;

		lmp_ksyms_default(&ks);
	}
	/* measure CAP_BPF: lower the effective set only, so it can still come back */
	if (!(keep & LMP_CAP(CAP_BPF)) && (prm & LMP_CAP(CAP_BPF))) {
		r = lmp_caps_set(keep | (eff & LMP_CAP(CAP_SETPCAP)), prm, 0);
		if (r == 0) {
			bpf_measured = true;
			if (map_read_works(ps, n) < 0)
				keep |= LMP_CAP(CAP_BPF);
			r = lmp_caps_set(eff, prm, 0); /* back, for the bounding-set drop */
		}
		if (r < 0) {
			lmp_log_errno(LMP_LOG_WARN, r,
				      "capabilities: capset refused, none dropped");
			return r;
		}
	}
	r = lmp_caps_drop_to(keep, &bset_left, &nnp_err);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_WARN, r, "capabilities: capset refused, none dropped");
		return r;
	}
	if (nnp_err < 0)
		lmp_log_errno(LMP_LOG_WARN, nnp_err, "capabilities: no_new_privs");
	lmp_caps_format(keep, kept_s, sizeof(kept_s));
	snprintf(probe_s, sizeof(probe_s), "%s",
		 !bpf_measured		 ? "" :
		 keep & LMP_CAP(CAP_BPF) ? "; cap_bpf kept: map reads need it on this kernel" :
					   "; map reads work without cap_bpf");
	lmp_log(LMP_LOG_INFO,
		"capabilities: dropped %d after attach, kept %s (what the running probes use "
		"at run time)%s%s",
		__builtin_popcountll(prm & ~keep), kept_s, probe_s,
		bset_left ? "; bounding set left as it was (clearing it needs cap_setpcap; "
			    "no_new_privs already keeps an exec from regaining anything)" :
			    "");
	return 0;
}

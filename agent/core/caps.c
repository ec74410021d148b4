// SPDX-License-Identifier: Apache-2.0
/*
 * Dropping capabilities once the probes are attached (caps.h). The agent never execs, so the
 * effective and permitted sets are what matters; the bounding set, the ambient set and
 * no_new_privs are cleared as well so that nothing the process might run later (a libc
 * helper, a bug) gets them back.
 *
 * CAP_BPF is measured rather than assumed: before the permitted set is reduced, the
 * effective set is lowered and one map lookup is tried on a running probe's map. Older
 * kernels with kernel.unprivileged_bpf_disabled set (the default of most distributions)
 * refuse every bpf() command without CAP_BPF, reads through a map fd already held
 * included; there the lookup fails with EPERM and CAP_BPF is kept. Newer kernels check
 * privileges when a map is created or a program loaded, not when a held fd is used (6.18
 * here: measured), and CAP_BPF goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/caps.h"
#include "core/config.h"
#include "sym/ksyms.h"
#include "core/log.h"
#include "probe/probe.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#define CAPS_MAX 64

/*
 * What a running probe does after attach that needs a capability. Everything else (ring
 * buffers, per-interval map reads, /proc/<pid>/comm, the kubelet, HTTP) needs none.
 */
static const struct {
	const char *probe;
	__u64 caps;
} runtime_needs[] = {
	/* attaches its allocator uprobes to each new process of the target every interval
	 * (perf_event_open of the uprobe PMU: refused with EACCES without CAP_SYS_ADMIN on
	 * 6.18, measured; the link: bpf()), reads their
	 * /proc/<pid>/maps and binaries through /proc/<pid>/root (ptrace access) */
	{ "memleak", LMP_CAP(CAP_SYS_ADMIN) | LMP_CAP(CAP_PERFMON) | LMP_CAP(CAP_BPF) |
			     LMP_CAP(CAP_SYS_PTRACE) | LMP_CAP(CAP_CHECKPOINT_RESTORE) },
	/* user stacks: /proc/<pid>/maps and /proc/<pid>/root of any process (ptrace access);
	 * /proc/<pid>/map_files for replaced or deleted binaries (checkpoint/restore) */
	{ "profile", LMP_CAP(CAP_SYS_PTRACE) | LMP_CAP(CAP_CHECKPOINT_RESTORE) },
};

/* probes whose stacks name kernel functions: kallsyms is read before CAP_SYSLOG goes */
static const char *const kernel_stack_probes[] = { "profile", "memleak", "biostacks" };

static const char *const cap_names[] = {
	"chown",
	"dac_override",
	"dac_read_search",
	"fowner",
	"fsetid",
	"kill",
	"setgid",
	"setuid",
	"setpcap",
	"linux_immutable",
	"net_bind_service",
	"net_broadcast",
	"net_admin",
	"net_raw",
	"ipc_lock",
	"ipc_owner",
	"sys_module",
	"sys_rawio",
	"sys_chroot",
	"sys_ptrace",
	"sys_pacct",
	"sys_admin",
	"sys_boot",
	"sys_nice",
	"sys_resource",
	"sys_time",
	"sys_tty_config",
	"mknod",
	"lease",
	"audit_write",
	"audit_control",
	"setfcap",
	"mac_override",
	"mac_admin",
	"syslog",
	"wake_alarm",
	"block_suspend",
	"audit_read",
	"perfmon",
	"bpf",
	"checkpoint_restore",
};

static bool running(const struct lmp_probe *p)
{
	return p->state == LMP_PROBE_RUNNING;
}

__u64 lmp_caps_runtime_need(const struct lmp_probe *ps, size_t n)
{
	__u64 need = 0;

	for (size_t i = 0; ps && i < n; i++) {
		if (!running(&ps[i]))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(runtime_needs); k++)
			if (!strcmp(ps[i].name, runtime_needs[k].probe))
				need |= runtime_needs[k].caps;
	}
	return need;
}

void lmp_caps_format(__u64 mask, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (int c = 0; c < CAPS_MAX; c++) {
		if (!(mask & LMP_CAP(c)))
			continue;
		if ((size_t)c < ARRAY_SIZE(cap_names))
			used += snprintf(buf + used, used < len ? len - used : 0, "%scap_%s",
					 used ? "," : "", cap_names[c]);
		else
			used += snprintf(buf + used, used < len ? len - used : 0, "%scap_%d",
					 used ? "," : "", c);
	}
	if (!mask)
		snprintf(buf, len, "none");
}

int lmp_caps_get(__u64 *eff, __u64 *prm, __u64 *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (eff)
		*eff = d[0].effective | (__u64)d[1].effective << 32;
	if (prm)
		*prm = d[0].permitted | (__u64)d[1].permitted << 32;
	if (inh)
		*inh = d[0].inheritable | (__u64)d[1].inheritable << 32;
	return 0;
}

static int caps_set(__u64 eff, __u64 prm, __u64 inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (__u32)eff, (__u32)prm, (__u32)inh },
		{ (__u32)(eff >> 32), (__u32)(prm >> 32), (__u32)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int lmp_caps_clear_thread(void)
{
	return caps_set(0, 0, 0);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last >= CAPS_MAX)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/* does a map lookup through a held fd work with the current effective set? */
static int map_read_works(const struct lmp_probe *ps, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();

	for (size_t i = 0; ps && i < n && ncpu > 0; i++) {
		__u64 *vals;
		__u32 key = 0;
		int r;

		if (!running(&ps[i]) || ps[i].drops_fd < 0)
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

static bool any_running(const struct lmp_probe *ps, size_t n, const char *const *names,
			size_t n_names)
{
	for (size_t i = 0; ps && i < n; i++)
		for (size_t k = 0; running(&ps[i]) && k < n_names; k++)
			if (!strcmp(ps[i].name, names[k]))
				return true;
	return false;
}

int lmp_caps_drop_after_attach(const struct lmp_config *cfg, const struct lmp_probe *ps, size_t n)
{
	__u64 eff, prm, keep, dropped;
	char kept_s[256], probe_s[64];
	bool bpf_measured = false;
	int r, bset_fail = 0;

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
	keep = lmp_caps_runtime_need(ps, n) & prm;
	/* kernel stacks: read kallsyms now, while CAP_SYSLOG still shows real addresses */
	if (any_running(ps, n, kernel_stack_probes, ARRAY_SIZE(kernel_stack_probes))) {
		const struct lmp_ksyms *ks;

		lmp_ksyms_default(&ks);
	}
	/* measure CAP_BPF: lower the effective set only, so it can still come back */
	if (!(keep & LMP_CAP(CAP_BPF)) && (prm & LMP_CAP(CAP_BPF))) {
		r = caps_set(keep | (eff & LMP_CAP(CAP_SETPCAP)), prm, 0);
		if (r == 0) {
			bpf_measured = true;
			if (map_read_works(ps, n) < 0)
				keep |= LMP_CAP(CAP_BPF);
			r = caps_set(eff, prm, 0); /* back, for the bounding-set drop below */
		}
		if (r < 0) {
			lmp_log_errno(LMP_LOG_WARN, r,
				      "capabilities: capset refused, none dropped");
			return r;
		}
	}
	/* the bounding set first: dropping from it needs CAP_SETPCAP, which goes next */
	for (int c = 0; c <= last_cap(); c++)
		if (!(keep & LMP_CAP(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			bset_fail++;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	r = caps_set(keep, keep, 0);
	if (r < 0) {
		lmp_log_errno(LMP_LOG_WARN, r, "capabilities: capset refused, none dropped");
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		lmp_log_errno(LMP_LOG_WARN, -errno, "capabilities: no_new_privs");
	dropped = prm & ~keep;
	lmp_caps_format(keep, kept_s, sizeof(kept_s));
	snprintf(probe_s, sizeof(probe_s), "%s",
		 !bpf_measured		 ? "" :
		 keep & LMP_CAP(CAP_BPF) ? "; cap_bpf kept: map reads need it on this kernel" :
					   "; map reads work without cap_bpf");
	lmp_log(LMP_LOG_INFO,
		"capabilities: dropped %d after attach, kept %s (what the running probes use "
		"at run time)%s%s",
		__builtin_popcountll(dropped), kept_s, probe_s,
		bset_fail ? "; bounding set left as it was (clearing it needs cap_setpcap; "
			    "no_new_privs already keeps an exec from regaining anything)" :
			    "");
	return 0;
}

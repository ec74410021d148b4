// SPDX-License-Identifier: Apache-2.0
/*
 * Capability sets (caps.h). The agent never execs, so the effective and permitted sets are
 * what matters; the bounding set, the ambient set and no_new_privs are cleared as well so
 * that nothing the process might run later (a libc helper, a bug) gets them back.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "base/caps.h"

#define CAPS_MAX 64
#define N_NAMES (sizeof(cap_names) / sizeof(cap_names[0]))

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

void lmp_caps_format(__u64 mask, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (int c = 0; c < CAPS_MAX; c++) {
		if (!(mask & LMP_CAP(c)))
			continue;
		if ((size_t)c < N_NAMES)
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

int lmp_caps_set(__u64 eff, __u64 prm, __u64 inh)
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
	return lmp_caps_set(0, 0, 0);
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

int lmp_caps_drop_to(__u64 keep, int *bset_left, int *nnp_err)
{
	int r;

	*bset_left = 0;
	*nnp_err = 0;
	for (int c = 0; c <= last_cap(); c++)
		if (!(keep & LMP_CAP(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			(*bset_left)++;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	r = lmp_caps_set(keep, keep, 0);
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		*nnp_err = -errno;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * mountsnoop: mount(2) and umount2(2), and the new mount API where the kernel has it
 * (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick: 5.2+; mount_setattr: 5.12+):
 * source, target, filesystem type, options, flags, the caller's mount namespace, result.
 *
 * Hooks, best first (agent/probes/mountsnoop.c):
 *   enter: tracepoint syscalls/sys_enter_mount (+ one per other call present; tracefs) >
 *          tail of the syscall dispatcher's tp_btf/sys_enter (5.5+) > its raw_tp/sys_enter
 *          (4.17+), called for the mount calls only (lmp_syscall.bpf.h)
 *   exit:  tracepoint syscalls/sys_exit_mount (+ the others) > tp_btf/sys_exit >
 *          raw_tp/sys_exit
 * Arguments are kept per thread at entry; strings are read from the caller's memory at
 * exit (the kernel has just copied them, so they are resident). Mounts are rare: each call
 * is streamed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lmp/mountsnoop.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

/* fsconfig commands whose value is a string (include/uapi/linux/mount.h) */
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_PATH 3
#define FSCONFIG_SET_PATH_EMPTY 4

/* system call number of each lmp_mount_op, for the raw fallback; -1 = not on this arch */
const volatile __s32 cfg_nr[LMP_MOUNT_OP_MAX] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };

/* the head of the uapi struct mount_attr (fixed ABI, read from user memory): not the kernel's
 * BTF type, which kernels before mount_setattr (5.12) lack, so the dispatcher's tails, which
 * hold every call's decoding in one program, load there too */
struct lmp_mount_attr {
	__u64 attr_set;
	__u64 attr_clr;
};

struct args {
	__u64 str[4]; /* user pointers: source, target, fstype, data (per op, see the header) */
	__u64 flags;
	__u64 attr;
	__u64 attr_clr;
	__u32 op;
	__s32 fd;
	__s32 fd2;
	__u32 cmd;
	__s32 aux;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024); /* threads inside a mount call at the same moment */
	__type(key, __u32);
	__type(value, struct args);
} inflight SEC(".maps");

static __always_inline int stash(struct args *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (lmp_is_self())
		return 0;
	if (bpf_map_update_elem(&inflight, &tid, a, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

/* one entry point for every call: a[] are the six raw syscall arguments */
static __always_inline int handle_enter(__u32 op, const unsigned long *a)
{
	struct args s = { .op = op };

	switch (op) {
	case LMP_MOUNT_OP_MOUNT: /* (dev_name, dir_name, type, flags, data) */
		s.str[0] = a[0];
		s.str[1] = a[1];
		s.str[2] = a[2];
		s.flags = a[3];
		s.str[3] = a[4];
		break;
	case LMP_MOUNT_OP_UMOUNT: /* (name, flags) */
		s.str[1] = a[0];
		s.flags = a[1];
		break;
	case LMP_MOUNT_OP_FSOPEN: /* (fs_name, flags) */
		s.str[2] = a[0];
		s.flags = a[1];
		break;
	case LMP_MOUNT_OP_FSCONFIG: /* (fd, cmd, key, value, aux) */
		s.fd = a[0];
		s.cmd = a[1];
		s.str[0] = a[2];
		if (s.cmd == FSCONFIG_SET_STRING || s.cmd == FSCONFIG_SET_PATH ||
		    s.cmd == FSCONFIG_SET_PATH_EMPTY)
			s.str[3] = a[3];
		s.aux = a[4];
		break;
	case LMP_MOUNT_OP_FSMOUNT: /* (fs_fd, flags, attr_flags) */
		s.fd = a[0];
		s.flags = a[1];
		s.attr = a[2];
		break;
	case LMP_MOUNT_OP_MOVE_MOUNT: /* (from_dfd, from_path, to_dfd, to_path, flags) */
		s.fd = a[0];
		s.str[0] = a[1];
		s.fd2 = a[2];
		s.str[1] = a[3];
		s.flags = a[4];
		break;
	case LMP_MOUNT_OP_OPEN_TREE: /* (dfd, filename, flags) */
	case LMP_MOUNT_OP_FSPICK:    /* (dfd, path, flags) */
		s.fd = a[0];
		s.str[1] = a[1];
		s.flags = a[2];
		break;
	case LMP_MOUNT_OP_MOUNT_SETATTR: { /* (dfd, path, flags, uattr, usize) */
		struct lmp_mount_attr attr = {};

		s.fd = a[0];
		s.str[1] = a[1];
		s.flags = a[2];
		if (a[3] && a[4] >= sizeof(__u64) * 2)
			bpf_probe_read_user(&attr, sizeof(attr), (void *)a[3]);
		s.attr = attr.attr_set;
		s.attr_clr = attr.attr_clr;
		break;
	}
	default:
		return 0;
	}
	return stash(&s);
}

static __always_inline int handle_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct lmp_mountsnoop_event *e;
	struct args *a;

	a = bpf_map_lookup_elem(&inflight, &tid);
	if (!a)
		return 0;
	e = lmp_event_reserve(sizeof(*e), a->op < LMP_MOUNT_OP_MAX ? a->op : 0);
	if (!e)
		goto out;
	task = (struct task_struct *)bpf_get_current_task();
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->flags = a->flags;
	e->attr = a->attr;
	e->attr_clr = a->attr_clr;
	e->ret = ret;
	e->op = a->op;
	e->fd = a->fd;
	e->fd2 = a->fd2;
	e->cmd = a->cmd;
	e->aux = a->aux;
	e->source[0] = e->target[0] = e->fstype[0] = e->data[0] = 0;
	if (a->str[0])
		bpf_probe_read_user_str(e->source, sizeof(e->source), (void *)a->str[0]);
	if (a->str[1])
		bpf_probe_read_user_str(e->target, sizeof(e->target), (void *)a->str[1]);
	if (a->str[2])
		bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), (void *)a->str[2]);
	/* mount(2) data is usually an option string; some filesystems pass binary data */
	if (a->str[3])
		bpf_probe_read_user_str(e->data, sizeof(e->data), (void *)a->str[3]);
	lmp_event_submit(e);
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

#define TP_PAIR(call, op)                                              \
	SEC("tp/syscalls/sys_enter_" #call)                            \
	int tp_sys_enter_##call(struct trace_event_raw_sys_enter *ctx) \
	{                                                              \
		unsigned long a[6];                                    \
		bpf_probe_read_kernel(a, sizeof(a), ctx->args);        \
		return handle_enter(op, a);                            \
	}                                                              \
	LMP_SYS_TP_EXIT(call, handle_exit)

TP_PAIR(mount, LMP_MOUNT_OP_MOUNT)
TP_PAIR(umount, LMP_MOUNT_OP_UMOUNT)
TP_PAIR(fsopen, LMP_MOUNT_OP_FSOPEN)
TP_PAIR(fsconfig, LMP_MOUNT_OP_FSCONFIG)
TP_PAIR(fsmount, LMP_MOUNT_OP_FSMOUNT)
TP_PAIR(move_mount, LMP_MOUNT_OP_MOVE_MOUNT)
TP_PAIR(open_tree, LMP_MOUNT_OP_OPEN_TREE)
TP_PAIR(fspick, LMP_MOUNT_OP_FSPICK)
TP_PAIR(mount_setattr, LMP_MOUNT_OP_MOUNT_SETATTR)

/* the syscall dispatcher's tails (lmp_syscall.bpf.h), routed only the calls above */
static __always_inline int raw_enter(struct pt_regs *regs, long id, bool btf)
{
	unsigned long a[6];
	__u32 op = LMP_MOUNT_OP_MAX;

#pragma unroll
	for (int i = 0; i < LMP_MOUNT_OP_MAX; i++)
		if (cfg_nr[i] == id)
			op = i;
	if (op == LMP_MOUNT_OP_MAX)
		return 0;
	a[0] = SYS_ARG(1, regs, btf);
	a[1] = SYS_ARG(2, regs, btf);
	a[2] = SYS_ARG(3, regs, btf);
	a[3] = SYS_ARG(4, regs, btf);
	a[4] = SYS_ARG(5, regs, btf);
	a[5] = 0;
	return handle_enter(op, a);
}

LMP_SYS_TAILS_ENTER(raw_enter)
LMP_SYS_TAILS_EXIT_RET(handle_exit)

char LICENSE[] SEC("license") = "GPL";

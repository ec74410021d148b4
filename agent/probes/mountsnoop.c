// SPDX-License-Identifier: Apache-2.0
/* mountsnoop: mount, umount and the new mount API calls (bpf/mountsnoop.bpf.c). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "lmp/mountsnoop.h"
#include "mountsnoop.skel.h"
#include "probes/lib/decode_flags.h"
#include "probes/lib/autoload.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"

LMP_DEFINE_SKEL_OPS(mountsnoop);

static const struct lmp_hook mountsnoop_hooks[] = {
	LMP_HOOKS_SYSCALL("mount"),
};

#define EXTRA(call)                                                \
	{                                                          \
		"tp_sys_enter_" #call, "syscalls/sys_enter_" #call \
	}
static const struct lmp_extra_tp enter_extra[] = {
	EXTRA(umount),	   EXTRA(fsopen),    EXTRA(fsconfig), EXTRA(fsmount),
	EXTRA(move_mount), EXTRA(open_tree), EXTRA(fspick),   EXTRA(mount_setattr),
};
#undef EXTRA
#define EXTRA(call)                                              \
	{                                                        \
		"tp_sys_exit_" #call, "syscalls/sys_exit_" #call \
	}
static const struct lmp_extra_tp exit_extra[] = {
	EXTRA(umount),	   EXTRA(fsopen),    EXTRA(fsconfig), EXTRA(fsmount),
	EXTRA(move_mount), EXTRA(open_tree), EXTRA(fspick),   EXTRA(mount_setattr),
};
#undef EXTRA

static const struct lmp_metric_desc mounts_total = {
	"lmp_mounts_total",
	"mount, umount and new-mount-API calls (failed ones included), per "
	"container and call.",
	LMP_METRIC_COUNTER,
	"syscall",
	1,
	true,
};

/* include/uapi/linux/mount.h; the magic number of old callers comes first: it owns the top
 * 16 bits when present, which otherwise hold flags */
static const struct lmp_flag_name ms_flags[] = {
	{ 0xffff0000, 0xc0ed0000, "MS_MGC_VAL" },
	LMP_FLAG(1, "MS_RDONLY"),
	LMP_FLAG(2, "MS_NOSUID"),
	LMP_FLAG(4, "MS_NODEV"),
	LMP_FLAG(8, "MS_NOEXEC"),
	LMP_FLAG(16, "MS_SYNCHRONOUS"),
	LMP_FLAG(32, "MS_REMOUNT"),
	LMP_FLAG(64, "MS_MANDLOCK"),
	LMP_FLAG(128, "MS_DIRSYNC"),
	LMP_FLAG(256, "MS_NOSYMFOLLOW"),
	LMP_FLAG(1024, "MS_NOATIME"),
	LMP_FLAG(2048, "MS_NODIRATIME"),
	LMP_FLAG(4096, "MS_BIND"),
	LMP_FLAG(8192, "MS_MOVE"),
	LMP_FLAG(16384, "MS_REC"),
	LMP_FLAG(32768, "MS_SILENT"),
	LMP_FLAG(1 << 16, "MS_POSIXACL"),
	LMP_FLAG(1 << 17, "MS_UNBINDABLE"),
	LMP_FLAG(1 << 18, "MS_PRIVATE"),
	LMP_FLAG(1 << 19, "MS_SLAVE"),
	LMP_FLAG(1 << 20, "MS_SHARED"),
	LMP_FLAG(1 << 21, "MS_RELATIME"),
	LMP_FLAG(1 << 22, "MS_KERNMOUNT"),
	LMP_FLAG(1 << 23, "MS_I_VERSION"),
	LMP_FLAG(1 << 24, "MS_STRICTATIME"),
	LMP_FLAG(1 << 25, "MS_LAZYTIME"),
};

static const struct lmp_flag_name umount_flags[] = {
	LMP_FLAG(1, "MNT_FORCE"),
	LMP_FLAG(2, "MNT_DETACH"),
	LMP_FLAG(4, "MNT_EXPIRE"),
	LMP_FLAG(8, "UMOUNT_NOFOLLOW"),
};

static const struct lmp_flag_name fsopen_flags[] = { LMP_FLAG(1, "FSOPEN_CLOEXEC") };
static const struct lmp_flag_name fsmount_flags[] = { LMP_FLAG(1, "FSMOUNT_CLOEXEC") };

/* MOUNT_ATTR_RELATIME is 0 in the atime field: not printed */
static const struct lmp_flag_name mount_attrs[] = {
	LMP_FLAG(0x1, "MOUNT_ATTR_RDONLY"),
	LMP_FLAG(0x2, "MOUNT_ATTR_NOSUID"),
	LMP_FLAG(0x4, "MOUNT_ATTR_NODEV"),
	LMP_FLAG(0x8, "MOUNT_ATTR_NOEXEC"),
	{ 0x70, 0x10, "MOUNT_ATTR_NOATIME" },
	{ 0x70, 0x20, "MOUNT_ATTR_STRICTATIME" },
	LMP_FLAG(0x80, "MOUNT_ATTR_NODIRATIME"),
	LMP_FLAG(0x100000, "MOUNT_ATTR_IDMAP"),
	LMP_FLAG(0x200000, "MOUNT_ATTR_NOSYMFOLLOW"),
};

static const struct lmp_flag_name move_mount_flags[] = {
	LMP_FLAG(0x01, "MOVE_MOUNT_F_SYMLINKS"),   LMP_FLAG(0x02, "MOVE_MOUNT_F_AUTOMOUNTS"),
	LMP_FLAG(0x04, "MOVE_MOUNT_F_EMPTY_PATH"), LMP_FLAG(0x10, "MOVE_MOUNT_T_SYMLINKS"),
	LMP_FLAG(0x20, "MOVE_MOUNT_T_AUTOMOUNTS"), LMP_FLAG(0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
	LMP_FLAG(0x100, "MOVE_MOUNT_SET_GROUP"),   LMP_FLAG(0x200, "MOVE_MOUNT_BENEATH"),
};

/* open_tree and mount_setattr take AT_* path flags (+ OPEN_TREE_CLONE/CLOEXEC) */
static const struct lmp_flag_name at_flags[] = {
	LMP_FLAG(1, "OPEN_TREE_CLONE"),
	LMP_FLAG(O_CLOEXEC, "OPEN_TREE_CLOEXEC"),
	LMP_FLAG(AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"),
	LMP_FLAG(AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"),
	LMP_FLAG(AT_EMPTY_PATH, "AT_EMPTY_PATH"),
	LMP_FLAG(0x8000, "AT_RECURSIVE"),
};
static const struct lmp_flag_name setattr_flags[] = {
	LMP_FLAG(AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"),
	LMP_FLAG(AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"),
	LMP_FLAG(AT_EMPTY_PATH, "AT_EMPTY_PATH"),
	LMP_FLAG(0x8000, "AT_RECURSIVE"),
};

static const struct lmp_flag_name fspick_flags[] = {
	LMP_FLAG(1, "FSPICK_CLOEXEC"),
	LMP_FLAG(2, "FSPICK_SYMLINK_NOFOLLOW"),
	LMP_FLAG(4, "FSPICK_NO_AUTOMOUNT"),
	LMP_FLAG(8, "FSPICK_EMPTY_PATH"),
};

static const struct lmp_enum_name fsconfig_cmds[] = {
	{ 0, "FSCONFIG_SET_FLAG" },	   { 1, "FSCONFIG_SET_STRING" },
	{ 2, "FSCONFIG_SET_BINARY" },	   { 3, "FSCONFIG_SET_PATH" },
	{ 4, "FSCONFIG_SET_PATH_EMPTY" },  { 5, "FSCONFIG_SET_FD" },
	{ 6, "FSCONFIG_CMD_CREATE" },	   { 7, "FSCONFIG_CMD_RECONFIGURE" },
	{ 8, "FSCONFIG_CMD_CREATE_EXCL" },
};

static int mountsnoop_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct mountsnoop_bpf *s = skel;
	/* the new mount API has the same numbers on every architecture (asm-generic) */
	static const int nr[LMP_MOUNT_OP_MAX] = {
		[LMP_MOUNT_OP_MOUNT] = SYS_mount,   [LMP_MOUNT_OP_UMOUNT] = SYS_umount2,
		[LMP_MOUNT_OP_FSOPEN] = 430,	    [LMP_MOUNT_OP_FSCONFIG] = 431,
		[LMP_MOUNT_OP_FSMOUNT] = 432,	    [LMP_MOUNT_OP_MOVE_MOUNT] = 429,
		[LMP_MOUNT_OP_OPEN_TREE] = 428,	    [LMP_MOUNT_OP_FSPICK] = 433,
		[LMP_MOUNT_OP_MOUNT_SETATTR] = 442,
	};
	struct lmp_sys_want want = {
		.enter = true, .exit = true, .nrs = nr, .n_nrs = LMP_MOUNT_OP_MAX
	};

	for (int i = 0; i < LMP_MOUNT_OP_MAX; i++)
		s->rodata->cfg_nr[i] = nr[i];
	lmp_extra_tracepoints(p, "enter", enter_extra, ARRAY_SIZE(enter_extra));
	lmp_extra_tracepoints(p, "exit", exit_extra, ARRAY_SIZE(exit_extra));
	/* the dispatcher's maps in any case (they are in the object), its programs and
	 * these calls routed to the tails when the tail programs were chosen */
	return lmp_sys_join(p, s->obj, cfg, &want, NULL);
}

static void out_flags(struct lmp_rt *rt, const char *key, const struct lmp_flag_name *t, size_t n,
		      __u64 v)
{
	char buf[512];

	lmp_flags_format(t, n, v, buf, sizeof(buf));
	lmp_out_str(rt->out, key, buf);
}

#define FLAGS(key, t, v) out_flags(rt, key, t, ARRAY_SIZE(t), v)

static void out_dfd(struct lmp_rt *rt, const char *key, __s32 fd)
{
	if (fd == AT_FDCWD)
		lmp_out_str(rt->out, key, "AT_FDCWD");
	else
		lmp_out_s64(rt->out, key, fd);
}

#define STR(key, member) lmp_out_strn(rt->out, key, e->member, sizeof(e->member))

static const struct lmp_event_desc mountsnoop_events[LMP_MOUNT_OP_MAX];

static void mount_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_mountsnoop_event *e = rec;
	const char *cmd;
	struct lmp_identity id;

	lmp_out_u64(rt->out, "mnt_ns", e->mnt_ns);
	switch (e->op) {
	case LMP_MOUNT_OP_MOUNT:
		STR("source", source);
		STR("target", target);
		STR("fstype", fstype);
		FLAGS("flags", ms_flags, e->flags);
		STR("data", data);
		break;
	case LMP_MOUNT_OP_UMOUNT:
		STR("target", target);
		FLAGS("flags", umount_flags, e->flags);
		break;
	case LMP_MOUNT_OP_FSOPEN:
		STR("fstype", fstype);
		FLAGS("flags", fsopen_flags, e->flags);
		break;
	case LMP_MOUNT_OP_FSCONFIG:
		lmp_out_s64(rt->out, "fs_fd", e->fd);
		cmd = lmp_enum_name(fsconfig_cmds, ARRAY_SIZE(fsconfig_cmds), e->cmd);
		if (cmd)
			lmp_out_str(rt->out, "cmd", cmd);
		else
			lmp_out_u64(rt->out, "cmd", e->cmd);
		if (e->source[0])
			STR("key", source);
		if (e->data[0])
			STR("value", data);
		if (e->cmd == 5 /* SET_FD */ || e->cmd == 3 || e->cmd == 4)
			lmp_out_s64(rt->out, "aux", e->aux);
		break;
	case LMP_MOUNT_OP_FSMOUNT:
		lmp_out_s64(rt->out, "fs_fd", e->fd);
		FLAGS("flags", fsmount_flags, e->flags);
		FLAGS("attr", mount_attrs, e->attr);
		break;
	case LMP_MOUNT_OP_MOVE_MOUNT:
		out_dfd(rt, "from_dfd", e->fd);
		STR("from_path", source);
		out_dfd(rt, "to_dfd", e->fd2);
		STR("to_path", target);
		FLAGS("flags", move_mount_flags, e->flags);
		break;
	case LMP_MOUNT_OP_OPEN_TREE:
		out_dfd(rt, "dfd", e->fd);
		STR("path", target);
		FLAGS("flags", at_flags, e->flags);
		break;
	case LMP_MOUNT_OP_FSPICK:
		out_dfd(rt, "dfd", e->fd);
		STR("path", target);
		FLAGS("flags", fspick_flags, e->flags);
		break;
	case LMP_MOUNT_OP_MOUNT_SETATTR:
		out_dfd(rt, "dfd", e->fd);
		STR("path", target);
		FLAGS("flags", setattr_flags, e->flags);
		FLAGS("attr_set", mount_attrs, e->attr);
		FLAGS("attr_clr", mount_attrs, e->attr_clr);
		break;
	}
	/* the calls that create a file descriptor return it */
	if (e->ret >= 0 && (e->op == LMP_MOUNT_OP_FSOPEN || e->op == LMP_MOUNT_OP_FSMOUNT ||
			    e->op == LMP_MOUNT_OP_OPEN_TREE || e->op == LMP_MOUNT_OP_FSPICK))
		lmp_out_s64(rt->out, "fd", e->ret);
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &mounts_total, &id,
				e->op < LMP_MOUNT_OP_MAX ? mountsnoop_events[e->op].name : "?", 1);
	}
}

static const struct lmp_field mount_fields[] = {
	LMP_FIELD(struct lmp_mountsnoop_event, ret, "result", LMP_FIELD_ERRNO),
};

/* each call is its own event, named after it */
#define EV(op, name) \
	[op] = { name, sizeof(struct lmp_mountsnoop_event), mount_fields, 1, mount_extra }
static const struct lmp_event_desc mountsnoop_events[LMP_MOUNT_OP_MAX] = {
	EV(LMP_MOUNT_OP_MOUNT, "mount"),
	EV(LMP_MOUNT_OP_UMOUNT, "umount"),
	EV(LMP_MOUNT_OP_FSOPEN, "fsopen"),
	EV(LMP_MOUNT_OP_FSCONFIG, "fsconfig"),
	EV(LMP_MOUNT_OP_FSMOUNT, "fsmount"),
	EV(LMP_MOUNT_OP_MOVE_MOUNT, "move_mount"),
	EV(LMP_MOUNT_OP_OPEN_TREE, "open_tree"),
	EV(LMP_MOUNT_OP_FSPICK, "fspick"),
	EV(LMP_MOUNT_OP_MOUNT_SETATTR, "mount_setattr"),
};
#undef EV

const struct lmp_probe_desc lmp_probe_mountsnoop = {
	.name = "mountsnoop",
	.summary = "mount, umount2 and the new mount API: source, target, type, flags, result",
	.skel = &mountsnoop_skel_ops,
	.hooks = mountsnoop_hooks,
	.n_hooks = ARRAY_SIZE(mountsnoop_hooks),
	.events = mountsnoop_events,
	.n_events = ARRAY_SIZE(mountsnoop_events),
	.configure = mountsnoop_configure,
	.attach = lmp_sys_attach,
	.cleanup = lmp_sys_leave,
};

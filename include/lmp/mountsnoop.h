/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_MOUNTSNOOP_H
#define LMP_MOUNTSNOOP_H

#include "lmp/event.h"

/* the system call; also the record type (hdr.type), so each call is its own event */
enum lmp_mount_op {
	LMP_MOUNT_OP_MOUNT = 0,
	LMP_MOUNT_OP_UMOUNT = 1,
	LMP_MOUNT_OP_FSOPEN = 2,
	LMP_MOUNT_OP_FSCONFIG = 3,
	LMP_MOUNT_OP_FSMOUNT = 4,
	LMP_MOUNT_OP_MOVE_MOUNT = 5,
	LMP_MOUNT_OP_OPEN_TREE = 6,
	LMP_MOUNT_OP_FSPICK = 7,
	LMP_MOUNT_OP_MOUNT_SETATTR = 8,
	LMP_MOUNT_OP_MAX = 9,
};

#define LMP_MOUNT_STR 256
#define LMP_MOUNT_FSTYPE 64

/*
 * Which strings mean what depends on op (see docs/probes/mountsnoop.md):
 *   mount:      source, target, fstype, data (options)
 *   umount:     target
 *   fsopen:     fstype
 *   fsconfig:   source = key, data = value (string commands only)
 *   open_tree, fspick, mount_setattr: target = path
 *   move_mount: source = from path, target = to path
 */
struct lmp_mountsnoop_event {
	struct lmp_event_hdr hdr;
	__u64 flags;	/* mount MS_*, umount MNT_*, fsopen/fsmount/move_mount/... flags */
	__u64 attr;	/* fsmount attr_flags, mount_setattr attr_set */
	__u64 attr_clr; /* mount_setattr attr_clr */
	__u64 mnt_ns;	/* inode number of the caller's mount namespace */
	__s32 ret;	/* 0, a new fd, or -errno */
	__u32 op;	/* enum lmp_mount_op */
	__s32 fd;	/* fsconfig/fsmount fs fd, move_mount from_dfd, open_tree dfd */
	__s32 fd2;	/* move_mount to_dfd */
	__u32 cmd;	/* fsconfig cmd */
	__s32 aux;	/* fsconfig aux */
	char source[LMP_MOUNT_STR];
	char target[LMP_MOUNT_STR];
	char fstype[LMP_MOUNT_FSTYPE];
	char data[LMP_MOUNT_STR];
};

#endif /* LMP_MOUNTSNOOP_H */

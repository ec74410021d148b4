/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * file probe: read/write operations and bytes per process and file, aggregated in the
 * kernel (bpf/file.bpf.c) and drained by the agent every interval.
 */
#ifndef LMP_FILE_H
#define LMP_FILE_H

#include "lmp/event.h"

enum lmp_file_type {
	LMP_FILE_REGULAR = 0,
	LMP_FILE_SOCKET = 1,
	LMP_FILE_PIPE = 2,
	LMP_FILE_OTHER = 3, /* character devices, ttys, anonymous inodes, directories... */
};

#define LMP_FILE_NAME_LEN 128 /* dentry name, cut beyond (the kernel allows 255) */
#define LMP_FILE_DIR_LEN 64   /* parent directory's dentry name */

struct lmp_file_key {
	__u64 cgroup_id; /* cgroup v2 id of the task doing the I/O */
	__u64 ino;	 /* inode number */
	__u32 dev;	 /* superblock s_dev, kernel encoding: major << 20 | minor */
	__u32 pid;	 /* tgid */
};

/* per-CPU value: all __u64, summed over CPUs by the agent */
struct lmp_file_val {
	__u64 reads;  /* read calls that returned >= 0 */
	__u64 writes; /* write calls that returned >= 0 */
	__u64 read_bytes;
	__u64 write_bytes;
};

/* names for a key, written by the BPF side the first time a key is seen in an interval */
struct lmp_file_info {
	char comm[LMP_COMM_LEN]; /* thread-group leader's name */
	char name[LMP_FILE_NAME_LEN];
	char dir[LMP_FILE_DIR_LEN];
	__u32 type; /* enum lmp_file_type */
	__u32 mode; /* i_mode */
};

#endif /* LMP_FILE_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_PROCESS_H
#define LMP_PROCESS_H

#include "lmp/event.h"

enum lmp_process_type {
	LMP_PROCESS_EXEC = 0,
	LMP_PROCESS_EXIT = 1,
};

#define LMP_ARGV_BYTES 512 /* NUL-separated argv as in /proc/<pid>/cmdline; power of two */

struct lmp_process_exec {
	struct lmp_event_hdr hdr;
	__u32 ppid;
	__u32 args_size; /* bytes used in args */
	__u32 truncated; /* 1 when argv did not fit */
	char filename[LMP_PATH_LEN];
	char args[LMP_ARGV_BYTES];
};

struct lmp_process_exit {
	struct lmp_event_hdr hdr;
	__u32 ppid;
	__s32 exit_code; /* WEXITSTATUS when no signal */
	__u32 signal;	 /* terminating signal, 0 if none */
	__u32 core_dumped;
	__u64 lifetime_ns;
	__u32 ns_pid;	/* its pid in its own PID namespace: 1 for a container's main process */
	__u32 ns_level; /* depth of that namespace: 0 is the host's */
};

#endif /* LMP_PROCESS_H */

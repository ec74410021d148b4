/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_OPENSNOOP_H
#define LMP_OPENSNOOP_H

#include "lmp/event.h"

enum lmp_opensnoop_type {
	LMP_OPENSNOOP_OPEN = 0,
};

enum lmp_open_call {
	LMP_OPEN_OPEN = 0,
	LMP_OPEN_OPENAT = 1,
	LMP_OPEN_OPENAT2 = 2,
};

struct lmp_opensnoop_event {
	struct lmp_event_hdr hdr;
	__u64 flags;   /* O_* flags as passed (open_how.flags for openat2) */
	__u64 resolve; /* openat2 RESOLVE_* flags */
	__u32 mode;    /* creation mode, meaningful with O_CREAT / O_TMPFILE */
	__s32 dfd;     /* directory fd for openat/openat2 (AT_FDCWD = -100) */
	__s32 ret;     /* the new fd, or -errno */
	__u32 call;    /* enum lmp_open_call */
	char path[LMP_PATH_LEN];
};

/* per-cgroup counters the agent turns into lmp_opens_total / lmp_open_failures_total */
struct lmp_opensnoop_count {
	__u64 opens;
	__u64 failures;
};

#endif /* LMP_OPENSNOOP_H */

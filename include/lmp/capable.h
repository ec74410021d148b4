/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_CAPABLE_H
#define LMP_CAPABLE_H

#include "lmp/event.h"

enum lmp_capable_type {
	LMP_CAPABLE_CHECK = 0,
};

enum lmp_cap_audit {
	LMP_CAP_NOAUDIT = 0,	   /* a probe (ns_capable_noaudit...): a denial is not logged */
	LMP_CAP_AUDIT = 1,	   /* an ordinary check: a denial is a real failure */
	LMP_CAP_AUDIT_UNKNOWN = 2, /* the hook cannot tell */
};

/* which checks are streamed (cfg_stream); all of them are counted in the checks map */
enum lmp_cap_stream {
	LMP_CAP_STREAM_AUDITED = 0, /* denials of audited (or unknown) checks */
	LMP_CAP_STREAM_DENIED = 1,  /* every denial */
	LMP_CAP_STREAM_ALL = 2,	    /* every check */
};

struct lmp_capable_event {
	struct lmp_event_hdr hdr;
	__s32 cap;
	__s32 ret;	    /* 0 granted, -EPERM denied */
	__u32 audit;	    /* enum lmp_cap_audit */
	__u32 insetid;	    /* CAP_OPT_INSETID (set-id bits kept), where the hook can tell */
	__u32 userns_inum;  /* inode of the user namespace the capability was checked in */
	__u32 userns_level; /* 0 = initial user namespace */
};

/* aggregation: every check, per cgroup and capability */
struct lmp_capable_key {
	__u64 cgroup_id;
	__u32 cap;
	__u32 _pad;
};

struct lmp_capable_count {
	__u64 granted;
	__u64 denied;	      /* audited or unknown */
	__u64 denied_noaudit; /* probes that failed: not failures of the workload */
};

#endif /* LMP_CAPABLE_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_OOMKILL_H
#define LMP_OOMKILL_H

#include "lmp/event.h"

enum lmp_oomkill_type {
	LMP_OOMKILL_KILL = 0,
};

/* Why the kernel ran the OOM killer. */
enum lmp_oom_scope {
	LMP_OOM_SCOPE_UNKNOWN = 0, /* no stack match possible (kallsyms hidden) */
	LMP_OOM_SCOPE_GLOBAL = 1,  /* the whole machine (or a cpuset/mempolicy) ran out */
	LMP_OOM_SCOPE_MEMCG = 2,   /* a memory cgroup hit its limit */
};

/* Where the victim task came from, which decides how much of the record is filled. */
enum lmp_oom_source {
	LMP_OOM_SRC_TASK = 0,	/* the hook handed us the victim's task_struct */
	LMP_OOM_SRC_SIGNAL = 1, /* found through the SIGKILL the OOM killer sent just before */
	LMP_OOM_SRC_PID = 2,	/* only the victim's pid is known: most fields are empty */
};

/*
 * One OOM kill. hdr describes the victim (pid, tid, comm, uid, its cgroup v2 id), not the
 * task that happened to be allocating when memory ran out; that one is trigger_*.
 */
struct lmp_oomkill_event {
	struct lmp_event_hdr hdr;
	__u64 total_vm_bytes;
	__u64 anon_rss_bytes;
	__u64 file_rss_bytes;
	__u64 shmem_rss_bytes;
	__u64 swap_bytes;
	__u64 pgtables_bytes;
	__u64 memcg_limit_bytes; /* ~0 when no memory cgroup on the way up has a limit */
	__u64 memcg_usage_bytes;
	__u64 memcg_id;		 /* kernfs id of the memcg whose limit is reported */
	__u64 victim_memcg_id;	 /* kernfs id of the victim's own memcg */
	__u64 trigger_cgroup_id; /* cgroup v2 id of the task that invoked the OOM killer */
	__u32 trigger_pid;
	__u32 trigger_tid;
	char trigger_comm[LMP_COMM_LEN];
	__s32 oom_score_adj;
	__u32 scope;	   /* enum lmp_oom_scope */
	__u32 source;	   /* enum lmp_oom_source */
	__u32 memcg_v2;	   /* 1: the memcg is in the v2 hierarchy, 0: a v1 memory controller */
	__u32 memcg_up;	   /* levels above the victim's memcg where the limit was found */
	__u32 memcg_found; /* 0: the victim had no memory cgroup we could read */
};

#endif /* LMP_OOMKILL_H */

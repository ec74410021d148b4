/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by memleak.c, memleak_targets.c (uprobes) and memleak_report.c. */
#ifndef LMP_MEMLEAK_INT_H
#define LMP_MEMLEAK_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <bpf/libbpf.h>

#include "lmp/memleak.h"
#include "memleak.skel.h"
#include "probes/lib/map_rows.h"

struct lmp_probe;
struct lmp_rt;
struct lmp_stacks;

#define N_FUNCS 9
#define MAX_TARGETS 256
#define MAX_BINARIES 16

enum prog_id {
	P_SIZE1,
	P_SIZE2,
	P_CALLOC,
	P_REALLOC,
	P_FREE,
	P_MEMALIGN,
	P_RET,
	P_RET_MEMALIGN,
	N_PROGS
};

struct memleak_func {
	const char *name;
	enum prog_id entry;
	int ret; /* -1: no return probe */
};
extern const struct memleak_func memleak_funcs[N_FUNCS];

struct binary {
	dev_t dev;
	ino_t ino;
	__u64 off[N_FUNCS]; /* 0: absent, or an alias of an earlier one */
	int found;
};

struct target {
	__u32 pid;
	bool seen;
	struct bpf_link *links[2 * N_FUNCS]; /* perf-event uprobes */
	size_t n;
	int fds[N_PROGS]; /* uprobe_multi links */
	size_t n_fds;
};

struct memleak_row {
	struct lmp_memleak_key k;
	struct lmp_memleak_alloc v;
};

struct agg {
	__u64 cgroup_id;
	__u32 allocator, pid;
	__s32 stack_id;
	__u64 bytes, count, oldest_ns;
};

struct memleak_priv {
	__u32 pid;
	bool multi; /* uprobe_multi links (6.6+) */
	int cg_fd;
	char cg_path[PATH_MAX];
	struct target targets[MAX_TARGETS];
	size_t n_targets;
	__u64 targets_dropped;
	struct binary bins[MAX_BINARIES];
	size_t n_bins;
	struct lmp_stacks *stacks;
	struct lmp_map_rows rows; /* struct memleak_row */
	struct agg *aggs;
	size_t n_aggs, cap_aggs;
	__u64 *gauge_cgroups; /* with gauge_allocs: set last interval */
	__u32 *gauge_allocs;
	size_t n_gauges;
};

static inline struct bpf_program *prog_of(struct memleak_bpf *s, int id)
{
	switch (id) {
	case P_SIZE1:
		return s->progs.uprobe_size_arg1;
	case P_SIZE2:
		return s->progs.uprobe_size_arg2;
	case P_CALLOC:
		return s->progs.uprobe_calloc;
	case P_REALLOC:
		return s->progs.uprobe_realloc;
	case P_FREE:
		return s->progs.uprobe_free;
	case P_MEMALIGN:
		return s->progs.uprobe_posix_memalign;
	case P_RET:
		return s->progs.uretprobe_alloc;
	default:
		return s->progs.uretprobe_posix_memalign;
	}
}

#define LMP_TRACE_UPROBE_MULTI 48 /* absent from older UAPI headers */
bool memleak_uprobe_multi_works(void);

/* budget_ms > 0: the rest wait for the next call */
int memleak_targets_refresh(struct lmp_probe *p, struct memleak_bpf *s, long budget_ms);
void memleak_targets_detach_all(struct memleak_priv *mp);

void memleak_report(struct lmp_probe *p, struct memleak_bpf *s, struct lmp_rt *rt);
void memleak_report_free(struct memleak_priv *mp);

#endif /* LMP_MEMLEAK_INT_H */

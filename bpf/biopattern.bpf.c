// SPDX-License-Identifier: GPL-2.0-only
/*
 * biopattern: sequential vs random block I/O per (cgroup, disk), counts and bytes,
 * aggregated in the kernel and drained by the agent every interval.
 *
 * A request is sequential when it starts at the sector where the same cgroup's previous
 * request on the same disk ended; every other request is random, including the first one
 * seen from a cgroup on a disk (a seek from an unknown position). Judged per cgroup, so one
 * pod streaming a file stays sequential while another pod reads the same disk at random.
 * Judged at issue, in the order the device receives requests (libbpf-tools' biopattern
 * judges at completion, per disk).
 *
 * Hooks, best first (bpf/blkio.bpf.h has the request tracking and the attribution rule):
 *   start: tp_btf/raw_tp block_io_start (6.5+) > fentry/kprobe blk_account_io_start >
 *          tp_btf/raw_tp block_rq_insert   (only to learn the submitter's cgroup)
 *   issue: tp_btf/raw_tp block_rq_issue
 */
#include "vmlinux.h"
#include "lmp/biopattern.h"
#define LMP_BLKIO_ME LMP_BLKIO_USER_BIOPATTERN
#include "blkio.bpf.h"

LMP_BLKIO_AGG_MAP(counts, struct lmp_biopattern_counts);

/* where each (cgroup, disk) stream's last request ended; outlives the interval drains */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LMP_BLKIO_AGG_ENTRIES);
	__type(key, struct lmp_blkio_key);
	__type(value, __u64);
} next_sector SEC(".maps");

static const struct lmp_biopattern_counts zero_counts;

static __always_inline int on_issue(struct request *rq)
{
	struct lmp_biopattern_counts *c;
	struct lmp_blkio_key key = {};
	struct lmp_blkio_rq r = {};
	__u64 *next, end;
	bool seq;

	if (!blkio_issue_once(rq, &r) || !r.bytes)
		return 0;
	key.cgroup_id = r.cgroup_id;
	key.dev = r.dev;
	end = r.sector + (r.bytes >> 9);
	next = bpf_map_lookup_elem(&next_sector, &key);
	seq = next && *next == r.sector;
	if (next)
		*next = end;
	else if (bpf_map_update_elem(&next_sector, &key, &end, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	c = lmp_map_lookup_or_init(&counts, &key, &zero_counts);
	if (!c)
		return 0;
	if (seq) {
		__sync_fetch_and_add(&c->sequential, 1);
		__sync_fetch_and_add(&c->sequential_bytes, r.bytes);
	} else {
		__sync_fetch_and_add(&c->random, 1);
		__sync_fetch_and_add(&c->random_bytes, r.bytes);
	}
	return 0;
}

LMP_BLKIO_START_PROGS
LMP_BLKIO_ISSUE_PROGS

char LICENSE[] SEC("license") = "GPL";

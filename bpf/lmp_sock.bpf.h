/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket helpers for TCP probes whose hooks run in softirq, where the current task is
 * whoever the CPU happened to interrupt: those events are charged to the socket's cgroup.
 */
#ifndef LMP_SOCK_BPF_H
#define LMP_SOCK_BPF_H

/*
 * Before 5.15, sock_cgroup_data was a union whose `val` is the cgroup pointer when its low
 * bit (is_data) is clear; commit 8520e224f547 ("bpf, cgroups: Fix cgroup v2 fallback on
 * v1/v2 mixed mode") made it a plain struct with a `cgroup` member.
 */
struct sock_cgroup_data___pre515 {
	__u64 val;
} __attribute__((preserve_access_index));

struct sock___pre515 {
	struct sock_cgroup_data___pre515 sk_cgrp_data;
} __attribute__((preserve_access_index));

/*
 * The cgroup v2 id of the cgroup the socket was created in (cgroup_sk_alloc() takes it from
 * the creating task), or 0 when the kernel does not record one.
 */
static __always_inline __u64 lmp_sk_cgroup_id(const struct sock *sk)
{
	struct cgroup *cg;
	__u64 val;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup)) {
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	} else {
		val = BPF_CORE_READ((struct sock___pre515 *)sk, sk_cgrp_data.val);
		if (val & 1) /* is_data: holds net_cls/net_prio ids, not a cgroup */
			return 0;
		cg = (struct cgroup *)val;
	}
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

#endif /* LMP_SOCK_BPF_H */

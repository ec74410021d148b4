/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcpconnlat: TCP active-open latency (connect() to ESTABLISHED). A per-cgroup histogram
 * aggregated in the kernel, plus one streamed record per connect slower than the threshold.
 */
#ifndef LMP_TCPCONNLAT_H
#define LMP_TCPCONNLAT_H

#include "lmp/event.h"

enum lmp_tcpconnlat_type {
	LMP_TCPCONNLAT_CONNECT = 0,
};

/*
 * A connect over the threshold. hdr.cgroup_id is the socket's cgroup; pid, tid, uid and
 * comm are those of the task that called connect() (the completion runs in softirq, where
 * the current task is unrelated).
 */
struct lmp_tcpconnlat_event {
	struct lmp_event_hdr hdr;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes; network byte order */
	__u8 daddr[16];
	__u64 latency_ns;
	__u16 family; /* AF_INET (2) or AF_INET6 (10) */
	__u16 sport;  /* host byte order */
	__u16 dport;  /* host byte order */
	__u16 _pad;
};

/* per-CPU value of the per-cgroup map; every member is a __u64 */
struct lmp_tcpconnlat_val {
	struct lmp_hist lat; /* connects that reached ESTABLISHED, latency in ns */
	__u64 failed;	     /* SYN_SENT left for CLOSE: refused, timed out, aborted */
};

#endif /* LMP_TCPCONNLAT_H */

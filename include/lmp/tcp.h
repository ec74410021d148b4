/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcp probe: one record per TCP active open (connect), IPv4 and IPv6, when it completes or
 * fails (bpf/tcp.bpf.c).
 */
#ifndef LMP_TCP_H
#define LMP_TCP_H

#include "lmp/event.h"

enum lmp_tcp_type {
	LMP_TCP_CONNECT = 0,
};

enum lmp_tcp_result {
	LMP_TCP_SUCCESS = 0, /* the handshake completed (ESTABLISHED) */
	LMP_TCP_FAILED = 1,  /* closed with an error: `error` holds it */
	LMP_TCP_ABORTED = 2, /* closed with no error recorded: the caller gave up, or the
			      * connect failed locally before a SYN was sent */
};

struct lmp_tcp_connect {
	struct lmp_event_hdr hdr; /* the task that called connect(), the socket's cgroup */
	__u64 latency_ns;	  /* SYN_SENT to ESTABLISHED, or to the failure */
	__u8 saddr[16];		  /* network byte order; IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;  /* host byte order */
	__u16 dport;  /* host byte order */
	__u16 family; /* AF_INET (2) or AF_INET6 (10) */
	__u16 _pad;
	__s32 error;  /* -errno of a failure (sk_err), 0 otherwise */
	__u32 result; /* enum lmp_tcp_result */
};

#endif /* LMP_TCP_H */

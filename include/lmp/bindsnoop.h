/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LMP_BINDSNOOP_H
#define LMP_BINDSNOOP_H

#include "lmp/event.h"

enum lmp_bindsnoop_type {
	LMP_BINDSNOOP_BIND = 0,
};

/* socket options read from the socket at bind time (bit set = option on) */
#define LMP_BIND_OPT_REUSEADDR (1u << 0)
#define LMP_BIND_OPT_REUSEPORT (1u << 1)
#define LMP_BIND_OPT_FREEBIND (1u << 2)
#define LMP_BIND_OPT_TRANSPARENT (1u << 3)
#define LMP_BIND_OPT_BIND_ADDRESS_NO_PORT (1u << 4)
#define LMP_BIND_OPT_V6ONLY (1u << 5)

struct lmp_bindsnoop_event {
	struct lmp_event_hdr hdr;
	__u8 addr[16]; /* IPv4 in the first 4 bytes; network byte order */
	__u16 family;  /* AF_INET or AF_INET6, from the caller's sockaddr */
	__u16 port;    /* host byte order */
	__s32 ret;     /* 0 or -errno */
	__s32 fd;
	__u32 scope_id;	    /* IPv6 sin6_scope_id */
	__u16 protocol;	    /* sk_protocol (IPPROTO_TCP, ...), 0 when the socket was not found */
	__u16 sock_type;    /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u32 opts;	    /* LMP_BIND_OPT_* */
	__s32 bound_dev_if; /* SO_BINDTODEVICE ifindex, 0 = none */
	__u16 bound_port;   /* port the socket holds after a successful bind (host order) */
	__u16 sock_found;   /* 1 when the fd resolved to a socket in the kernel */
};

#endif /* LMP_BINDSNOOP_H */

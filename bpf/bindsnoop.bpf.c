// SPDX-License-Identifier: GPL-2.0-only
/*
 * bindsnoop: bind(2) on IPv4 and IPv6 sockets: the address and port asked for, the port
 * actually held afterwards (port 0 asks for an ephemeral one), the socket's protocol and
 * the options that change what a bind may do (SO_REUSEADDR, SO_REUSEPORT, IP_FREEBIND,
 * IP_TRANSPARENT, IP_BIND_ADDRESS_NO_PORT, IPV6_V6ONLY, SO_BINDTODEVICE), and the result.
 * Binds of other families (AF_UNIX, AF_NETLINK, ...) are not reported.
 *
 * Hooks, best first (agent/probes/bindsnoop.c):
 *   enter: tracepoint syscalls/sys_enter_bind (tracefs) > tail of the syscall
 *          dispatcher's tp_btf/sys_enter (5.5+) > its raw_tp/sys_enter (4.17+), called
 *          for bind only (lmp_syscall.bpf.h)
 *   exit:  tracepoint syscalls/sys_exit_bind > tp_btf/sys_exit > raw_tp/sys_exit
 * The address comes from the caller's sockaddr at entry; the socket is found at exit from
 * the fd (task->files->fdt->fd[fd], checked to be a socket inode) and read there, so the
 * options are the ones the bind saw. libbpf-tools' bindsnoop uses kprobes on inet_bind and
 * inet6_bind instead; the syscall tracepoints need neither kprobes nor BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "lmp/bindsnoop.h"
#include "lmp.bpf.h"
#include "lmp_syscall.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

const volatile __s32 cfg_nr_bind = -1;

struct args {
	__u8 addr[16];
	__u16 family;
	__u16 port; /* host order */
	__s32 fd;
	__u32 scope_id;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* threads inside bind() at the same moment */
	__type(key, __u32);
	__type(value, struct args);
} inflight SEC(".maps");

/*
 * Before v6.6 the inet options were bitfields of struct inet_sock; the series ending with
 * "inet: move inet->bind_address_no_port to inet->inet_flags" (v6.6) made them bits of
 * inet_flags (INET_FLAGS_FREEBIND = 11, _TRANSPARENT = 15, _BIND_ADDRESS_NO_PORT = 18).
 */
struct inet_sock___pre66 {
	__u8 freebind : 1;
	__u8 transparent : 1;
	__u8 bind_address_no_port : 1;
} __attribute__((preserve_access_index));

#define INET_FLAGS_FREEBIND_BIT 11
#define INET_FLAGS_TRANSPARENT_BIT 15
#define INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT 18

static __always_inline int handle_enter(__s32 fd, const void *uaddr, __u32 addrlen)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args a = { .fd = fd };
	__u16 family = 0;

	if (lmp_is_self() || !uaddr || addrlen < 4)
		return 0;
	bpf_probe_read_user(&family, sizeof(family), uaddr);
	if (family == AF_INET) {
		struct sockaddr_in sin = {};

		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		a.port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(a.addr, &sin.sin_addr.s_addr, 4);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};

		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		a.port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(a.addr, &sin6.sin6_addr, 16);
		a.scope_id = sin6.sin6_scope_id;
	} else {
		return 0;
	}
	a.family = family;
	if (bpf_map_update_elem(&inflight, &tid, &a, BPF_ANY))
		lmp_count_drop(LMP_DROP_MAPFULL);
	return 0;
}

static __always_inline struct sock *fd_sock(__s32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *sock;
	umode_t mode;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

static __always_inline void fill_sock(struct lmp_bindsnoop_event *e, struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;
	struct sock_common *skc = &sk->__sk_common;
	__u32 opts = 0;

	e->sock_found = 1;
	/* bitfields before v5.6 (commit "sock: Make sk_protocol a 16-bit value"): probed */
	e->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	e->sock_type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	e->bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
	if (BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuse))
		opts |= LMP_BIND_OPT_REUSEADDR;
	if (BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuseport))
		opts |= LMP_BIND_OPT_REUSEPORT;
	if (BPF_CORE_READ_BITFIELD_PROBED(skc, skc_ipv6only))
		opts |= LMP_BIND_OPT_V6ONLY;
	if (bpf_core_field_exists(inet->inet_flags)) {
		unsigned long f = BPF_CORE_READ(inet, inet_flags);

		if (f & (1UL << INET_FLAGS_FREEBIND_BIT))
			opts |= LMP_BIND_OPT_FREEBIND;
		if (f & (1UL << INET_FLAGS_TRANSPARENT_BIT))
			opts |= LMP_BIND_OPT_TRANSPARENT;
		if (f & (1UL << INET_FLAGS_BIND_ADDRESS_NO_PORT_BIT))
			opts |= LMP_BIND_OPT_BIND_ADDRESS_NO_PORT;
	} else {
		struct inet_sock___pre66 *old = (void *)sk;

		if (BPF_CORE_READ_BITFIELD_PROBED(old, freebind))
			opts |= LMP_BIND_OPT_FREEBIND;
		if (BPF_CORE_READ_BITFIELD_PROBED(old, transparent))
			opts |= LMP_BIND_OPT_TRANSPARENT;
		if (BPF_CORE_READ_BITFIELD_PROBED(old, bind_address_no_port))
			opts |= LMP_BIND_OPT_BIND_ADDRESS_NO_PORT;
	}
	e->opts = opts;
	e->bound_port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
}

static __always_inline int handle_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lmp_bindsnoop_event *e;
	struct args *a;
	struct sock *sk;

	a = bpf_map_lookup_elem(&inflight, &tid);
	if (!a)
		return 0;
	e = lmp_event_reserve(sizeof(*e), LMP_BINDSNOOP_BIND);
	if (!e)
		goto out;
	__builtin_memcpy(e->addr, a->addr, sizeof(e->addr));
	e->family = a->family;
	e->port = a->port;
	e->ret = ret;
	e->fd = a->fd;
	e->scope_id = a->scope_id;
	e->protocol = 0;
	e->sock_type = 0;
	e->opts = 0;
	e->bound_dev_if = 0;
	e->bound_port = 0;
	e->sock_found = 0;
	sk = fd_sock(a->fd);
	if (sk)
		fill_sock(e, sk);
	lmp_event_submit(e);
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_bind")
int tp_sys_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((__s32)ctx->args[0], (const void *)ctx->args[1], (__u32)ctx->args[2]);
}

LMP_SYS_TP_EXIT(bind, handle_exit)

/* the syscall dispatcher's tails (lmp_syscall.bpf.h), routed only bind */
static __always_inline int raw_enter(struct pt_regs *regs, long id, bool btf)
{
	if (id != cfg_nr_bind)
		return 0;
	return handle_enter((__s32)SYS_ARG(1, regs, btf), (const void *)SYS_ARG(2, regs, btf),
			    (__u32)SYS_ARG(3, regs, btf));
}

LMP_SYS_TAILS_ENTER(raw_enter)
LMP_SYS_TAILS_EXIT_RET(handle_exit)

char LICENSE[] SEC("license") = "GPL";

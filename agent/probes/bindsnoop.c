// SPDX-License-Identifier: Apache-2.0
/* bindsnoop: IPv4/IPv6 binds with address, port, protocol, options, result (bpf/bindsnoop.bpf.c). */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "lmp/bindsnoop.h"
#include "bindsnoop.skel.h"
#include "probes/lib/decode_flags.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/sysdisp.h"

LMP_DEFINE_SKEL_OPS(bindsnoop);

static const struct lmp_hook bindsnoop_hooks[] = {
	LMP_HOOKS_SYSCALL("bind"),
};

static const struct lmp_metric_desc binds_total = {
	"lmp_binds_total",
	"IPv4/IPv6 bind calls (failed ones included), per container.",
	LMP_METRIC_COUNTER,
	NULL,
	1,
	true,
};

static const struct lmp_flag_name bind_opts[] = {
	LMP_FLAG(LMP_BIND_OPT_REUSEADDR, "SO_REUSEADDR"),
	LMP_FLAG(LMP_BIND_OPT_REUSEPORT, "SO_REUSEPORT"),
	LMP_FLAG(LMP_BIND_OPT_FREEBIND, "IP_FREEBIND"),
	LMP_FLAG(LMP_BIND_OPT_TRANSPARENT, "IP_TRANSPARENT"),
	LMP_FLAG(LMP_BIND_OPT_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT"),
	LMP_FLAG(LMP_BIND_OPT_V6ONLY, "IPV6_V6ONLY"),
};

static const struct lmp_enum_name protocols[] = {
	{ IPPROTO_IP, "IP" },		{ IPPROTO_ICMP, "ICMP" },     { IPPROTO_TCP, "TCP" },
	{ IPPROTO_UDP, "UDP" },		{ IPPROTO_ICMPV6, "ICMPV6" }, { IPPROTO_SCTP, "SCTP" },
	{ IPPROTO_UDPLITE, "UDPLITE" }, { IPPROTO_RAW, "RAW" },	      { IPPROTO_MPTCP, "MPTCP" },
};

static const struct lmp_enum_name sock_types[] = {
	{ SOCK_STREAM, "SOCK_STREAM" },
	{ SOCK_DGRAM, "SOCK_DGRAM" },
	{ SOCK_RAW, "SOCK_RAW" },
	{ SOCK_RDM, "SOCK_RDM" },
	{ SOCK_SEQPACKET, "SOCK_SEQPACKET" },
	{ SOCK_DCCP, "SOCK_DCCP" },
	{ SOCK_PACKET, "SOCK_PACKET" },
};

static int bindsnoop_configure(struct lmp_probe *p, void *skel, const struct lmp_config *cfg)
{
	struct bindsnoop_bpf *s = skel;
	static const int nrs[] = { SYS_bind };
	struct lmp_sys_want want = {
		.enter = true, .exit = true, .nrs = nrs, .n_nrs = ARRAY_SIZE(nrs)
	};

	s->rodata->cfg_nr_bind = SYS_bind;
	/* the dispatcher's maps in any case (they are in the object), its programs and
	 * these calls routed to the tails when the tail programs were chosen */
	return lmp_sys_join(p, s->obj, cfg, &want, NULL);
}

static void bind_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_bindsnoop_event *e = rec;
	char addr[INET6_ADDRSTRLEN] = "", buf[160];
	const char *name;
	struct lmp_identity id;

	if (!inet_ntop(e->family == AF_INET6 ? AF_INET6 : AF_INET, e->addr, addr, sizeof(addr)))
		addr[0] = 0;
	lmp_out_str(rt->out, "family", e->family == AF_INET6 ? "inet6" : "inet");
	lmp_out_str(rt->out, "addr", addr);
	lmp_out_u64(rt->out, "port", e->port);
	if (e->family == AF_INET6 && e->scope_id)
		lmp_out_u64(rt->out, "scope_id", e->scope_id);
	if (e->sock_found) {
		if (e->ret == 0)
			lmp_out_u64(rt->out, "bound_port", e->bound_port);
		name = lmp_enum_name(protocols, ARRAY_SIZE(protocols), e->protocol);
		if (name)
			lmp_out_str(rt->out, "protocol", name);
		else
			lmp_out_u64(rt->out, "protocol", e->protocol);
		name = lmp_enum_name(sock_types, ARRAY_SIZE(sock_types), e->sock_type);
		if (name)
			lmp_out_str(rt->out, "sock_type", name);
		else
			lmp_out_u64(rt->out, "sock_type", e->sock_type);
		lmp_out_array_begin(rt->out, "options");
		for (size_t i = 0; i < ARRAY_SIZE(bind_opts); i++)
			if (e->opts & bind_opts[i].mask)
				lmp_out_str(rt->out, NULL, bind_opts[i].name);
		lmp_out_array_end(rt->out);
		if (e->bound_dev_if) {
			if (if_indextoname(e->bound_dev_if, buf))
				lmp_out_str(rt->out, "bound_dev", buf);
			else
				lmp_out_u64(rt->out, "bound_dev", e->bound_dev_if);
		}
	}
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &binds_total, &id, NULL, 1);
	}
}

static const struct lmp_field bind_fields[] = {
	LMP_FIELD(struct lmp_bindsnoop_event, fd, "fd", LMP_FIELD_S32),
	LMP_FIELD(struct lmp_bindsnoop_event, ret, "result", LMP_FIELD_ERRNO),
};

static const struct lmp_event_desc bindsnoop_events[] = {
	[LMP_BINDSNOOP_BIND] = { "bind", sizeof(struct lmp_bindsnoop_event), bind_fields,
				 ARRAY_SIZE(bind_fields), bind_extra },
};

const struct lmp_probe_desc lmp_probe_bindsnoop = {
	.name = "bindsnoop",
	.summary = "IPv4/IPv6 binds: address, port, protocol, socket options, result",
	.skel = &bindsnoop_skel_ops,
	.hooks = bindsnoop_hooks,
	.n_hooks = ARRAY_SIZE(bindsnoop_hooks),
	.events = bindsnoop_events,
	.n_events = ARRAY_SIZE(bindsnoop_events),
	.configure = bindsnoop_configure,
	.attach = lmp_sys_attach,
	.cleanup = lmp_sys_leave,
};

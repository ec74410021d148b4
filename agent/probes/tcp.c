// SPDX-License-Identifier: Apache-2.0
/*
 * tcp: TCP active opens, IPv4 and IPv6, one event per connect with its endpoints, result
 * and latency (bpf/tcp.bpf.c); feeds lmp_tcp_connects_total{result}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>

#include "lmp/tcp.h"
#include "tcp.skel.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/autoload.h"

LMP_DEFINE_SKEL_OPS(tcp);

enum {
	HOOK_TP_BTF,
	HOOK_RAW_TP,
	HOOK_TP,
	HOOK_FENTRY,
	HOOK_KPROBE,
};

static const struct lmp_hook tcp_hooks[] = {
	[HOOK_TP_BTF] = { "connect", LMP_HOOK_TP_BTF, "tp_btf_inet_sock_set_state",
			  "inet_sock_set_state" },
	[HOOK_RAW_TP] = { "connect", LMP_HOOK_RAW_TP, "raw_tp_inet_sock_set_state",
			  "inet_sock_set_state" },
	[HOOK_TP] = { "connect", LMP_HOOK_TRACEPOINT, "tp_inet_sock_set_state",
		      "sock/inet_sock_set_state" },
	[HOOK_FENTRY] = { "connect", LMP_HOOK_FENTRY, "fentry_tcp_v4_connect", "tcp_v4_connect" },
	[HOOK_KPROBE] = { "connect", LMP_HOOK_KPROBE, "kprobe_tcp_v4_connect", "tcp_v4_connect" },
};

/* the other programs of the function-hook paths: loaded iff their path won */
static const struct {
	const char *prog;
	int with;
} companions[] = {
	{ "fentry_tcp_v6_connect", HOOK_FENTRY },     { "fentry_tcp_finish_connect", HOOK_FENTRY },
	{ "fentry_tcp_done", HOOK_FENTRY },	      { "kprobe_tcp_v6_connect", HOOK_KPROBE },
	{ "kprobe_tcp_finish_connect", HOOK_KPROBE }, { "kprobe_tcp_done", HOOK_KPROBE },
};

static const struct lmp_metric_desc connects_total = {
	"lmp_tcp_connects_total",
	"TCP active opens, per container and result (success, an errno name such as "
	"ECONNREFUSED, or aborted).",
	LMP_METRIC_COUNTER,
	"result",
	1,
	true,
};

static int tcp_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	struct tcp_bpf *skel = skel_;
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(companions); i++) {
		err = lmp_prog_autoload(p, skel->obj, companions[i].prog,
					p->chosen[companions[i].with]);
		if (err)
			return err;
	}
	return 0;
}

static const char *result_name(const struct lmp_tcp_connect *e)
{
	const char *name;

	switch (e->result) {
	case LMP_TCP_SUCCESS:
		return "success";
	case LMP_TCP_FAILED:
		name = e->error < 0 ? lmp_errno_name(-e->error) : NULL;
		return name ? name : "error";
	default:
		return "aborted";
	}
}

static void connect_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_tcp_connect *e = rec;
	int af = e->family == AF_INET6 ? AF_INET6 : AF_INET;
	char saddr[INET6_ADDRSTRLEN] = "", daddr[INET6_ADDRSTRLEN] = "";
	const char *result = result_name(e);
	struct lmp_identity id;

	if (e->family != AF_INET && e->family != AF_INET6)
		p->decode_errors++; /* printed as IPv4 all the same, so nothing is hidden */
	inet_ntop(af, e->saddr, saddr, sizeof(saddr));
	inet_ntop(af, e->daddr, daddr, sizeof(daddr));
	lmp_out_str(rt->out, "family", af == AF_INET6 ? "ipv6" : "ipv4");
	lmp_out_str(rt->out, "saddr", saddr);
	lmp_out_u64(rt->out, "sport", e->sport);
	lmp_out_str(rt->out, "daddr", daddr);
	lmp_out_u64(rt->out, "dport", e->dport);
	lmp_out_str(rt->out, "result", result);
	if (rt->metrics) {
		lmp_ident_lookup(rt->ident, e->hdr.cgroup_id, &id);
		lmp_metrics_add(rt->metrics, &connects_total, &id, result, 1);
	}
}

static const struct lmp_field connect_fields[] = {
	LMP_FIELD(struct lmp_tcp_connect, latency_ns, "latency_s", LMP_FIELD_NS_AS_S),
	LMP_FIELD(struct lmp_tcp_connect, error, "errno", LMP_FIELD_ERRNO),
};

static const struct lmp_event_desc tcp_events[] = {
	[LMP_TCP_CONNECT] = { "connect", sizeof(struct lmp_tcp_connect), connect_fields,
			      ARRAY_SIZE(connect_fields), connect_extra },
};

const struct lmp_probe_desc lmp_probe_tcp = {
	.name = "tcp",
	.summary = "TCP connects v4/v6: endpoints, result (success or errno), latency",
	.skel = &tcp_skel_ops,
	.hooks = tcp_hooks,
	.n_hooks = ARRAY_SIZE(tcp_hooks),
	.events = tcp_events,
	.n_events = ARRAY_SIZE(tcp_events),
	.configure = tcp_configure,
};

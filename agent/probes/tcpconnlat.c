// SPDX-License-Identifier: Apache-2.0
/*
 * tcpconnlat: TCP connect latency per cgroup (bpf/tcpconnlat.bpf.c). Every interval: one
 * summary line per cgroup that connected (count, failures, p50/p90/p99), and the
 * lmp_tcp_connect_latency_seconds histogram. Connects slower than --tcpconnlat-min-ms also
 * stream one "connect" event each, with both endpoints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lmp/tcpconnlat.h"
#include "tcpconnlat.skel.h"
#include "probes/lib/cgroup_hist.h"
#include "core/config.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "expose/out.h"
#include "probe/probe.h"
#include "probes/lib/autoload.h"

LMP_DEFINE_SKEL_OPS(tcpconnlat);

/*
 * One group: the state tracepoint alone sees a connect from start to end. The function-hook
 * alternatives need three programs each; the table names the first, and configure() loads
 * its two companions (tcp_v6_connect, tcp_rcv_state_process) only when it won.
 */
static const struct lmp_hook tcpconnlat_hooks[] = {
	LMP_HOOKS_TP("connect", "inet_sock_set_state", "sock"),
	LMP_HOOKS_FUNC("connect", "tcp_v4_connect"),
};

struct tcpconnlat_options {
	unsigned min_ms;
};

static const struct lmp_option tcpconnlat_options[] = {
	LMP_OPTION_UINT(
		struct tcpconnlat_options, min_ms, "tcpconnlat-min-ms", "LMP_TCPCONNLAT_MIN_MS",
		"100", 0, 3600000,
		"tcpconnlat probe: stream an event for each connect at least this slow (0: all)"),
};

static const struct {
	const char *lead, *prog;
} companions[] = {
	{ "fentry_tcp_v4_connect", "fentry_tcp_v6_connect" },
	{ "fentry_tcp_v4_connect", "fentry_tcp_rcv_state_process" },
	{ "kprobe_tcp_v4_connect", "kprobe_tcp_v6_connect" },
	{ "kprobe_tcp_v4_connect", "kprobe_tcp_rcv_state_process" },
};

static const struct lmp_metric_desc latency_seconds = {
	"lmp_tcp_connect_latency_seconds",
	"TCP active-open latency (SYN sent to ESTABLISHED), per container.",
	LMP_METRIC_HISTOGRAM,
	NULL,
	1e-9,
	true,
};

static bool hook_chosen(const struct lmp_probe *p, const char *prog)
{
	for (size_t i = 0; i < ARRAY_SIZE(tcpconnlat_hooks); i++)
		if (strcmp(tcpconnlat_hooks[i].prog, prog) == 0)
			return p->chosen[i];
	return false;
}

static int tcpconnlat_configure(struct lmp_probe *p, void *skel_, const struct lmp_config *cfg)
{
	const struct tcpconnlat_options *o = lmp_probe_options(p, cfg);
	struct tcpconnlat_bpf *skel = skel_;
	int err;

	err = lmp_cgroup_hist_alloc(p);
	if (err)
		return err;
	for (size_t i = 0; i < ARRAY_SIZE(companions); i++) {
		err = lmp_prog_autoload(p, skel->obj, companions[i].prog,
					hook_chosen(p, companions[i].lead));
		if (err)
			return err;
	}
	skel->rodata->cfg_min_ns = (__u64)o->min_ms * 1000000;
	return 0;
}

static __u64 connect_weight(const void *value)
{
	const struct lmp_tcpconnlat_val *v = value;

	return v->lat.count + v->failed;
}

static void connect_metrics(struct lmp_rt *rt, __u64 cgroup_id, const void *value)
{
	const struct lmp_tcpconnlat_val *v = value;
	struct lmp_identity id;

	if (!v->lat.count)
		return;
	lmp_ident_lookup(rt->ident, cgroup_id, &id);
	lmp_metrics_hist_add(rt->metrics, &latency_seconds, &id, NULL, &v->lat);
}

static void connect_summary(struct lmp_out *o, const void *value)
{
	const struct lmp_tcpconnlat_val *v = value;

	lmp_out_u64(o, "connects", v->lat.count);
	lmp_out_u64(o, "failed", v->failed);
	lmp_cgroup_hist_out_latency(o, "latency_hist_ns", &v->lat);
}

static const struct lmp_cgroup_hist_ops connect_ops = {
	.value_size = sizeof(struct lmp_tcpconnlat_val),
	.weight = connect_weight,
	.metrics = connect_metrics,
	.summary = connect_summary,
};

static void tcpconnlat_interval(struct lmp_probe *p, void *skel_, struct lmp_rt *rt)
{
	struct tcpconnlat_bpf *skel = skel_;

	lmp_cgroup_hist_report(p, rt, bpf_map__fd(skel->maps.hists), &connect_ops);
}

static void put_addr(struct lmp_out *o, const char *key, __u16 family, const __u8 *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf)))
		lmp_out_str(o, key, buf);
	else
		lmp_out_null(o, key);
}

static void connect_extra(struct lmp_probe *p, const void *rec, struct lmp_rt *rt)
{
	const struct lmp_tcpconnlat_event *e = rec;

	lmp_out_str(rt->out, "family", e->family == AF_INET6 ? "ipv6" : "ipv4");
	put_addr(rt->out, "saddr", e->family, e->saddr);
	lmp_out_u64(rt->out, "sport", e->sport);
	put_addr(rt->out, "daddr", e->family, e->daddr);
	lmp_out_u64(rt->out, "dport", e->dport);
}

static const struct lmp_field connect_fields[] = {
	LMP_FIELD(struct lmp_tcpconnlat_event, latency_ns, "latency_s", LMP_FIELD_NS_AS_S),
};

static const struct lmp_event_desc tcpconnlat_events[] = {
	[LMP_TCPCONNLAT_CONNECT] = { "connect", sizeof(struct lmp_tcpconnlat_event), connect_fields,
				     ARRAY_SIZE(connect_fields), connect_extra },
};

const struct lmp_probe_desc lmp_probe_tcpconnlat = {
	.name = "tcpconnlat",
	.summary = "TCP connect latency histogram per cgroup; slow connects with both endpoints",
	.skel = &tcpconnlat_skel_ops,
	.hooks = tcpconnlat_hooks,
	.n_hooks = ARRAY_SIZE(tcpconnlat_hooks),
	.events = tcpconnlat_events,
	.n_events = ARRAY_SIZE(tcpconnlat_events),
	.configure = tcpconnlat_configure,
	.interval = tcpconnlat_interval,
	.cleanup = lmp_cgroup_hist_cleanup,
	.options = LMP_OPTIONS(struct tcpconnlat_options, tcpconnlat_options),
};

// SPDX-License-Identifier: Apache-2.0
/*
 * The kubelet client's health as metrics: how many /pods requests succeeded and failed (by
 * cause), when the last good sync was, and how many pods and containers the agent knows.
 * Also where the pods in use come from (the kubelet, or the API-server fallback).
 * The agent copies the client's counters in each interval (lmp_ident_kubelet_stats), so
 * the client itself stays free of any metrics dependency.
 */
#include "k8s/kubelet.h"
#include "expose/metrics.h"

static const struct lmp_metric_desc requests = {
	.name = "lmp_kubelet_requests_total",
	.help = "Kubelet /pods requests, by result (ok or the cause of the failure)",
	.type = LMP_METRIC_COUNTER,
	.label = "result",
	.scale = 1,
};

static const struct lmp_metric_desc up = {
	.name = "lmp_kubelet_up",
	.help = "1 when the last kubelet /pods request succeeded",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc last_sync = {
	.name = "lmp_kubelet_last_sync_timestamp_seconds",
	.help = "When the kubelet last answered /pods, seconds since the Unix epoch (0: never)",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc duration = {
	.name = "lmp_kubelet_request_duration_seconds",
	.help = "How long the last kubelet /pods request took",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc pods = {
	.name = "lmp_kubelet_pods",
	.help = "Pods on this node in the last kubelet reply",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc containers = {
	.name = "lmp_kubelet_containers",
	.help = "Containers on this node in the last kubelet reply",
	.type = LMP_METRIC_GAUGE,
	.scale = 1,
};

static const struct lmp_metric_desc token_reads = {
	.name = "lmp_kubelet_token_reads_total",
	.help = "Times the service-account token file was (re)read",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
};

static const struct lmp_metric_desc source = {
	.name = "lmp_kubelet_pods_source",
	.help = "Where the pods in use come from: 1 for kubelet or apiserver (the fallback while "
		"the kubelet cannot be reached or verified), 0 for the other",
	.type = LMP_METRIC_GAUGE,
	.label = "source",
	.scale = 1,
};

static const struct lmp_metric_desc api_requests = {
	.name = "lmp_kubelet_apiserver_requests_total",
	.help = "API-server fallback requests (this node's pods), by result: ok or failed",
	.type = LMP_METRIC_COUNTER,
	.label = "result",
	.scale = 1,
};

static bool kubelet_up(const struct lmp_kubelet_stats *st)
{
	return st->last_err == LMP_KUBELET_OK && st->kubelet_err == LMP_KUBELET_OK &&
	       st->last_sync > 0 && !st->from_apiserver;
}

void lmp_metrics_update_kubelet(struct lmp_metrics *m, const struct lmp_kubelet_stats *st)
{
	if (!m || !st)
		return;
	/* every cause is exported, zeros included, so rate() and alerts need no absent() */
	lmp_metrics_set(m, &requests, NULL, lmp_kubelet_err_name(LMP_KUBELET_OK),
			(double)st->requests_ok);
	for (int e = LMP_KUBELET_OK + 1; e < _LMP_KUBELET_ERR_MAX; e++)
		lmp_metrics_set(m, &requests, NULL, lmp_kubelet_err_name(e),
				(double)st->failures[e]);
	/* the kubelet's own outcome: a good fallback reply does not make it up */
	lmp_metrics_set(m, &up, NULL, NULL, kubelet_up(st) ? 1 : 0);
	lmp_metrics_set(m, &source, NULL, "kubelet", st->from_apiserver ? 0 : 1);
	lmp_metrics_set(m, &source, NULL, "apiserver", st->from_apiserver ? 1 : 0);
	lmp_metrics_set(m, &api_requests, NULL, "ok", (double)st->api_requests[0]);
	lmp_metrics_set(m, &api_requests, NULL, "failed", (double)st->api_requests[1]);
	lmp_metrics_set(m, &last_sync, NULL, NULL, st->last_sync);
	lmp_metrics_set(m, &duration, NULL, NULL, st->last_duration);
	lmp_metrics_set(m, &pods, NULL, NULL, st->pods_known);
	lmp_metrics_set(m, &containers, NULL, NULL, st->containers_known);
	lmp_metrics_set(m, &token_reads, NULL, NULL, (double)st->token_reads);
}

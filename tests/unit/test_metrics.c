// SPDX-License-Identifier: Apache-2.0
/*
 * Metrics registry: exact Prometheus text for known inputs (counters, gauges,
 * log2 histogram to `le` buckets, escaping), the series cap, expiry of gone
 * pods, the per-pod JSON view, and a promtool lint of a full render.
 *
 * One file over 600 lines: one case per rendering rule, on one registry fixture.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>

#include "k8s/cgroup.h"
#include "k8s/identity.h"
#include "k8s/kubelet.h"
#include "expose/metrics.h"
#include "expose/metrics_int.h"

#include "agent_server.h"
#include "harness.h"

static const struct lmp_metric_desc syscalls = {
	.name = "lmp_syscalls_total",
	.help = "System calls made by the container",
	.type = LMP_METRIC_COUNTER,
	.label = "syscall",
	.scale = 1,
	.per_pod = true,
};

static const struct lmp_metric_desc iosize = {
	.name = "lmp_block_io_size_bytes",
	.help = "Block I/O request size",
	.type = LMP_METRIC_HISTOGRAM,
	.scale = 1,
	.per_pod = true,
};

static const struct lmp_metric_desc execs = {
	.name = "lmp_execs_total",
	.help = "Programs executed",
	.type = LMP_METRIC_COUNTER,
	.scale = 1,
	.per_pod = true,
};

static const struct lmp_identity pod_a = { .cgroup_id = 1,
					   .namespace = "default",
					   .pod = "web-1",
					   .container = "nginx" };
static const struct lmp_identity pod_b = { .cgroup_id = 2,
					   .namespace = "kube-system",
					   .pod = "dns-7",
					   .container = "coredns" };
static const struct lmp_identity host = { .cgroup_id = 3, .cgroup = "/system.slice/x" };

/* label sets of pod_a and pod_b as rendered, without the closing brace */
#define POD_A "{namespace=\"default\",pod=\"web-1\",container=\"nginx\""
#define POD_B "{namespace=\"kube-system\",pod=\"dns-7\",container=\"coredns\""

static char *render(struct lmp_metrics *m)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(lmp_metrics_render(m, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* the registry's own families follow the user families; compare only what
 * precedes them */
static void assert_render_prefix(struct lmp_metrics *m, const char *want)
{
	char *out = render(m);
	char *tail = strstr(out, "# HELP lmp_metrics_series ");

	assert_non_null(tail);
	*tail = '\0';
	assert_string_equal(out, want);
	free(out);
}

static void test_metrics_counter_and_node_level(void **state)
{
	struct lmp_metrics *m;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 3);
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 2);
	lmp_metrics_add(m, &syscalls, &pod_a, "write", 1);
	lmp_metrics_add(m, &syscalls, &host, "read", 7);   /* not a pod: no pod labels */
	lmp_metrics_add(m, &syscalls, NULL, "read", 1);	   /* same series as the host one */
	lmp_metrics_add(m, &syscalls, &pod_a, "read", -4); /* counters never go down */
	lmp_metrics_set(m, &lmp_metric_events_total, NULL, "process", 42);
	lmp_metrics_set2(m, &lmp_metric_probe_up, NULL, "tcpconnlat", "tp_btf", 1);
	lmp_metrics_set2(m, &lmp_metric_probe_up, NULL, "llcstat", "", 0);
	lmp_metrics_add(m, &execs, &pod_a, NULL, 0.5);
	assert_render_prefix(
		m, "# HELP lmp_syscalls_total System calls made by the container\n"
		   "# TYPE lmp_syscalls_total counter\n"
		   "lmp_syscalls_total" POD_A ",syscall=\"read\"} 5\n"
		   "lmp_syscalls_total" POD_A ",syscall=\"write\"} 1\n"
		   "lmp_syscalls_total{syscall=\"read\"} 8\n"
		   "# HELP lmp_events_total Events the probe delivered to the agent\n"
		   "# TYPE lmp_events_total counter\n"
		   "lmp_events_total{probe=\"process\"} 42\n"
		   "# HELP lmp_probe_up 1 when the probe is attached, 0 when it could not "
		   "attach on this node\n"
		   "# TYPE lmp_probe_up gauge\n"
		   "lmp_probe_up{probe=\"tcpconnlat\",attach=\"tp_btf\"} 1\n"
		   "lmp_probe_up{probe=\"llcstat\",attach=\"\"} 0\n"
		   "# HELP lmp_execs_total Programs executed\n"
		   "# TYPE lmp_execs_total counter\n"
		   "lmp_execs_total" POD_A "} 0.5\n");
	assert_int_equal(lmp_metrics_series_count(m), 7);
	lmp_metrics_free(m);
}

static void test_metrics_histogram_buckets(void **state)
{
	struct lmp_hist h = { 0 };
	struct lmp_metrics *m;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	/* 8..15 ns twice, 32..63 ns once: slots 3 and 5 */
	h.slots[3] = 2;
	h.slots[5] = 1;
	h.sum = 8 + 15 + 40;
	h.count = 3;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	/* 0 and 1 byte land in slot 0, whose bound is 2; 1 KiB..2 KiB in slot 10 */
	memset(&h, 0, sizeof(h));
	h.slots[0] = 4;
	h.slots[10] = 1;
	h.sum = 1 + 1500;
	h.count = 99; /* ignored: _count is the sum of the slots */
	lmp_metrics_hist_add(m, &iosize, &pod_b, NULL, &h);
	lmp_metrics_add(m, &lmp_test_connlat, &pod_a, NULL, 1); /* wrong type: ignored */
	/* slot 0 is the lowest: no zero bucket below it; slot 3 gets one at le = 2^3 ns */
	assert_render_prefix(m,
			     "# HELP lmp_tcp_connect_latency_seconds TCP active open latency\n"
			     "# TYPE lmp_tcp_connect_latency_seconds histogram\n"
			     "lmp_tcp_connect_latency_seconds_bucket" POD_A ",le=\"8e-09\"} 0\n"
			     "lmp_tcp_connect_latency_seconds_bucket" POD_A ",le=\"1.6e-08\"} 2\n"
			     "lmp_tcp_connect_latency_seconds_bucket" POD_A ",le=\"3.2e-08\"} 2\n"
			     "lmp_tcp_connect_latency_seconds_bucket" POD_A ",le=\"6.4e-08\"} 3\n"
			     "lmp_tcp_connect_latency_seconds_bucket" POD_A ",le=\"+Inf\"} 3\n"
			     "lmp_tcp_connect_latency_seconds_sum" POD_A "} 6.3e-08\n"
			     "lmp_tcp_connect_latency_seconds_count" POD_A "} 3\n"
			     "# HELP lmp_block_io_size_bytes Block I/O request size\n"
			     "# TYPE lmp_block_io_size_bytes histogram\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"2\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"4\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"8\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"16\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"32\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"64\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"128\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"256\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"512\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"1024\"} 4\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"2048\"} 5\n"
			     "lmp_block_io_size_bytes_bucket" POD_B ",le=\"+Inf\"} 5\n"
			     "lmp_block_io_size_bytes_sum" POD_B "} 1501\n"
			     "lmp_block_io_size_bytes_count" POD_B "} 5\n");
	lmp_metrics_free(m);
}

static void test_metrics_histogram_range_only_widens(void **state)
{
	struct lmp_hist h = { 0 };
	struct lmp_metrics *m;
	char *out;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	h.slots[20] = 1;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	memset(&h, 0, sizeof(h));
	h.slots[39] = 1; /* top slot: [2^39, 2^40) ns */
	h.slots[12] = 2;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	out = render(m);
	/* buckets from slot 12 (le 2^13 ns) to slot 39 (le 2^40 ns), cumulative, after a zero
	 * bucket at the lower bound of slot 12 */
	assert_non_null(strstr(out, "le=\"4.096e-06\"} 0\n"));
	assert_null(strstr(out, "le=\"2.048e-06\""));
	lmp_test_assert_contains(out, (const char *const[]){
					      "le=\"8.192e-06\"} 2\n",
					      "le=\"0.002097152\"} 3\n",
					      "le=\"1099.511627776\"} 4\n",
					      "le=\"+Inf\"} 4\n",
					      NULL,
				      });
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_label_and_help_escaping(void **state)
{
	static const struct lmp_metric_desc weird = {
		.name = "lmp_weird_total",
		.help = "back\\slash and\nnewline \"quoted\"",
		.type = LMP_METRIC_COUNTER,
		.label = "signal",
		.scale = 1,
		.per_pod = true,
	};
	struct lmp_identity id = { .namespace = "ns", .pod = "p\"o\\d\nx", .container = NULL };
	struct lmp_metrics *m;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_add(m, &weird, &id, "SIG\"TERM\xc3\xa9", 1);
	assert_render_prefix(m, "# HELP lmp_weird_total back\\\\slash and\\nnewline \"quoted\"\n"
				"# TYPE lmp_weird_total counter\n"
				"lmp_weird_total{namespace=\"ns\",pod=\"p\\\"o\\\\d\\nx\","
				"signal=\"SIG\\\"TERM\xc3\xa9\"} 1\n");
	lmp_metrics_free(m);
}

static void test_metrics_long_value_cut_on_utf8_boundary(void **state)
{
	char v[600], want[300];
	struct lmp_metrics *m;
	char *out;

	/* 'a' then two-byte characters: byte 255 falls in the middle of one */
	v[0] = 'a';
	for (int i = 1; i + 1 < 599; i += 2) {
		v[i] = (char)0xc3;
		v[i + 1] = (char)0xa9;
	}
	v[599] = '\0';
	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_add(m, &syscalls, &pod_a, v, 1);
	lmp_metrics_add(m, &syscalls, &pod_a, v, 1); /* same (cut) key: same series */
	assert_int_equal(lmp_metrics_series_count(m), 1);
	memcpy(want, v, 255);
	want[255] = '\0'; /* 255 is odd: 'a' + 127 whole characters */
	out = render(m);
	assert_non_null(strstr(out, want));
	want[254] = '"';
	assert_null(strstr(out, v + 1)); /* the full value is not there */
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_series_cap_counts_drops(void **state)
{
	struct lmp_identity id = { .namespace = "ns", .container = "c" };
	char pod[32], *out;
	struct lmp_metrics *m;

	assert_int_equal(lmp_metrics_new(3, &m), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(pod, sizeof(pod), "pod-%d", i);
		id.pod = pod;
		lmp_metrics_add(m, &execs, &id, NULL, 1);
		lmp_metrics_add(m, &execs, &id, NULL, 1);
	}
	/* node-level series are not subject to the pod cap */
	lmp_metrics_set(m, &lmp_metric_events_lost_total, NULL, "tcprtt", 9);
	assert_int_equal(lmp_metrics_series_count(m), 4);
	assert_int_equal(lmp_metrics_dropped(m), 4); /* pods 3 and 4, twice each */
	out = render(m);
	assert_non_null(strstr(out, "pod=\"pod-2\",container=\"c\"} 2\n"));
	assert_null(strstr(out, "pod-3"));
	assert_non_null(strstr(out, "lmp_events_lost_total{probe=\"tcprtt\"} 9\n"));
	assert_non_null(strstr(out, "# TYPE lmp_metrics_series_dropped_total counter\n"
				    "lmp_metrics_series_dropped_total 4\n"));
	assert_non_null(strstr(out, "\nlmp_metrics_series 4\n"));
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_expire_removes_only_stale(void **state)
{
	struct lmp_hist h = { .slots = { [4] = 1 } };
	struct lmp_metrics *m;
	char *out;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_set_now(m, 100);
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 1);
	lmp_metrics_add(m, &syscalls, &pod_b, "read", 1);
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	lmp_metrics_add(m, &syscalls, &pod_a, "write", 1);
	lmp_metrics_add(m, &syscalls, &host, "read", 1);
	lmp_metrics_set_now(m, 150);
	lmp_metrics_touch_pod(m, "kube-system", "dns-7");
	/* within the grace period nothing goes */
	assert_int_equal(lmp_metrics_expire(m, 159, 60), 0);
	/* pod_a last seen at 100, 161 - 60 > 100: its three series go; pod_b (150)
   * stays */
	assert_int_equal(lmp_metrics_expire(m, 161, 60), 3);
	assert_int_equal(lmp_metrics_series_count(m), 2);
	out = render(m);
	assert_null(strstr(out, "web-1"));
	assert_non_null(strstr(out, "pod=\"dns-7\""));
	assert_non_null(strstr(out, "lmp_syscalls_total{syscall=\"read\"} 1\n"));
	/* the histogram family keeps its header with no samples left */
	assert_non_null(strstr(out, "# TYPE lmp_tcp_connect_latency_seconds histogram\n# HELP"));
	assert_non_null(strstr(out, "lmp_metrics_series_expired_total 3\n"));
	free(out);
	/* a pod that comes back starts from zero, appended after the survivors */
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 1);
	lmp_metrics_add(m, &syscalls, &pod_b, "read", 1);
	assert_int_equal(lmp_metrics_series_count(m), 3);
	assert_render_prefix(m, "# HELP lmp_syscalls_total System calls made by the container\n"
				"# TYPE lmp_syscalls_total counter\n"
				"lmp_syscalls_total" POD_B ",syscall=\"read\"} 2\n"
				"lmp_syscalls_total{syscall=\"read\"} 1\n"
				"lmp_syscalls_total" POD_A ",syscall=\"read\"} 1\n"
				"# HELP lmp_tcp_connect_latency_seconds TCP active open latency\n"
				"# TYPE lmp_tcp_connect_latency_seconds histogram\n");
	/* everything of pods expires eventually, node-level series never */
	assert_int_equal(lmp_metrics_expire(m, 1e6, 60), 2);
	assert_int_equal(lmp_metrics_series_count(m), 1);
	lmp_metrics_free(m);
}

static void test_metrics_many_series_rehash(void **state)
{
	struct lmp_identity id = { .namespace = "ns", .container = "c" };
	struct lmp_metrics *m;
	char pod[32];

	assert_int_equal(lmp_metrics_new(0, &m), 0); /* 0: no cap */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(pod, sizeof(pod), "pod-%d", i);
			id.pod = pod;
			lmp_metrics_add(m, &execs, &id, NULL, 1);
		}
	}
	assert_int_equal(lmp_metrics_series_count(m), 5000);
	assert_int_equal(lmp_metrics_dropped(m), 0);
	assert_int_equal(lmp_metrics_expire(m, 1e9, 1), 5000);
	assert_int_equal(lmp_metrics_series_count(m), 0);
	lmp_metrics_free(m);
}

static void test_metrics_invalid_desc_is_counted(void **state)
{
	static const struct lmp_metric_desc bad_name = { .name = "lmp bad", .scale = 1 };
	static const struct lmp_metric_desc bad_label = { .name = "lmp_x",
							  .label = "a,b,c",
							  .scale = 1 };
	struct lmp_metrics *m;
	char *out;

	assert_int_equal(lmp_metrics_new(10, &m), 0);
	assert_int_equal(lmp_metrics_declare(m, &bad_name), -EINVAL);
	lmp_metrics_add(m, &bad_name, NULL, NULL, 1);
	lmp_metrics_add(m, &bad_label, NULL, "x", 1);
	assert_int_equal(lmp_metrics_declare(m, &execs), 0);
	assert_int_equal(lmp_metrics_series_count(m), 0);
	out = render(m);
	assert_non_null(strstr(out, "lmp_metrics_invalid_updates_total 2\n"));
	assert_non_null(strstr(out, "# TYPE lmp_execs_total counter\n"));
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_quantile_interpolates(void **state)
{
	uint64_t slots[LMP_HIST_SLOTS] = { 0 };

	assert_true(isnan(lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS, 0.5)));
	slots[10] = 100; /* [1024, 2048) */
	assert_true(fabs(lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS, 0.5) - 1536) < 1e-9);
	assert_true(fabs(lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS, 0.99) - 2037.76) < 1e-6);
	slots[0] = 100; /* [0, 2) */
	assert_true(fabs(lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS, 0.25) - 1) < 1e-9);
	assert_true(fabs(lmp_metrics_hist_quantile(slots, LMP_HIST_SLOTS, 0.75) - 1536) < 1e-9);
}

static json_t *find_row(json_t *pods, const char *pod)
{
	size_t i;
	json_t *row;

	json_array_foreach(pods, i, row)
		if (!strcmp(json_string_value(json_object_get(row, "pod")), pod))
			return row;
	return NULL;
}

static void test_metrics_pods_json_last_interval(void **state)
{
	struct lmp_hist h = { 0 };
	struct lmp_metrics *m;
	json_t *root, *pods, *row, *lat, *sc;
	double interval, rate;
	char *out;
	size_t len;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	/* before the mark: 100 observations in [2^20, 2^21) ns, they must not count
   */
	h.slots[20] = 100;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 10);
	lmp_metrics_interval_mark(m);
	usleep(20000);
	/* the last interval: 100 in [1024, 2048) ns, split over two label-less adds
   */
	memset(&h, 0, sizeof(h));
	h.slots[10] = 60;
	h.sum = 60 * 1500;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	h.slots[10] = 40;
	h.sum = 40 * 1500;
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 30);
	lmp_metrics_add(m, &syscalls, &pod_a, "write", 10);
	lmp_metrics_add(m, &syscalls, &pod_b, "read", 5);
	lmp_metrics_add(m, &syscalls, &host, "read", 5); /* not a pod: no row */
	lmp_metrics_interval_mark(m);
	/* after the mark, not yet part of a closed interval */
	lmp_metrics_add(m, &syscalls, &pod_a, "read", 1000);

	assert_int_equal(lmp_metrics_pods_json(m, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	root = json_loads(out, 0, NULL);
	assert_non_null(root);
	interval = json_number_value(json_object_get(root, "interval_seconds"));
	assert_true(interval >= 0.019 && interval < 5);
	pods = json_object_get(root, "pods");
	assert_int_equal(json_array_size(pods), 2);
	/* sorted by namespace: default before kube-system */
	assert_string_equal(json_string_value(json_object_get(json_array_get(pods, 0), "pod")),
			    "web-1");
	row = find_row(pods, "web-1");
	assert_string_equal(json_string_value(json_object_get(row, "container")), "nginx");
	lat = json_object_get(json_object_get(row, "histograms"),
			      "lmp_tcp_connect_latency_seconds");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 100);
	assert_true(fabs(json_number_value(json_object_get(lat, "p50")) - 1536e-9) < 1e-15);
	assert_true(fabs(json_number_value(json_object_get(lat, "p99")) - 2037.76e-9) < 1e-15);
	assert_true(fabs(json_number_value(json_object_get(lat, "sum")) - 150000e-9) < 1e-12);
	sc = json_object_get(json_object_get(row, "counters"), "lmp_syscalls_total");
	/* total is everything so far, both syscalls summed; rate only the closed
   * interval */
	assert_true(json_number_value(json_object_get(sc, "total")) == 1050);
	rate = json_number_value(json_object_get(sc, "rate"));
	assert_true(fabs(rate - 40 / interval) < 1e-6);
	row = find_row(pods, "dns-7");
	assert_non_null(row);
	assert_int_equal(json_object_size(json_object_get(row, "histograms")), 0);
	json_decref(root);
	free(out);

	/* a quiet interval: count 0 and null quantiles */
	lmp_metrics_interval_mark(m);
	lmp_metrics_interval_mark(m);
	assert_int_equal(lmp_metrics_pods_json(m, &out, &len), 0);
	root = json_loads(out, 0, NULL);
	lat = json_object_get(json_object_get(find_row(json_object_get(root, "pods"), "web-1"),
					      "histograms"),
			      "lmp_tcp_connect_latency_seconds");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 0);
	assert_true(json_is_null(json_object_get(lat, "p90")));
	json_decref(root);
	free(out);
	lmp_metrics_free(m);
}

/* Lint a full render with promtool (Debian package prometheus, installed by
 * make deps). */
static void test_metrics_promtool_accepts_render(void **state)
{
	struct lmp_identity id = { .namespace = "ns", .pod = "a\"b\\c", .container = "x\ny" };
	struct lmp_hist h = { .slots = { [0] = 1, [7] = 3, [39] = 1 }, .sum = 1000 };
	struct lmp_metrics *m;
	size_t len;
	char *out;

	assert_int_equal(lmp_metrics_new(100, &m), 0);
	lmp_metrics_hist_add(m, &lmp_test_connlat, &pod_a, NULL, &h);
	lmp_metrics_hist_add(m, &lmp_test_connlat, &id, NULL, &h);
	lmp_metrics_hist_add(m, &iosize, &host, NULL, &h);
	lmp_metrics_add(m, &syscalls, &id, "read", 3);
	lmp_metrics_add(m, &execs, &pod_b, NULL, 1e20);
	lmp_metrics_set2(m, &lmp_metric_probe_up, NULL, "process", "tp_btf", 1);
	lmp_metrics_set(m, &lmp_metric_events_lost_total, NULL, "process", 0);
	lmp_metrics_update_self(m);
	assert_int_equal(lmp_metrics_render(m, &out, &len), 0);
	lmp_test_promtool_check(out, len);
	/* the self metrics are real numbers */
	assert_non_null(strstr(out, "lmp_agent_resident_memory_bytes "));
	assert_null(strstr(out, "lmp_agent_resident_memory_bytes 0\n"));
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_kubelet_stats(void **state)
{
	struct lmp_kubelet_stats st = { .requests_ok = 7,
					.token_reads = 2,
					.last_sync = 1700000000.5,
					.last_duration = 0.012,
					.pods_known = 12,
					.containers_known = 30,
					.last_err = LMP_KUBELET_ERR_FORBIDDEN };
	struct lmp_metrics *m;
	char *out;

	st.failures[LMP_KUBELET_ERR_FORBIDDEN] = 3;
	assert_int_equal(lmp_metrics_new(10, &m), 0);
	lmp_metrics_update_kubelet(m, &st);
	st.requests_ok = 8; /* a later interval overwrites, it does not add */
	lmp_metrics_update_kubelet(m, &st);
	out = render(m);
	lmp_test_assert_contains(out,
				 (const char *const[]){
					 "lmp_kubelet_requests_total{result=\"ok\"} 8\n",
					 "lmp_kubelet_requests_total{result=\"forbidden\"} 3\n",
					 "lmp_kubelet_requests_total{result=\"timeout\"} 0\n",
					 "lmp_kubelet_up 0\n",
					 "lmp_kubelet_last_sync_timestamp_seconds 1700000000.5\n",
					 "lmp_kubelet_request_duration_seconds 0.012\n",
					 "\nlmp_kubelet_pods 12\n",
					 "lmp_kubelet_containers 30\n",
					 "lmp_kubelet_token_reads_total 2\n",
					 "lmp_kubelet_pods_source{source=\"kubelet\"} 1\n",
					 "lmp_kubelet_pods_source{source=\"apiserver\"} 0\n",
					 NULL,
				 });
	free(out);
	/* pods from the API-server fallback: a good reply, yet the kubelet is not up */
	st.last_err = LMP_KUBELET_OK;
	st.kubelet_err = LMP_KUBELET_ERR_TLS;
	st.from_apiserver = true;
	st.api_requests[0] = 4;
	lmp_metrics_update_kubelet(m, &st);
	out = render(m);
	lmp_test_assert_contains(out,
				 (const char *const[]){
					 "lmp_kubelet_up 0\n",
					 "lmp_kubelet_pods_source{source=\"apiserver\"} 1\n",
					 "lmp_kubelet_apiserver_requests_total{result=\"ok\"} 4\n",
					 NULL,
				 });
	st.kubelet_err = LMP_KUBELET_OK;
	st.from_apiserver = false;
	lmp_metrics_update_kubelet(m, &st);
	free(out);
	out = render(m);
	assert_non_null(strstr(out, "lmp_kubelet_up 1\n"));
	/* no pod labels and not subject to the per-pod cap of 10 */
	assert_int_equal(lmp_metrics_dropped(m), 0);
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_cgroup_stats(void **state)
{
	struct lmp_cgroup_stats st = { .hits = 90,
				       .misses = 10,
				       .walks = 2,
				       .partial_walks = 5,
				       .not_found = 3,
				       .pending = 6,
				       .pending_hits = 7,
				       .gone = 11,
				       .gone_hits = 12,
				       .gone_evictions = 4,
				       .entries = 40,
				       .gone_entries = 7 };
	struct lmp_metrics *m;
	char *out;

	assert_int_equal(lmp_metrics_new(10, &m), 0);
	lmp_metrics_update_cgroup(m, &st);
	out = render(m);
	lmp_test_assert_contains(out, (const char *const[]){
					      "lmp_cgroup_lookups_total{result=\"hit\"} 90\n",
					      "lmp_cgroup_lookups_total{result=\"miss\"} 10\n",
					      "lmp_cgroup_walks_total{kind=\"whole\"} 2\n",
					      "lmp_cgroup_walks_total{kind=\"targeted\"} 5\n",
					      "lmp_cgroup_not_found_total 3\n",
					      "lmp_cgroup_pending_total 6\n",
					      "lmp_cgroup_lookups_total{result=\"gone\"} 12\n",
					      "lmp_cgroup_lookups_total{result=\"pending\"} 7\n",
					      "lmp_cgroup_gone_total 11\n",
					      "lmp_cgroup_gone_evictions_total 4\n",
					      "lmp_cgroup_gone_cache_entries 7\n",
					      NULL,
				      });
	assert_null(strstr(out, "lmp_cgroup_walk_waits_total"));
	assert_non_null(strstr(out, "lmp_cgroup_cache_entries 40\n"));
	assert_non_null(strstr(out, "lmp_cgroup_file_handles 0\n"));
	free(out);
	lmp_metrics_free(m);
}

static void test_metrics_render_buffer_reuse(void **state)
{
	struct lmp_metrics *m;
	char *a, *b, *c, *first;
	size_t la, lb, lc;

	assert_int_equal(lmp_metrics_new(10, &m), 0);
	lmp_metrics_add(m, &execs, &pod_a, NULL, 1);
	assert_int_equal(lmp_metrics_render(m, &a, &la), 0);
	first = strdup(a);
	/* a buffer handed back is reused by the next render, with the right content */
	lmp_metrics_render_done(m, a);
	lmp_metrics_add(m, &execs, &pod_a, NULL, 1);
	assert_int_equal(lmp_metrics_render(m, &b, &lb), 0);
	assert_ptr_equal(a, b);
	assert_non_null(strstr(b, "lmp_execs_total" POD_A "} 2\n"));
	assert_int_equal(strlen(b), lb);
	/* two renders outstanding: both valid, the older one is freed when handed back */
	assert_int_equal(lmp_metrics_render(m, &c, &lc), 0);
	assert_ptr_not_equal(b, c);
	assert_memory_equal(b, c, strstr(c, "# HELP lmp_agent_cpu") - c);
	lmp_metrics_render_done(m, b);
	lmp_metrics_render_done(m, c);
	lmp_metrics_render_done(m, NULL);
	assert_int_equal(la, strlen(first));
	free(first);
	lmp_metrics_free(m); /* frees the spare: ASan/valgrind see no leak */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_counter_and_node_level),
		cmocka_unit_test(test_metrics_histogram_buckets),
		cmocka_unit_test(test_metrics_histogram_range_only_widens),
		cmocka_unit_test(test_metrics_label_and_help_escaping),
		cmocka_unit_test(test_metrics_long_value_cut_on_utf8_boundary),
		cmocka_unit_test(test_metrics_series_cap_counts_drops),
		cmocka_unit_test(test_metrics_expire_removes_only_stale),
		cmocka_unit_test(test_metrics_many_series_rehash),
		cmocka_unit_test(test_metrics_invalid_desc_is_counted),
		cmocka_unit_test(test_metrics_quantile_interpolates),
		cmocka_unit_test(test_metrics_pods_json_last_interval),
		cmocka_unit_test(test_metrics_promtool_accepts_render),
		cmocka_unit_test(test_metrics_kubelet_stats),
		cmocka_unit_test(test_metrics_cgroup_stats),
		cmocka_unit_test(test_metrics_render_buffer_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The deaths module's decisions without a kernel: records as the three probes deliver them,
 * in the orders the ring buffers may hand them over, and the death record, the API document
 * and its bounds that result; the OOM post-mortem's parsers on both cgroup file layouts.
 * (tests/integration/test_deaths.c checks the same against real processes and signals.)
 */
/* wrap: lmp_ident_lookup */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "lmp/oomkill.h"
#include "lmp/process.h"
#include "lmp/sigsnoop.h"
#include "deaths/deaths.h"
#include "k8s/identity.h"
#include "expose/metrics.h"
#include "deaths/oompm.h"
#include "expose/out.h"
#include "probe/probe.h"

#define HOST_CG 1
#define POD_CG 42     /* shop/cart-7d9 container cart */
#define OTHER_CG 43   /* shop/web-1 container nginx */
#define MANY_CG 10000 /* 10000 + i: ns-i/pod-i container c */

static char names[2][32];

void __wrap_lmp_ident_lookup(struct lmp_ident *ic, __u64 cgroup_id, struct lmp_identity *out)
{
	memset(out, 0, sizeof(*out));
	out->cgroup_id = cgroup_id;
	if (cgroup_id == HOST_CG) {
		out->cgroup = "/";
	} else if (cgroup_id == POD_CG || cgroup_id == OTHER_CG) {
		out->cgroup = "/kubepods.slice/pod";
		out->namespace = "shop";
		out->pod = cgroup_id == POD_CG ? "cart-7d9" : "web-1";
		out->container = cgroup_id == POD_CG ? "cart" : "nginx";
	} else if (cgroup_id >= MANY_CG) {
		snprintf(names[0], sizeof(names[0]), "ns-%llu", cgroup_id - MANY_CG);
		snprintf(names[1], sizeof(names[1]), "pod-%llu", cgroup_id - MANY_CG);
		out->namespace = names[0];
		out->pod = names[1];
		out->container = "c";
	}
}

struct fx {
	struct lmp_rt rt;
	struct lmp_deaths *d;
	int fds[2];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(pipe2(f->fds, O_NONBLOCK), 0); /* reads of nothing must not wait */
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, f->fds[1], "node-a", &f->rt.out), 0);
	assert_int_equal(lmp_metrics_new(10000, &f->rt.metrics), 0);
	assert_int_equal(lmp_deaths_new(NULL, &f->rt, &f->d), 0);
	f->rt.deaths = f->d;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lmp_deaths_free(f->d);
	lmp_metrics_free(f->rt.metrics);
	lmp_out_free(f->rt.out);
	close(f->fds[0]);
	close(f->fds[1]);
	free(f);
	return 0;
}

/* settle everything, then the death lines printed (a JSON array) */
static json_t *deaths_printed(struct fx *f)
{
	json_t *arr = json_array();
	char buf[65536], *line, *save;
	ssize_t n;

	lmp_deaths_settle(f->d, 0);
	lmp_out_flush(f->rt.out);
	n = read(f->fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(arr, json_loads(line, 0, NULL));
	return arr;
}

static void hdr(struct lmp_event_hdr *h, __u64 ts_ms, __u32 pid, __u64 cg, const char *comm)
{
	h->ts_ns = ts_ms * 1000000ULL;
	h->pid = h->tid = pid;
	h->cgroup_id = cg;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

static void sig(struct fx *f, __u64 ts_ms, __u32 from, __u64 from_cg, const char *comm, __u32 to,
		__u64 to_cg, int signo, __u32 via)
{
	struct lmp_sigsnoop_event e = { 0 };

	hdr(&e.hdr, ts_ms, from, from_cg, comm);
	e.target_pid = e.target_tid = to;
	e.target_cgroup_id = to_cg;
	e.sig = signo;
	e.via = via;
	e.delivery = LMP_SIG_DELIVERED;
	lmp_deaths_on_signal(f->d, &e);
}

static void die(struct fx *f, __u64 ts_ms, __u32 pid, __u64 cg, __u32 ns_pid, int signo, int code)
{
	struct lmp_process_exit e = { 0 };

	hdr(&e.hdr, ts_ms, pid, cg, "app");
	e.ns_pid = ns_pid;
	e.ns_level = 1;
	e.signal = signo;
	e.exit_code = code;
	e.lifetime_ns = 5000000000ULL;
	lmp_deaths_on_exit(f->d, &e);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_grace_period_from_kubelet(void **state)
{
	struct fx *f = *state;
	json_t *arr, *ev;

	/* the exit comes first: ring buffers hand records over in no fixed order */
	die(f, 31000, 500, POD_CG, 1, SIGKILL, 0);
	sig(f, 1000, 77, HOST_CG, "kubelet", 500, POD_CG, SIGTERM, LMP_SIG_VIA_KILL);
	sig(f, 31000, 812, HOST_CG, "containerd-shim", 500, POD_CG, SIGKILL, LMP_SIG_VIA_KILL);
	arr = deaths_printed(f);
	assert_int_equal(json_array_size(arr), 1);
	ev = json_array_get(arr, 0);
	assert_string_equal(jstr(ev, "probe"), "container");
	assert_string_equal(jstr(ev, "event"), "death");
	assert_string_equal(jstr(ev, "cause"), "signal");
	assert_true(json_is_true(json_object_get(ev, "main_process")));
	assert_int_equal(json_integer_value(json_object_get(ev, "status_code")), 137);
	assert_string_equal(jstr(json_object_get(ev, "sender"), "role"), "containerd-shim");
	assert_true(json_real_value(json_object_get(ev, "grace_period_s")) == 30.0);
	assert_string_equal(jstr(ev, "summary"),
			    "SIGKILL from containerd-shim (pid 812) 30.0 s after SIGTERM from "
			    "kubelet (pid 77): grace period ran out; the container's main "
			    "process: the container stops");
	json_decref(arr);
}

static void test_oom_kill_of_a_worker(void **state)
{
	struct fx *f = *state;
	struct lmp_oomkill_event o = { 0 };
	struct lmp_oompm pm = { 0 };
	json_t *arr, *ev;

	hdr(&o.hdr, 2000, 600, POD_CG, "worker");
	o.memcg_found = 1;
	o.memcg_v2 = 1;
	o.scope = LMP_OOM_SCOPE_MEMCG;
	o.memcg_limit_bytes = 256ULL << 20;
	o.memcg_usage_bytes = 256ULL << 20;
	o.anon_rss_bytes = 241ULL << 20;
	o.trigger_pid = 600;
	pm.stat_read = true;
	pm.slab.have = true;
	pm.slab.v = 1 << 20;
	lmp_deaths_on_oom(f->d, &o, "/kubepods.slice/pod", &pm);
	sig(f, 2000, 600, POD_CG, "worker", 600, POD_CG, SIGKILL, LMP_SIG_VIA_KERNEL);
	die(f, 2001, 600, POD_CG, 7, SIGKILL, 0);
	arr = deaths_printed(f);
	assert_int_equal(json_array_size(arr), 1);
	ev = json_array_get(arr, 0);
	assert_string_equal(jstr(ev, "cause"), "oom_kill");
	assert_true(json_is_false(json_object_get(ev, "main_process")));
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(ev, "oom"), "memory_stat"), "slab_bytes")),
		1 << 20);
	assert_true(json_is_null(json_object_get(
		json_object_get(json_object_get(ev, "oom"), "memory_stat"), "anon_bytes")));
	assert_string_equal(jstr(ev, "summary"),
			    "OOM-killed: container memory limit 256 MiB reached (usage 256 MiB, "
			    "victim anon 241 MiB); killed by the kernel; not the container's "
			    "main process: the container keeps running");
	json_decref(arr);
}

static void test_abort_is_a_kernel_signal(void **state)
{
	struct fx *f = *state;
	json_t *arr, *ev;

	sig(f, 3000, 700, POD_CG, "app", 700, POD_CG, SIGABRT, LMP_SIG_VIA_TGKILL);
	die(f, 3000, 700, POD_CG, 1, SIGABRT, 0);
	arr = deaths_printed(f);
	ev = json_array_get(arr, 0);
	assert_string_equal(jstr(ev, "cause"), "kernel_signal");
	assert_string_equal(jstr(json_object_get(ev, "sender"), "role"), "itself");
	assert_string_equal(jstr(ev, "summary"), "SIGABRT raised by the process itself; the "
						 "container's main process: the container stops");
	json_decref(arr);
}

static void test_no_record_for_host_or_normal_worker_exit(void **state)
{
	struct fx *f = *state;
	json_t *arr;

	die(f, 4000, 800, HOST_CG, 1, SIGKILL, 0); /* not a pod */
	die(f, 4000, 801, POD_CG, 5, 0, 0);	   /* a worker returning */
	arr = deaths_printed(f);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
}

static void test_reused_pid_keeps_no_old_signal(void **state)
{
	struct fx *f = *state;
	json_t *arr, *ev;

	/* a signal to pid 900 in another container, then pid 900 of this one dies */
	sig(f, 5000, 77, HOST_CG, "kubelet", 900, OTHER_CG, SIGKILL, LMP_SIG_VIA_KILL);
	die(f, 6000, 900, POD_CG, 1, SIGKILL, 0);
	arr = deaths_printed(f);
	ev = json_array_get(arr, 0);
	assert_string_equal(jstr(ev, "cause"), "signal");
	assert_null(json_object_get(ev, "sender"));
	assert_string_equal(jstr(ev, "summary"), "SIGKILL from an unknown sender; the container's "
						 "main process: the container stops");
	json_decref(arr);
}

static void test_exit_after_sigterm_from_another_pod(void **state)
{
	struct fx *f = *state;
	json_t *arr, *ev;

	sig(f, 7000, 950, OTHER_CG, "curl", 960, POD_CG, SIGTERM, LMP_SIG_VIA_KILL);
	die(f, 7500, 960, POD_CG, 1, 0, 0);
	arr = deaths_printed(f);
	ev = json_array_get(arr, 0);
	assert_string_equal(jstr(ev, "cause"), "exit");
	assert_int_equal(json_integer_value(json_object_get(ev, "exit_code")), 0);
	assert_string_equal(jstr(ev, "summary"), "exited with code 0, 0.5 s after SIGTERM from pod "
						 "shop/web-1 (curl, pid 950); the container's main "
						 "process: the container stops");
	json_decref(arr);
}

/* the API keeps the last 8 per container, newest first, and at most 256 containers */
static void test_api_bounds(void **state)
{
	struct fx *f = *state;
	char *doc, ns[32], pod[32];
	size_t len;
	json_t *j, *arr;

	/* more lines than a pipe holds: these go to /dev/null */
	lmp_out_free(f->rt.out);
	assert_int_equal(lmp_out_new(LMP_OUTPUT_JSON, open("/dev/null", O_WRONLY | O_CLOEXEC),
				     "node-a", &f->rt.out),
			 0);
	for (int i = 0; i <= LMP_DEATHS_CONTAINERS; i++)
		die(f, 10000 + i, 3000 + i, MANY_CG + i, 1, 0, 0);
	for (int i = 0; i < 12; i++)
		die(f, 20000 + i, 1000 + i, POD_CG, 1, 0, i);
	lmp_deaths_settle(f->d, 0);

	assert_int_equal(lmp_deaths_json(f->d, "shop", "cart-7d9", NULL, &doc, &len), 0);
	j = json_loads(doc, 0, NULL);
	free(doc);
	arr = json_object_get(j, "deaths");
	assert_int_equal(json_array_size(arr), LMP_DEATHS_PER_CONTAINER);
	for (size_t i = 0; i < json_array_size(arr); i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, i), "pid")),
				 1011 - i);
	json_decref(j);
	/* two containers more than places: the two whose last death is oldest made room */
	assert_int_equal(lmp_deaths_json(f->d, "ns-0", NULL, NULL, &doc, &len), 0);
	assert_string_equal(doc, "{\"deaths\":[]}");
	free(doc);
	assert_int_equal(lmp_deaths_json(f->d, "ns-1", NULL, NULL, &doc, &len), 0);
	assert_string_equal(doc, "{\"deaths\":[]}");
	free(doc);
	assert_int_equal(lmp_deaths_json(f->d, "ns-2", NULL, NULL, &doc, &len), 0);
	assert_string_not_equal(doc, "{\"deaths\":[]}");
	free(doc);
	snprintf(ns, sizeof(ns), "ns-%d", LMP_DEATHS_CONTAINERS);
	snprintf(pod, sizeof(pod), "pod-%d", LMP_DEATHS_CONTAINERS);
	assert_int_equal(lmp_deaths_json(f->d, ns, pod, "c", &doc, &len), 0);
	j = json_loads(doc, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "deaths")), 1);
	json_decref(j);
	free(doc);
	assert_int_equal(lmp_deaths_json(f->d, "shop", "cart-7d9", "nope", &doc, &len), 0);
	assert_string_equal(doc, "{\"deaths\":[]}");
	free(doc);
}

static void test_parse_v2_files(void **state)
{
	struct lmp_oompm pm = { 0 };
	double some, full;

	lmp_oompm_parse_stat("anon 241000000\nfile 1200\nkernel 9000\nkernel_stack 100\n"
			     "slab 5000\nsock 40\nshmem 7\nfile_mapped 3\n",
			     true, &pm);
	assert_true(pm.anon.have && pm.anon.v == 241000000);
	assert_true(pm.file.have && pm.file.v == 1200);
	assert_true(pm.kernel.have && pm.kernel.v == 9000); /* not kernel_stack */
	assert_true(pm.slab.have && pm.slab.v == 5000);
	assert_true(pm.sock.have && pm.sock.v == 40);
	assert_true(pm.shmem.have && pm.shmem.v == 7);
	lmp_oompm_parse_events("low 0\nhigh 3\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n", true,
			       &pm);
	assert_true(pm.ev_max.have && pm.ev_max.v == 12);
	assert_true(pm.ev_oom_kill.have && pm.ev_oom_kill.v == 1); /* not oom_group_kill */
	assert_true(lmp_oompm_parse_psi("some avg10=12.50 avg60=1.00 avg300=0.00 total=9\n"
					"full avg10=3.25 avg60=0.00 avg300=0.00 total=2\n",
					&some, &full));
	assert_true(some == 12.5 && full == 3.25);
	assert_false(lmp_oompm_parse_psi("", &some, &full));
}

static void test_parse_v1_files(void **state)
{
	struct lmp_oompm pm = { 0 };

	lmp_oompm_parse_stat("cache 10\nrss 20\nshmem 1\ntotal_cache 100\ntotal_rss 200\n"
			     "total_shmem 5\n",
			     false, &pm);
	assert_true(pm.anon.have && pm.anon.v == 200); /* the hierarchical totals */
	assert_true(pm.file.have && pm.file.v == 100);
	assert_true(pm.shmem.have && pm.shmem.v == 5);
	assert_false(pm.slab.have);
	lmp_oompm_parse_events("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n", false, &pm);
	assert_true(pm.ev_oom_kill.have && pm.ev_oom_kill.v == 4);
	assert_false(pm.ev_max.have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grace_period_from_kubelet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_kill_of_a_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_is_a_kernel_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_record_for_host_or_normal_worker_exit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reused_pid_keeps_no_old_signal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exit_after_sigterm_from_another_pod, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_api_bounds, setup, teardown),
		cmocka_unit_test(test_parse_v2_files),
		cmocka_unit_test(test_parse_v1_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

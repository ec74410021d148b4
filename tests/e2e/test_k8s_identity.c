// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes identity end to end, as root, with the real agent: an HTTPS kubelet stand-in
 * on 127.0.0.1 (tests/lib/fake_kubelet) serving real PodList captures and checking the
 * bearer token, real kubepods-style cgroups in this host's cgroup v2 tree for several of
 * those pods (systemd and cgroupfs drivers, containerd and docker IDs, a Guaranteed pod,
 * static pods), a process exec'd inside each. The agent's events must carry exactly that
 * pod's namespace, name and container. Then every kubelet fault, one at a time, against
 * the running agent: events keep flowing, the cause is logged once, the agent recovers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fixtures.h"
#include "fake_kubelet.h"
#include "harness.h"

#define NODE "lmp-e2e-node"

struct pod {
	const char *what;
	const char *rel; /* cgroup below the test prefix */
	const char *ns, *name, *container, *uid, *cid;
	char path[4096];
};

/* IDs and names as in fixtures/kubelet/nri-kubernetes_k8s-1_{22,16}_pods.json */
static struct pod pods[] = {
	{ "systemd driver, containerd, BestEffort",
	  "kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod394f0746_6390_45cd_bf37_db389c0c7d1e.slice/"
	  "cri-containerd-7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8.scope",
	  "kube-system", "storage-provisioner", "storage-provisioner",
	  "394f0746-6390-45cd-bf37-db389c0c7d1e",
	  "7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8" },
	{ "systemd driver, containerd, Guaranteed (pod slice right under kubepods.slice)",
	  "kubepods.slice/kubepods-podc971f3b1_082a_4448_adf8_6ca14a9fee45.slice/"
	  "cri-containerd-11d9d0bc0acc90eefd786a66bab2cab6fc87ab8ef5e200bb2c9871807ad53b4d.scope",
	  "kube-system", "kindnet-q6dh9", "kindnet-cni", "c971f3b1-082a-4448-adf8-6ca14a9fee45",
	  "11d9d0bc0acc90eefd786a66bab2cab6fc87ab8ef5e200bb2c9871807ad53b4d" },
	{ "cgroupfs driver, containerd, static pod (32-hex UID)",
	  "kubepods/burstable/pod8a8c5d5f7bc5cd7378b5001b9d325f72/"
	  "bcb3b004d48eeeb3ec6490bfa978e9df0170ec79093e7244364aff1bf65fd4e8",
	  "kube-system", "etcd-datagen-1-22", "etcd", "8a8c5d5f7bc5cd7378b5001b9d325f72",
	  "bcb3b004d48eeeb3ec6490bfa978e9df0170ec79093e7244364aff1bf65fd4e8" },
	{ "cgroupfs driver, docker, Burstable",
	  "kubepods/burstable/podb3894557-599e-4065-b11f-74ed49fdb582/"
	  "c6fb6656f14d0aec126100aacb51cb4172b2fc0037663569390c82e3f429ed72",
	  "kube-system", "coredns-5644d7b6d9-nz2s7", "coredns",
	  "b3894557-599e-4065-b11f-74ed49fdb582",
	  "c6fb6656f14d0aec126100aacb51cb4172b2fc0037663569390c82e3f429ed72" },
	{ "systemd driver, docker, static pod",
	  "kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod84d4ba8d0f3f962285463532428c2615.slice/"
	  "docker-73011626531ac62b595d64fa4d39f8cccbc362a2927187fc1bbd9c23d95f00ba.scope",
	  "kube-system", "kube-scheduler-minikube", "kube-scheduler",
	  "84d4ba8d0f3f962285463532428c2615",
	  "73011626531ac62b595d64fa4d39f8cccbc362a2927187fc1bbd9c23d95f00ba" },
	{ "cgroupfs driver, containerd, another namespace",
	  "kubepods/besteffort/pod2f4e2d7b-53cd-4738-ab4a-52580f96717a/"
	  "045b9285e586c9ca029b257008a91f2c1da57775aac28fb9356d382c19adb601",
	  "scraper", "e2e-statefulset-0", "busybox", "2f4e2d7b-53cd-4738-ab4a-52580f96717a",
	  "045b9285e586c9ca029b257008a91f2c1da57775aac28fb9356d382c19adb601" },
};

/* a pod the kubelet does not list at first */
#define LATE_UID "5f1c2a1e-6d7b-4c3e-9a0b-1e2f3a4b5c6d"
#define LATE_CID "e2e0000000000000000000000000000000000000000000000000000000000001"

struct ctx {
	struct lmp_test_agent agent;
	struct fake_kubelet *fk;
	char dir[64], token_file[128], prefix[128];
	json_t *podlist;
	char pod_level[4096], plain[4096], late[4096];
};

static struct ctx C;

static const char *fixture(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	return p;
}

static void write_token(const char *tok)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", C.token_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", tok);
	fclose(f);
	assert_int_equal(rename(tmp, C.token_file), 0);
}

/* Serve the merged PodList, plus the late pod when asked. */
static int serve(bool with_late)
{
	json_t *pl = json_deep_copy(C.podlist);
	char *s;
	int r;

	if (with_late)
		json_array_append_new(json_object_get(pl, "items"),
				      json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:[{s:s,s:s}]}}",
						"metadata", "namespace", "e2e", "name", "born-late",
						"uid", LATE_UID, "status", "qosClass", "BestEffort",
						"containerStatuses", "name", "app", "containerID",
						"containerd://" LATE_CID));
	s = json_dumps(pl, JSON_COMPACT);
	json_decref(pl);
	r = s ? fake_kubelet_set_body(C.fk, s, strlen(s)) : -ENOMEM;
	free(s);
	return r;
}

static int mk(const char *rel, char *path, size_t len)
{
	char full[4096];

	snprintf(full, sizeof(full), "%s/%s", C.prefix, rel);
	return lmp_test_cgroup_create(full, path, len, NULL);
}

static int setup(void **state)
{
	json_t *a, *b;

	lmp_test_require_root();
	strcpy(C.dir, "/tmp/lmp-e2e-k8s-XXXXXX");
	if (!mkdtemp(C.dir))
		return -1;
	snprintf(C.token_file, sizeof(C.token_file), "%s/token", C.dir);
	snprintf(C.prefix, sizeof(C.prefix), "lmp-test/k8s-%d", getpid());
	write_token("e2e-token-1");
	/* two real captures merged: containerd (1.22) and docker (1.16) pods on one node */
	a = json_load_file(fixture("nri-kubernetes_k8s-1_22_pods.json"), 0, NULL);
	b = json_load_file(fixture("nri-kubernetes_k8s-1_16_pods.json"), 0, NULL);
	if (!a || !b)
		return -1;
	json_array_extend(json_object_get(a, "items"), json_object_get(b, "items"));
	json_decref(b);
	C.podlist = a;
	if (fake_kubelet_start(C.dir, 0, &C.fk) < 0 || serve(false) < 0)
		return -1;
	fake_kubelet_set_token(C.fk, "e2e-token-1");
	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++)
		if (mk(pods[i].rel, pods[i].path, sizeof(pods[i].path)) < 0)
			return -1;
	if (mk("kubepods/burstable/podb3894557-599e-4065-b11f-74ed49fdb582", C.pod_level,
	       sizeof(C.pod_level)) < 0 ||
	    mk("system.slice/not-a-pod.service", C.plain, sizeof(C.plain)) < 0 ||
	    mk("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	       "5f1c2a1e_6d7b_4c3e_9a0b_1e2f3a4b5c6d.slice/cri-containerd-" LATE_CID ".scope",
	       C.late, sizeof(C.late)) < 0)
		return -1;
	/* --kubelet-refresh 2: requests time out after 1 s and back-off tops out at 2 s */
	if (lmp_test_agent_start(&C.agent,
				 (const char *const[]){ "--probes", "process", "--output", "json",
							"--node-name", NODE, "--kubelet-url",
							fake_kubelet_url(C.fk), "--kubelet-ca-file",
							fake_kubelet_ca_file(C.fk),
							"--kubelet-token-file", C.token_file,
							"--kubelet-refresh", "2", NULL }) < 0)
		return -1;
	/* the first sync is logged once done */
	lmp_test_agent_pump(&C.agent, 0);
	for (int i = 0; i < 50 && !lmp_test_agent_stderr_has(&C.agent, "kubelet: "); i++)
		lmp_test_agent_pump(&C.agent, 100);
	*state = &C;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	lmp_test_agent_free(&C.agent);
	fake_kubelet_free(C.fk);
	json_decref(C.podlist);
	/* the whole per-run tree, deepest first (cgroups go with rmdir only) */
	if (lmp_test_sh("find '%s/%s' -depth -type d -exec rmdir {} + 2>/dev/null",
			lmp_test_cgroup2_root(), C.prefix) != 0)
		fprintf(stderr, "cannot remove cgroups under %s\n", C.prefix);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", C.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", C.dir);
	return 0;
}

/* exec argv inside cgroup path; returns the exec event */
static json_t *exec_in(const char *path, char *const argv[], const char *event)
{
	struct lmp_test_want w = { "process", event, 0 };
	pid_t pid = lmp_test_spawn(path, argv);

	assert_true(pid > 0);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
	w.pid = pid;
	return lmp_test_agent_wait(&C.agent, 5000, lmp_test_match_want, &w);
}

static const char *k8s(json_t *ev, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, "k8s"), key));
}

static void assert_pod(json_t *ev, const struct pod *p)
{
	assert_non_null(ev);
	if (!json_object_get(ev, "k8s"))
		fail_msg("%s: no k8s object in %s", p->what, json_dumps(ev, JSON_COMPACT));
	assert_string_equal(json_string_value(json_object_get(ev, "node")), NODE);
	assert_string_equal(k8s(ev, "namespace"), p->ns);
	assert_string_equal(k8s(ev, "pod"), p->name);
	assert_string_equal(k8s(ev, "container"), p->container);
	assert_string_equal(k8s(ev, "pod_uid"), p->uid);
	assert_string_equal(k8s(ev, "container_id"), p->cid);
}

static void test_k8s_events_carry_their_pod(void **state)
{
	char *argv[] = { "/bin/true", NULL };

	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		json_t *ev = exec_in(pods[i].path, argv, "exec");
		const char *cg;

		assert_pod(ev, &pods[i]);
		/* and the cgroup path, relative to the v2 root, ends in the pod's cgroup */
		cg = json_string_value(json_object_get(ev, "cgroup"));
		assert_non_null(cg);
		assert_non_null(strstr(cg, pods[i].rel));
		assert_pod(exec_in(pods[i].path, argv, "exit"), &pods[i]);
	}
}

static bool has_pid(json_t *ev, void *ctx)
{
	return json_integer_value(json_object_get(ev, "pid")) == *(pid_t *)ctx;
}

/* --exclude-namespaces: a second agent drops kube-system's events, keeps the host's */
static void test_k8s_namespace_filter(void **state)
{
	struct lmp_test_agent a2;
	char *argv[] = { "/bin/true", NULL };
	struct lmp_test_want w = { "process", "exec", 0 };
	pid_t in_pod, on_host;

	assert_int_equal(
		lmp_test_agent_start(
			&a2, (const char *const[]){ "--probes", "process", "--node-name", NODE,
						    "--kubelet-url", fake_kubelet_url(C.fk),
						    "--kubelet-ca-file", fake_kubelet_ca_file(C.fk),
						    "--kubelet-token-file", C.token_file,
						    "--exclude-namespaces", "default,kube-system",
						    NULL }),
		0);
	for (int i = 0; i < 50 && !lmp_test_agent_stderr_has(&a2, "kubelet: "); i++)
		lmp_test_agent_pump(&a2, 100);
	in_pod = lmp_test_spawn(pods[0].path, argv);
	lmp_test_wait_child(in_pod);
	on_host = lmp_test_spawn(C.plain, argv);
	lmp_test_wait_child(on_host);
	w.pid = on_host;
	assert_non_null(lmp_test_agent_wait(&a2, 5000, lmp_test_match_want, &w));
	lmp_test_agent_pump(&a2, 1500); /* past the 1 s hold bound */
	assert_null(lmp_test_agent_wait(&a2, 0, has_pid, &in_pod));
	/* the unfiltered agent saw both */
	w.pid = in_pod;
	assert_non_null(lmp_test_agent_wait(&C.agent, 5000, lmp_test_match_want, &w));
	assert_true(lmp_test_agent_stop(&a2, 2000) >= 0);
	lmp_test_agent_free(&a2);
}

static void test_k8s_pod_level_and_plain_cgroups(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	json_t *ev;

	/* in the pod's own cgroup, no container: pod known, container not */
	ev = exec_in(C.pod_level, argv, "exec");
	assert_non_null(ev);
	assert_string_equal(k8s(ev, "namespace"), "kube-system");
	assert_string_equal(k8s(ev, "pod"), "coredns-5644d7b6d9-nz2s7");
	assert_null(k8s(ev, "container"));
	assert_null(k8s(ev, "container_id"));
	/* not a pod: cgroup path only */
	ev = exec_in(C.plain, argv, "exec");
	assert_non_null(ev);
	assert_null(json_object_get(ev, "k8s"));
	assert_non_null(strstr(json_string_value(json_object_get(ev, "cgroup")),
			       "system.slice/not-a-pod.service"));
}

/*
 * A pod the kubelet starts listing only now: the miss makes the agent ask again at once,
 * not at the next periodic refresh. The process lives 1.5 s; its exit is labelled.
 */
static void test_k8s_new_pod_is_labelled_without_waiting_for_the_period(void **state)
{
	char *argv[] = { "/bin/sleep", "1.5", NULL };
	struct pod late = { "late pod", "", "e2e", "born-late", "app", LATE_UID, LATE_CID };
	unsigned before = fake_kubelet_requests(C.fk);
	json_t *ev;

	assert_int_equal(serve(true), 0);
	ev = exec_in(C.late, argv, "exit");
	assert_pod(ev, &late);
	assert_true(fake_kubelet_requests(C.fk) > before);
	assert_int_equal(serve(false), 0);
}

/*
 * The same, for the exec event itself: issue 3 wants no event to go out unlabelled just
 * because its pod is new, holding it (<= 1 s) while the refresh runs. This needs the
 * agent's event path to use lmp_ident_pending() / lmp_ident_on_sync().
 */
static void test_k8s_new_pod_exec_is_held_until_labelled(void **state)
{
	char *argv[] = { "/bin/true", NULL };
	char rel[512], path[4096];
	struct pod late = { "late pod, exec",
			    "",
			    "e2e",
			    "born-late-2",
			    "app",
			    "6a2d3b2f-7e8c-4d4f-8b1c-2f3a4b5c6d7e",
			    "e2e0000000000000000000000000000000000000000000000000000000000002" };
	json_t *pl = json_deep_copy(C.podlist);
	char *s;

	snprintf(rel, sizeof(rel),
		 "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
		 "6a2d3b2f_7e8c_4d4f_8b1c_2f3a4b5c6d7e.slice/cri-containerd-%s.scope",
		 late.cid);
	assert_int_equal(mk(rel, path, sizeof(path)), 0);
	json_array_append_new(json_object_get(pl, "items"),
			      json_pack("{s:{s:s,s:s,s:s},s:{s:[{s:s,s:s}]}}", "metadata",
					"namespace", "e2e", "name", "born-late-2", "uid", late.uid,
					"status", "containerStatuses", "name", "app", "containerID",
					"containerd://e2e00000000000000000000000000000"
					"00000000000000000000000000000002"));
	s = json_dumps(pl, JSON_COMPACT);
	json_decref(pl);
	fake_kubelet_set_body(C.fk, s, strlen(s));
	free(s);
	assert_pod(exec_in(path, argv, "exec"), &late);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

struct fault {
	const char *name, *cause; /* cause as logged: "kubelet /pods failed (<cause>)" */
	void (*inject)(void);
	void (*heal)(void);
};

static void f401(void)
{
	fake_kubelet_set_fault(C.fk, FK_401, 0);
}
static void f403(void)
{
	fake_kubelet_set_fault(C.fk, FK_403, 0);
}
static void f500(void)
{
	fake_kubelet_set_fault(C.fk, FK_500, 0);
}
static void fhtml(void)
{
	fake_kubelet_set_fault(C.fk, FK_NOT_JSON, 0);
}
static void fcut(void)
{
	fake_kubelet_set_fault(C.fk, FK_CUT_JSON, 0);
}
static void fdrop(void)
{
	fake_kubelet_set_fault(C.fk, FK_CUT_TRANSFER, 0);
}
static void fslow(void)
{
	fake_kubelet_set_fault(C.fk, FK_SLOW, 2500);
}
static void heal_fault(void)
{
	fake_kubelet_set_fault(C.fk, FK_OK, 0);
}
static void fdown(void)
{
	fake_kubelet_down(C.fk);
}
static void heal_down(void)
{
	assert_int_equal(fake_kubelet_up(C.fk), 0);
}
static void fca(void)
{
	assert_int_equal(fake_kubelet_set_cert(C.fk, FK_CERT_OTHER_CA), 0);
}
static void fname(void)
{
	assert_int_equal(fake_kubelet_set_cert(C.fk, FK_CERT_WRONG_NAME), 0);
}
static void heal_cert(void)
{
	assert_int_equal(fake_kubelet_set_cert(C.fk, FK_CERT_GOOD), 0);
}
static void ftoken(void)
{
	assert_int_equal(unlink(C.token_file), 0);
}
static void heal_token(void)
{
	write_token("e2e-token-1");
}
static void frotate(void)
{
	fake_kubelet_set_token(C.fk, "e2e-token-2");
}
static void heal_rotate(void)
{
	write_token("e2e-token-2");
}

static void test_k8s_faults_one_by_one(void **state)
{
	static const struct fault faults[] = {
		{ "HTTP 401", "unauthorized", f401, heal_fault },
		{ "HTTP 403", "forbidden", f403, heal_fault },
		{ "HTTP 500", "http", f500, heal_fault },
		{ "not JSON", "body", fhtml, heal_fault },
		{ "JSON cut short", "body", fcut, heal_fault },
		{ "connection dropped mid-reply", "transfer", fdrop, heal_fault },
		{ "reply slower than the timeout", "timeout", fslow, heal_fault },
		{ "kubelet unreachable", "connect", fdown, heal_down },
		{ "certificate from an unknown CA", "tls", fca, heal_cert },
		{ "certificate for another name", "tls", fname, heal_cert },
		{ "token file gone, then back", "token", ftoken, heal_token },
		{ "token rotated on the kubelet before the file", "unauthorized", frotate,
		  heal_rotate },
	};
	char *argv[] = { "/bin/true", NULL };

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		const struct fault *f = &faults[i];
		char logged[128];
		size_t recovered = count(C.agent.errbuf, "kubelet: recovered"), before;
		json_t *ev;

		snprintf(logged, sizeof(logged), "kubelet /pods failed (%s)", f->cause);
		before = count(C.agent.errbuf, logged);
		f->inject();
		/* the next periodic request fails and the cause is logged */
		for (int t = 0; t < 80 && count(C.agent.errbuf, logged) == before; t++)
			lmp_test_agent_pump(&C.agent, 100);
		if (count(C.agent.errbuf, logged) == before)
			fail_msg("%s: the agent never logged '%s'; stderr:\n%s", f->name, logged,
				 C.agent.errbuf);
		/* more failed requests, but no more log lines for the same cause */
		lmp_test_agent_pump(&C.agent, 3500);
		assert_int_equal(count(C.agent.errbuf, logged), before + 1);
		/* events keep flowing, with the names of the last good reply */
		ev = exec_in(pods[i % 6].path, argv, "exec");
		assert_pod(ev, &pods[i % 6]);
		/* heal: the agent finds out by itself */
		f->heal();
		for (int t = 0; t < 80 && count(C.agent.errbuf, "kubelet: recovered") == recovered;
		     t++)
			lmp_test_agent_pump(&C.agent, 100);
		if (count(C.agent.errbuf, "kubelet: recovered") == recovered)
			fail_msg("%s: no recovery logged; stderr:\n%s", f->name, C.agent.errbuf);
	}
	/* nothing is ever logged per event */
	assert_true(count(C.agent.errbuf, "\n") < 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_events_carry_their_pod),
		cmocka_unit_test(test_k8s_pod_level_and_plain_cgroups),
		cmocka_unit_test(test_k8s_new_pod_is_labelled_without_waiting_for_the_period),
		cmocka_unit_test(test_k8s_namespace_filter),
		cmocka_unit_test(test_k8s_faults_one_by_one),
		cmocka_unit_test(test_k8s_new_pod_exec_is_held_until_labelled),
	};

	return cmocka_run_group_tests_name("k8s_identity", tests, setup, teardown) ? 1 : 0;
}

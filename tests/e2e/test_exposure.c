// SPDX-License-Identifier: Apache-2.0
/*
 * Per-node exposure end to end, as root: the real agent with a kubelet stand-in, a pod-style
 * cgroup for a fixture pod, real TCP connects on loopback from inside it. The live /metrics
 * passes promtool, carries that pod's connect-latency histogram with the exact count, /readyz
 * is 503 until the kubelet answered and 200 after, and `lmp top --once` shows the pod.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "fixtures.h"
#include "fake_kubelet.h"
#include "harness.h"

#define POD_REL                                                              \
	"kubepods.slice/kubepods-besteffort.slice/"                          \
	"kubepods-besteffort-pod394f0746_6390_45cd_bf37_db389c0c7d1e.slice/" \
	"cri-containerd-7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8.scope"
#define POD_SEL \
	"namespace=\"kube-system\",pod=\"storage-provisioner\",container=\"storage-provisioner\""
#define CONNECTS 7

static struct {
	char dir[64], token[128], cg[4096], rel[256], listen[64], url[128];
	struct fake_kubelet *fk;
	struct lmp_test_agent agent;
} C;

static const char *fixture(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/kubelet/%s", lmp_test_fixtures_dir(), name);
	return p;
}

/* body of GET url into a malloc'd string; *code gets the HTTP status */
static char *http_get(const char *path, int *code)
{
	char cmd[512], *buf = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "curl -s -m 5 -w '\\n%%{http_code}' %s%s", C.url, path);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	pclose(f);
	if (buf) {
		char *nl = strrchr(buf, '\n');

		*code = nl ? atoi(nl + 1) : 0;
		if (nl)
			*nl = 0;
	}
	return buf;
}

static int setup(void **state)
{
	FILE *f;

	lmp_test_require_root();
	snprintf(C.dir, sizeof(C.dir), "/tmp/lmp-expo-%d", getpid());
	snprintf(C.token, sizeof(C.token), "%s/token", C.dir);
	snprintf(C.rel, sizeof(C.rel), "lmp-test/expo-%d/%s", getpid(), POD_REL);
	snprintf(C.listen, sizeof(C.listen), "127.0.0.1:%d", 20000 + getpid() % 20000);
	snprintf(C.url, sizeof(C.url), "http://%s", C.listen);
	if (fake_kubelet_start(C.dir, 0, &C.fk) < 0 ||
	    fake_kubelet_set_body_file(C.fk, fixture("nri-kubernetes_k8s-1_22_pods.json")) < 0)
		return -1;
	fake_kubelet_set_token(C.fk, "expo-token");
	f = fopen(C.token, "w");
	if (!f)
		return -1;
	fprintf(f, "expo-token\n");
	fclose(f);
	if (lmp_test_cgroup_create(C.rel, C.cg, sizeof(C.cg), NULL) < 0)
		return -1;
	/* the kubelet answers slowly at first: /readyz must wait for it */
	fake_kubelet_set_fault(C.fk, FK_SLOW, 3000);
	if (lmp_test_agent_start(
		    &C.agent, (const char *const[]){ "--probes", "tcpconnlat,process", "--listen",
						     C.listen, "--interval", "1", "--kubelet-url",
						     fake_kubelet_url(C.fk), "--kubelet-ca-file",
						     fake_kubelet_ca_file(C.fk),
						     "--kubelet-token-file", C.token, NULL }) < 0)
		return -1;
	*state = &C;
	return 0;
}

static int teardown(void **state)
{
	lmp_test_agent_free(&C.agent);
	fake_kubelet_free(C.fk);
	lmp_test_sh("find /sys/fs/cgroup/unified/lmp-test/expo-%d /sys/fs/cgroup/lmp-test/expo-%d "
		    "-depth -type d -exec rmdir {} + 2>/dev/null",
		    getpid(), getpid());
	lmp_test_sh("rm -rf '%s'", C.dir);
	return 0;
}

static void test_readyz_waits_for_the_kubelet(void **state)
{
	int code = 0;
	char *body = http_get("/readyz", &code);

	assert_non_null(body);
	assert_int_equal(code, 503); /* probes attached, kubelet not answered yet */
	free(body);
	fake_kubelet_set_fault(C.fk, FK_OK, 0);
	for (int i = 0; i < 100 && code != 200; i++) {
		lmp_test_agent_pump(&C.agent, 100);
		free(http_get("/readyz", &code));
	}
	assert_int_equal(code, 200);
	free(http_get("/healthz", &code));
	assert_int_equal(code, 200);
	free(http_get("/no/such/path", &code));
	assert_int_equal(code, 404);
}

/* CONNECTS connects to a listener on loopback from a child inside the pod's cgroup */
static void connect_from_pod(void)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char cmd[256], *argv[] = { "/bin/sh", "-c", cmd, NULL };

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 64), 0);
	getsockname(ls, (struct sockaddr *)&a, &alen);
	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq %d); do exec 3<>/dev/tcp/127.0.0.1/%d; exec 3<&-; done", CONNECTS,
		 ntohs(a.sin_port));
	argv[0] = "/bin/bash";
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(lmp_test_spawn(C.cg, argv))), 0);
	close(ls);
}

static double pod_connect_count(const char *metrics)
{
	const char *p = strstr(metrics, "lmp_tcp_connect_latency_seconds_count{" POD_SEL);

	return p ? atof(strchr(p, '}') + 1) : -1;
}

static void test_pod_histogram_promtool_and_top(void **state)
{
	char *metrics = NULL, path[128], cmd[512];
	double count = -1;
	int code = 0;
	FILE *f;

	connect_from_pod();
	for (int i = 0; i < 50 && count < CONNECTS; i++) {
		lmp_test_agent_pump(&C.agent, 200);
		free(metrics);
		metrics = http_get("/metrics", &code);
		count = metrics ? pod_connect_count(metrics) : -1;
	}
	assert_int_equal(code, 200);
	if (count != CONNECTS)
		fail_msg("lmp_tcp_connect_latency_seconds_count for the pod is %g, want %d", count,
			 CONNECTS);
	/* the live scrape is valid exposition format */
	snprintf(path, sizeof(path), "%s/metrics.txt", C.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(metrics, f);
	fclose(f);
	assert_int_equal(lmp_test_sh("promtool check metrics < %s >/dev/null 2>&1", path), 0);
	assert_non_null(
		strstr(metrics, "lmp_probe_up{probe=\"tcpconnlat\",attach=\"connect=tp_btf\"} 1"));
	/* the pod's cgroup was resolved: the resolver's counters say so */
	{
		const char *p = strstr(metrics, "lmp_cgroup_lookups_total{result=\"miss\"} ");

		assert_non_null(p);
		assert_true(atof(strchr(p, '}') + 1) >= 1);
		assert_non_null(strstr(metrics, "lmp_cgroup_cache_entries "));
		assert_non_null(strstr(metrics, "lmp_cgroup_walks_total{kind=\"targeted\"} "));
	}
	free(metrics);
	/* lmp top --once shows the pod's row */
	snprintf(cmd, sizeof(cmd), "%s top --once --agent %s | grep -q 'storage-provisioner'",
		 lmp_test_binary(), C.url);
	assert_int_equal(lmp_test_sh("%s", cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s top --once -o json --agent %s | grep -q '\"kube-system\"'",
		 lmp_test_binary(), C.url);
	assert_int_equal(lmp_test_sh("%s", cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readyz_waits_for_the_kubelet),
		cmocka_unit_test(test_pod_histogram_promtool_and_top),
	};

	return cmocka_run_group_tests_name("exposure", tests, setup, teardown);
}

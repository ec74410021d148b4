// SPDX-License-Identifier: Apache-2.0
/*
 * tcprtt against the real kernel. A client process creates its socket in cgroup A, connects
 * to a loopback listener served by the test, then moves itself to cgroup B and sends 8 MiB.
 * The client socket's RTT samples (taken when it receives ACKs, in softirq on behalf of
 * whichever task runs) must be charged to A, the socket's cgroup: A gets samples with a
 * plausible loopback RTT, B (where the sending task now is) gets none. Run for each working
 * hook kind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "tcprtt.skel.h"
#include "harness.h"
#include "probe_check.h"

#define BYTES (8 << 20)

static pid_t spawn_sender(const char *cg_sock, const char *cg_task, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[65536];
	pid_t child = fork();
	size_t sent = 0;
	int fd;

	if (child != 0)
		return child;
	if (lmp_test_cgroup_join(cg_sock) < 0)
		_exit(10);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		_exit(11);
	if (lmp_test_cgroup_join(cg_task) < 0) /* the socket stays charged to cg_sock */
		_exit(12);
	memset(buf, 'r', sizeof(buf));
	while (sent < BYTES) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			_exit(13);
		sent += n;
	}
	close(fd);
	_exit(0);
}

struct tally {
	__u64 cg_sock, cg_task;
	long samples, task_lines;
	double max_p99, min_p50;
};

static bool add(json_t *ev, void *ctx)
{
	struct tally *t = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	__u64 cg = json_integer_value(json_object_get(ev, "cgroup_id"));
	const char *range;
	long in_hist = 0;
	double p50, p99;
	json_t *n;

	if (!probe || strcmp(probe, "tcprtt"))
		return false;
	if (cg == t->cg_task)
		t->task_lines++;
	if (cg != t->cg_sock)
		return false;
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "summary");
	t->samples += json_integer_value(json_object_get(ev, "samples"));
	json_object_foreach(json_object_get(ev, "rtt_hist_ns"), range, n)
		in_hist += json_integer_value(n);
	assert_int_equal(in_hist, json_integer_value(json_object_get(ev, "samples")));
	p50 = json_number_value(json_object_get(ev, "p50_s"));
	p99 = json_number_value(json_object_get(ev, "p99_s"));
	if (p99 > t->max_p99)
		t->max_p99 = p99;
	if (!t->min_p50 || p50 < t->min_p50)
		t->min_p50 = p50;
	return false;
}

static void rtt_seen(struct lmp_test_agent *a, long row);

/* no main agent: each hook row runs its own, on fresh cgroups */
static struct lmp_test_fixture F = {
	.probe = "tcprtt",
	.alt_args = (const char *const[]){ "--interval", "1", "--top", "1000", NULL },
	.workload = rtt_seen,
	.fallbacks = { { NULL, "probe tcprtt: attached (rtt=tp_btf)", 0 },
		       { "tp_btf", "probe tcprtt: attached (rtt=raw_tp)", 1 },
		       { "tp_btf,raw_tp", "probe tcprtt: attached (rtt=tracepoint)", 2 } },
};

static void rtt_seen(struct lmp_test_agent *a, long row)
{
	const char *disable = F.fallbacks[row].disable;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct tally t = { 0 };
	char cg_sock[4096], cg_task[4096];
	static char buf[65536];
	int lfd, cfd, st;
	size_t got = 0;
	ssize_t n;
	pid_t child;

	lmp_test_hooks_cgroup("tcprtt", disable, "sock", cg_sock, sizeof(cg_sock), &t.cg_sock);
	lmp_test_hooks_cgroup("tcprtt", disable, "task", cg_task, sizeof(cg_task), &t.cg_task);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	child = spawn_sender(cg_sock, cg_task, ntohs(sin.sin_port));
	assert_true(child > 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	while ((n = read(cfd, buf, sizeof(buf))) > 0)
		got += n;
	assert_int_equal(got, BYTES);
	st = lmp_test_wait_child(child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(cfd);
	close(lfd);

	for (int waited = 0; waited < 5000 && !t.samples; waited += 500) {
		memset(&t.samples, 0, sizeof(t) - offsetof(struct tally, samples));
		lmp_test_agent_pump(a, 500);
		lmp_test_agent_wait(a, 0, add, &t);
	}
	lmp_test_agent_pump(a, 1200);
	memset(&t.samples, 0, sizeof(t) - offsetof(struct tally, samples));
	lmp_test_agent_wait(a, 0, add, &t);

	assert_true(t.samples > 0);
	assert_int_equal(t.task_lines, 0);
	/* loopback: above zero, far below a second (srtt has microsecond resolution) */
	assert_true(t.min_p50 > 0);
	assert_true(t.max_p99 < 0.5);

	lmp_test_clean_stop(a);
	lmp_test_cgroup_remove(cg_sock);
	lmp_test_cgroup_remove(cg_task);
}

/*
 * The fentry and kprobe alternatives cannot run here. With the tracepoint kinds ruled out
 * the loader must try them and say why each is refused; and the kprobe programs must still
 * be valid BPF: the verifier takes them (kprobe-type programs load without CONFIG_KPROBES).
 */
static void test_function_hooks(void **state)
{
	lmp_test_require_root();
	lmp_test_assert_unsupported(
		"tcprtt", "tp_btf,raw_tp,tracepoint",
		(const char *const[]){ "fentry: ", "kprobe: kprobes are not available", NULL });
	lmp_test_kprobes_load(tcprtt, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LMP_TEST_FALLBACK("test_tp_btf", 0),
		LMP_TEST_FALLBACK("test_raw_tp", 1),
		LMP_TEST_FALLBACK("test_tracepoint", 2),
		cmocka_unit_test(test_function_hooks),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

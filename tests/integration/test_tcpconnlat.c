// SPDX-License-Identifier: Apache-2.0
/*
 * tcpconnlat against the real kernel. A process in a fresh cgroup makes K connects to an
 * IPv4 and K to an IPv6 loopback listener, then one connect that is slow for a known reason:
 * the listener's accept queue (backlog 0) is full, so its SYN is dropped and retransmitted
 * after the initial RTO (1 s), once the test has made room. The per-cgroup histogram must
 * count exactly 2K + 2 connects; exactly one "connect" event (over --tcpconnlat-min-ms 500)
 * must name that socket's ports, the caller's pid and the cgroup. The slow handshake
 * completes in a timer softirq, where the current task is unrelated: the right cgroup there
 * proves the socket's cgroup is used. Run for each working hook kind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "tcpconnlat.skel.h"
#include "harness.h"
#include "probe_check.h"

#define K 5

struct listener {
	int fd;
	int port;
};

static struct listener listen_on(int family, int backlog)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
	struct listener l;

	ss.ss_family = family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	l.fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l.fd >= 0);
	assert_int_equal(bind(l.fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(l.fd, backlog), 0);
	assert_int_equal(getsockname(l.fd, (struct sockaddr *)&ss, &len), 0);
	l.port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					   ((struct sockaddr_in6 *)&ss)->sin6_port);
	return l;
}

static int connect_to(int family, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ss.ss_family = family;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0)
		return -1;
	return fd;
}

static int peer_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getpeername(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/*
 * The child: join the cgroup, K fast connects per family, one to the slow listener that
 * fills its queue, a byte on `ready`, then the connect whose SYN is dropped.
 */
static pid_t spawn_client(const char *cg, int port4, int port6, int slow_port, int ready)
{
	pid_t child = fork();
	int keep[2 * K + 2], nk = 0;

	if (child != 0)
		return child;
	if (lmp_test_cgroup_join(cg) < 0)
		_exit(10);
	for (int i = 0; i < K; i++) {
		if ((keep[nk++] = connect_to(AF_INET, port4)) < 0)
			_exit(11);
		if ((keep[nk++] = connect_to(AF_INET6, port6)) < 0)
			_exit(12);
	}
	if ((keep[nk++] = connect_to(AF_INET, slow_port)) < 0)
		_exit(13);
	if (write(ready, "x", 1) != 1)
		_exit(14);
	if ((keep[nk++] = connect_to(AF_INET, slow_port)) < 0)
		_exit(15);
	for (int i = 0; i < nk; i++)
		close(keep[i]);
	_exit(0);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct tally {
	__u64 cgid;
	long connects, failed, events, slow_bucket;
	json_t *event;
};

static bool add(json_t *ev, void *ctx)
{
	struct tally *t = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *event = json_string_value(json_object_get(ev, "event"));

	if (!probe || strcmp(probe, "tcpconnlat") ||
	    (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) != t->cgid)
		return false;
	if (!strcmp(event, "summary")) {
		const char *range;
		json_t *n;
		long in_hist = 0;

		t->connects += json_integer_value(json_object_get(ev, "connects"));
		t->failed += json_integer_value(json_object_get(ev, "failed"));
		/* the buckets add up to the line's count; a connect of about 1 s lies in
		 * [2^29, 2^30) ns */
		json_object_foreach(json_object_get(ev, "latency_hist_ns"), range, n) {
			in_hist += json_integer_value(n);
			if (!strcmp(range, "536870912-1073741823"))
				t->slow_bucket += json_integer_value(n);
		}
		assert_int_equal(in_hist, json_integer_value(json_object_get(ev, "connects")));
	} else {
		assert_string_equal(event, "connect");
		t->events++;
		t->event = ev;
	}
	return false;
}

static void connects_seen(struct lmp_test_agent *a, long row);

/* no main agent: each hook row runs its own, on fresh cgroups */
static struct lmp_test_fixture F = {
	.probe = "tcpconnlat",
	.alt_args = (const char *const[]){ "--interval", "1", "--top", "1000",
					   "--tcpconnlat-min-ms", "500", NULL },
	.workload = connects_seen,
	.fallbacks = { { NULL, "probe tcpconnlat: attached (connect=tp_btf)", 0 },
		       { "tp_btf", "probe tcpconnlat: attached (connect=raw_tp)", 1 },
		       { "tp_btf,raw_tp", "probe tcpconnlat: attached (connect=tracepoint)", 2 } },
};

static void connects_seen(struct lmp_test_agent *a, long row)
{
	const char *disable = F.fallbacks[row].disable;
	struct listener l4, l6, slow;
	struct tally t = { 0 };
	char cg[4096];
	int ready[2], first = -1, second = -1, slow_port_client = 0, st;
	long t_ready = 0, end;
	json_t *ev;
	pid_t child;

	lmp_test_hooks_cgroup("tcpconnlat", disable, NULL, cg, sizeof(cg), &t.cgid);

	l4 = listen_on(AF_INET, 64);
	l6 = listen_on(AF_INET6, 64);
	slow = listen_on(AF_INET, 0); /* holds one established connection, drops the next SYN */
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	child = spawn_client(cg, l4.port, l6.port, slow.port, ready[1]);
	assert_true(child > 0);
	close(ready[1]);

	/* serve: accept the fast ones; 300 ms after `ready`, take the queued slow connection
	 * so the retransmitted SYN finds room; then accept that one and note its port */
	end = now_ms() + 10000;
	while (second < 0 && now_ms() < end) {
		struct pollfd pf[4] = { { l4.fd, POLLIN, 0 },
					{ l6.fd, POLLIN, 0 },
					{ ready[0], POLLIN, 0 },
					{ slow.fd, t_ready && first >= 0 ? POLLIN : 0, 0 } };
		char b;

		poll(pf, 4, 50);
		for (int i = 0; i < 2; i++)
			if (pf[i].revents & POLLIN)
				close(accept(pf[i].fd, NULL, NULL));
		if ((pf[2].revents & POLLIN) && !t_ready && read(ready[0], &b, 1) == 1)
			t_ready = now_ms();
		if (t_ready && first < 0 && now_ms() - t_ready >= 300)
			first = accept(slow.fd, NULL, NULL);
		else if (first >= 0 && (pf[3].revents & POLLIN))
			second = accept(slow.fd, NULL, NULL);
	}
	assert_true(first >= 0);
	assert_true(second >= 0);
	slow_port_client = peer_port(second);
	st = lmp_test_wait_child(child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	for (int waited = 0; waited < 6000 && (t.connects < 2 * K + 2 || !t.events);
	     waited += 500) {
		memset(&t.connects, 0, sizeof(t) - offsetof(struct tally, connects));
		lmp_test_agent_pump(a, 500);
		lmp_test_agent_wait(a, 0, add, &t);
	}
	lmp_test_agent_pump(a, 1500); /* an interval more: a surplus would show */
	memset(&t.connects, 0, sizeof(t) - offsetof(struct tally, connects));
	lmp_test_agent_wait(a, 0, add, &t);

	assert_int_equal(t.connects, 2 * K + 2);
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.slow_bucket, 1);
	assert_int_equal(t.events, 1);
	ev = t.event;
	assert_int_equal(json_integer_value(json_object_get(ev, "pid")), child);
	assert_int_equal(json_integer_value(json_object_get(ev, "tid")), child);
	assert_string_equal(json_string_value(json_object_get(ev, "comm")), "test_tcpconnlat");
	assert_string_equal(json_string_value(json_object_get(ev, "family")), "ipv4");
	assert_string_equal(json_string_value(json_object_get(ev, "saddr")), "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(ev, "daddr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(ev, "sport")), slow_port_client);
	assert_int_equal(json_integer_value(json_object_get(ev, "dport")), slow.port);
	/* the SYN was answered only on its retransmission, one initial RTO (1 s) later */
	assert_true(json_number_value(json_object_get(ev, "latency_s")) >= 0.9);
	assert_true(json_number_value(json_object_get(ev, "latency_s")) < 5);

	close(first);
	close(second);
	close(l4.fd);
	close(l6.fd);
	close(slow.fd);
	close(ready[0]);
	lmp_test_clean_stop(a);
	lmp_test_cgroup_remove(cg);
}

/* a refused connect (no listener) leaves SYN_SENT for CLOSE: counted as failed, no event */
static void test_refused_counts_failed(void **state)
{
	struct lmp_test_agent a;
	struct tally t = { 0 };
	char cg[4096], rel[128];
	struct listener l;
	int port, st;
	pid_t child;

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/tcpconnlat-refused-%d", getpid());
	assert_int_equal(lmp_test_cgroup_create(rel, cg, sizeof(cg), &t.cgid), 0);
	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes", "tcpconnlat",
									 "--interval", "1",
									 "--tcpconnlat-min-ms", "0",
									 NULL }),
			 0);
	l = listen_on(AF_INET, 1); /* a port nobody listens on once closed */
	port = l.port;
	close(l.fd);
	child = fork();
	if (child == 0) {
		if (lmp_test_cgroup_join(cg) < 0)
			_exit(10);
		for (int i = 0; i < 3; i++)
			if (connect_to(AF_INET, port) >= 0 || errno != ECONNREFUSED)
				_exit(11);
		_exit(0);
	}
	st = lmp_test_wait_child(child);
	assert_int_equal(WEXITSTATUS(st), 0);
	for (int waited = 0; waited < 5000 && t.failed < 3; waited += 500) {
		memset(&t.connects, 0, sizeof(t) - offsetof(struct tally, connects));
		lmp_test_agent_pump(&a, 500);
		lmp_test_agent_wait(&a, 0, add, &t);
	}
	assert_int_equal(t.failed, 3);
	assert_int_equal(t.connects, 0);
	assert_int_equal(t.events, 0); /* even with --tcpconnlat-min-ms 0: only completions */
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_cgroup_remove(cg);
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
		"tcpconnlat", "tp_btf,raw_tp,tracepoint",
		(const char *const[]){ "fentry: ", "kprobe: kprobes are not available", NULL });
	lmp_test_kprobes_load(tcpconnlat, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		LMP_TEST_FALLBACK("test_tp_btf", 0),	      LMP_TEST_FALLBACK("test_raw_tp", 1),
		LMP_TEST_FALLBACK("test_tracepoint", 2),      cmocka_unit_test(test_function_hooks),
		cmocka_unit_test(test_refused_counts_failed),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

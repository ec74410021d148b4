// SPDX-License-Identifier: Apache-2.0
/*
 * bindsnoop against the real kernel: a process in a fresh cgroup binds TCP on 127.0.0.1
 * (SO_REUSEADDR) and ::1 (IPV6_V6ONLY, SO_REUSEPORT), UDP with IP_FREEBIND, a port already
 * in use (EADDRINUSE) and an AF_UNIX socket (not reported). Every field is checked against
 * what the process itself saw. Then the tp_btf and raw_tp sys_enter/sys_exit fallbacks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

static void binds_seen(struct lmp_test_agent *a, long unused);

static struct lmp_test_fixture F = {
	.probe = "bindsnoop",
	.args = (const char *const[]){ "--listen", "127.0.0.1:0", "--interval", "1", NULL },
	.workload = binds_seen,
	.fallbacks = { { "tracepoint", "probe bindsnoop: attached (enter=tp_btf,exit=tp_btf)" },
		       { "tracepoint,tp_btf",
			 "probe bindsnoop: attached (enter=raw_tp,exit=raw_tp)" } },
};

/* what the binding process saw, sent back through a pipe */
struct seen {
	int fd4, fd6, fdu, fdx, fdunix;
	int port4, port6, portu;
	int err_inuse;
};

struct bind_arg {
	int pipe[2];
};

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

static int binder(void *arg)
{
	struct bind_arg *b = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct seen s = { 0 };
	int one = 1;

	s.fd4 = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s.fd4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s.fd4, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(s.fd4, 1) < 0)
		return 10;
	s.port4 = port_of(s.fd4);

	s.fd6 = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(s.fd6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	setsockopt(s.fd6, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(s.fd6, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
		return 11;
	s.port6 = port_of(s.fd6);

	s.fdu = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(s.fdu, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(s.fdu, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return 12;
	s.portu = port_of(s.fdu);

	/* the TCP port bound above, without SO_REUSEADDR on this socket: in use */
	s.fdx = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons(s.port4);
	if (bind(s.fdx, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return 13;
	s.err_inuse = errno;

	s.fdunix = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "lmp-bindsnoop-%d", getpid());
	if (bind(s.fdunix, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return 14;
	return write(b->pipe[1], &s, sizeof(s)) == sizeof(s) ? 0 : 15;
}

static json_t *wait_bind(struct lmp_test_agent *a, pid_t pid, int fd, int timeout)
{
	struct lmp_test_fields w = { "bindsnoop", "bind", { "pid", "fd" }, { pid, fd } };

	return lmp_test_agent_wait(a, timeout, lmp_test_match_fields, &w);
}

static void assert_options(json_t *ev, const char *const *want, size_t n)
{
	json_t *opts = lmp_test_jget(ev, "options");

	assert_true(json_is_array(opts));
	assert_int_equal(json_array_size(opts), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(opts, i)), want[i]);
}

static void assert_common(json_t *ev, pid_t pid)
{
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_jstr(ev, "comm", "lmp-binder");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), F.cgid);
	assert_int_equal(lmp_test_jint(ev, "uid"), 0);
}

static void binds_seen(struct lmp_test_agent *a, long unused)
{
	struct bind_arg b;
	struct seen s;
	pid_t pid;
	json_t *ev;
	int st;

	assert_int_equal(pipe(b.pipe), 0);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-binder", binder, &b);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(b.pipe[0], &s, sizeof(s)), sizeof(s));
	close(b.pipe[0]);
	close(b.pipe[1]);

	ev = wait_bind(a, pid, s.fd4, 5000);
	assert_common(ev, pid);
	assert_jstr(ev, "family", "inet");
	assert_jstr(ev, "addr", "127.0.0.1");
	assert_int_equal(lmp_test_jint(ev, "port"), 0);
	assert_int_equal(lmp_test_jint(ev, "bound_port"), s.port4);
	assert_jstr(ev, "protocol", "TCP");
	assert_jstr(ev, "sock_type", "SOCK_STREAM");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));
	assert_options(ev, (const char *const[]){ "SO_REUSEADDR" }, 1);

	ev = wait_bind(a, pid, s.fd6, 5000);
	assert_common(ev, pid);
	assert_jstr(ev, "family", "inet6");
	assert_jstr(ev, "addr", "::1");
	assert_int_equal(lmp_test_jint(ev, "port"), 0);
	assert_int_equal(lmp_test_jint(ev, "bound_port"), s.port6);
	assert_jstr(ev, "protocol", "TCP");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));
	assert_options(ev, (const char *const[]){ "SO_REUSEPORT", "IPV6_V6ONLY" }, 2);

	ev = wait_bind(a, pid, s.fdu, 5000);
	assert_common(ev, pid);
	assert_jstr(ev, "addr", "127.0.0.1");
	assert_int_equal(lmp_test_jint(ev, "bound_port"), s.portu);
	assert_jstr(ev, "protocol", "UDP");
	assert_jstr(ev, "sock_type", "SOCK_DGRAM");
	assert_options(ev, (const char *const[]){ "IP_FREEBIND" }, 1);

	/* the port in use: asked for explicitly, refused, nothing held */
	assert_int_equal(s.err_inuse, EADDRINUSE);
	ev = wait_bind(a, pid, s.fdx, 5000);
	assert_common(ev, pid);
	assert_jstr(ev, "result", "EADDRINUSE");
	assert_int_equal(lmp_test_jint(ev, "port"), s.port4);
	assert_null(lmp_test_jget(ev, "bound_port"));
	assert_jstr(ev, "protocol", "TCP");
	assert_options(ev, NULL, 0);

	/* AF_UNIX is not an IP bind */
	assert_null(wait_bind(a, pid, s.fdunix, 500));
}

static void test_ipv4_ipv6_udp_and_in_use(void **state)
{
	binds_seen(&F.agent, 0);
}

static void test_metrics(void **state)
{
	int port = lmp_test_agent_http_port(&F.agent);

	assert_true(port > 0);
	/* non-pod cgroups share one series: at least this test's binds (4 per run, 3 runs) */
	assert_true(lmp_test_metric(&F.agent, "lmp_binds_total", NULL, NULL) >= 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_ipv6_udp_and_in_use),
		LMP_TEST_FALLBACK("test_tp_btf_path", 0),
		LMP_TEST_FALLBACK("test_raw_tp_path", 1),
		cmocka_unit_test(test_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * tcp probe against the real kernel: a child in a fresh cgroup connects over IPv4 and IPv6
 * loopback to a listening port (success), to a bound but not listening port (ECONNREFUSED)
 * and to a listener whose accept queue is full with one SYN retry allowed (ETIMEDOUT). Each
 * event must carry the child's pid, name and cgroup, both addresses and ports, the result
 * and a latency > 0. A socket made in one cgroup and connected after its owner moved to
 * another is charged to the socket's cgroup. Every working attach path is exercised; the
 * function-hook fallbacks (fentry, kprobe) are reported unsupported with their reasons.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/libbpf.h>

#include "probe_check.h"
#include "tcp.skel.h"

#define COMM "lmp-tcp-test"

struct ctx {
	struct lmp_test_agent agent;
	char cg[4096], cg2[4096];
	__u64 cgid, cgid2;
};

enum mode { CONNECT_OK, CONNECT_REFUSED, CONNECT_TIMEOUT };

struct target {
	int af;
	const char *addr; /* loopback of the family, as inet_ntop prints it */
	unsigned short port;
};

/* what the child tells the parent through a pipe */
struct report {
	unsigned short sport;
	int err; /* errno of connect, 0 on success */
};

static socklen_t make_addr(const struct target *t, unsigned short port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->af == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, t->addr, &a->sin6_addr);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	inet_pton(AF_INET, t->addr, &a->sin_addr);
	return sizeof(*a);
}

static unsigned short local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

/* a listening (backlog > 0) or merely bound (backlog < 0) socket on an ephemeral port */
static int server(const struct target *t, int backlog, unsigned short *port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(t, 0, &ss);
	int fd = socket(t->af, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	*port = local_port(fd);
	assert_true(*port > 0);
	return fd;
}

/*
 * Fork a child that names itself, creates its socket in cgroup sock_cg, moves to cgroup
 * conn_cg (may be the same), connects to t, and reports its local port and errno. The
 * timeout case binds its port explicitly first; the others let connect() choose it and read
 * it afterwards (getsockname() still tells it after a failure, from inet_sport, while the
 * kernel has released the port itself: the case the probe must get right).
 */
static pid_t spawn_connect(const char *sock_cg, const char *conn_cg, const struct target *t,
			   enum mode m, struct report *rep)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_storage ss;
		struct report r = { 0, 0 };
		socklen_t len;
		int fd, one = 1;

		close(p[0]);
		prctl(PR_SET_NAME, COMM);
		if (lmp_test_cgroup_join(sock_cg) < 0)
			_exit(90);
		fd = socket(t->af, SOCK_STREAM, 0);
		if (fd < 0)
			_exit(91);
		if (strcmp(sock_cg, conn_cg))
			if (lmp_test_cgroup_join(conn_cg) < 0)
				_exit(90);
		if (m == CONNECT_TIMEOUT) {
			len = make_addr(t, 0, &ss);
			if (bind(fd, (struct sockaddr *)&ss, len) < 0)
				_exit(92);
		}
		if (m == CONNECT_TIMEOUT &&
		    setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &one, sizeof(one)) < 0)
			_exit(93);
		len = make_addr(t, t->port, &ss);
		if (connect(fd, (struct sockaddr *)&ss, len) < 0)
			r.err = errno;
		r.sport = local_port(fd);
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(94);
		_exit(0);
	}
	close(p[1]);
	assert_true(pid > 0);
	assert_int_equal(read(p[0], rep, sizeof(*rep)), sizeof(*rep));
	close(p[0]);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(pid)), 0);
	return pid;
}

struct want {
	pid_t pid;
	unsigned short dport;
};

static bool match_connect(json_t *ev, void *ctx)
{
	struct want *w = ctx;
	const char *probe = json_string_value(json_object_get(ev, "probe"));

	return probe && !strcmp(probe, "tcp") &&
	       json_integer_value(json_object_get(ev, "pid")) == w->pid &&
	       json_integer_value(json_object_get(ev, "dport")) == w->dport;
}

static void assert_connect(struct lmp_test_agent *a, pid_t pid, __u64 cgid, const struct target *t,
			   const struct report *rep, const char *result, double min_latency)
{
	struct want w = { pid, t->port };
	json_t *ev = lmp_test_agent_wait(a, 10000, match_connect, &w);

	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "connect");
	assert_string_equal(json_string_value(json_object_get(ev, "comm")), COMM);
	assert_int_equal(json_integer_value(json_object_get(ev, "cgroup_id")), cgid);
	assert_string_equal(json_string_value(json_object_get(ev, "family")),
			    t->af == AF_INET6 ? "ipv6" : "ipv4");
	assert_string_equal(json_string_value(json_object_get(ev, "saddr")), t->addr);
	assert_string_equal(json_string_value(json_object_get(ev, "daddr")), t->addr);
	assert_true(rep->sport > 0); /* a 0 on both sides would prove nothing */
	assert_int_equal(json_integer_value(json_object_get(ev, "sport")), rep->sport);
	assert_int_equal(json_integer_value(json_object_get(ev, "dport")), t->port);
	assert_string_equal(json_string_value(json_object_get(ev, "result")), result);
	if (rep->err) {
		assert_string_equal(json_string_value(json_object_get(ev, "errno")), result);
		assert_string_equal(result, strerrorname_np(rep->err)); /* what connect() said */
	} else {
		assert_true(json_is_null(json_object_get(ev, "errno")));
	}
	assert_true(json_number_value(json_object_get(ev, "latency_s")) > min_latency);
	assert_true(json_number_value(json_object_get(ev, "latency_s")) < 30);
}

static const struct target v4 = { AF_INET, "127.0.0.1", 0 }, v6 = { AF_INET6, "::1", 0 };

/* success and ECONNREFUSED for one family, on the agent of ctx */
static void success_and_refused(struct ctx *c, const struct target *fam)
{
	struct target t = *fam;
	struct report rep;
	int lfd, bfd;
	pid_t pid;

	lfd = server(&t, 16, &t.port);
	pid = spawn_connect(c->cg, c->cg, &t, CONNECT_OK, &rep);
	assert_int_equal(rep.err, 0);
	assert_connect(&c->agent, pid, c->cgid, &t, &rep, "success", 0);
	close(lfd);

	bfd = server(&t, -1, &t.port); /* bound, not listening: the SYN is answered by RST */
	pid = spawn_connect(c->cg, c->cg, &t, CONNECT_REFUSED, &rep);
	assert_int_equal(rep.err, ECONNREFUSED);
	assert_connect(&c->agent, pid, c->cgid, &t, &rep, "ECONNREFUSED", 0);
	close(bfd);
}

static int setup_agent(struct ctx *c, const char *disable)
{
	const char *args[] = { "--probes",	  "tcp",   "--interval", "1",
			       "--disable-hooks", disable, NULL };

	if (!*disable)
		args[4] = NULL;
	return lmp_test_agent_start(&c->agent, args);
}

static int setup(void **state)
{
	static struct ctx c;
	char rel[128];

	lmp_test_require_root();
	snprintf(rel, sizeof(rel), "lmp-test/tcp-%d", getpid());
	if (lmp_test_cgroup_create(rel, c.cg, sizeof(c.cg), &c.cgid) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "lmp-test/tcp-%d-moved", getpid());
	if (lmp_test_cgroup_create(rel, c.cg2, sizeof(c.cg2), &c.cgid2) < 0)
		return -1;
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	lmp_test_cgroup_remove(c->cg);
	lmp_test_cgroup_remove(c->cg2);
	return 0;
}

static void stop_agent(struct ctx *c)
{
	assert_true(lmp_test_agent_stop(&c->agent, 2000) >= 0);
	assert_int_equal(c->agent.bad_lines, 0);
	lmp_test_agent_free(&c->agent);
}

static void test_tp_btf(void **state)
{
	struct ctx *c = *state;

	/* port 0: no clash with whatever else listens */
	assert_int_equal(lmp_test_agent_start(&c->agent,
					      (const char *const[]){ "--probes", "tcp",
								     "--interval", "1", "--listen",
								     "127.0.0.1:0", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&c->agent, "probe tcp: attached (connect=tp_btf)"));
	success_and_refused(c, &v4);
	success_and_refused(c, &v6);
	/* counted per result; the test cgroup is not a pod, so its series is shared with every
	 * other non-pod process: at least ours */
	/* (lmp_test_metric drains the agent's stdout while it scrapes) */
	assert_true(lmp_test_metric(&c->agent, "lmp_tcp_connects_total", "result=\"success\"",
				    NULL) >= 2);
	assert_true(lmp_test_metric(&c->agent, "lmp_tcp_connects_total", "result=\"ECONNREFUSED\"",
				    NULL) >= 2);
	stop_agent(c);
}

/* the accept queue of a backlog-0 listener holds one connection; with it full the next
 * SYNs are dropped, and with TCP_SYNCNT 1 connect() gives up after about 3 s */
static void test_timeout(void **state)
{
	struct ctx *c = *state;
	struct target t = v4;
	struct sockaddr_storage ss;
	struct report rep;
	int lfd, filler;
	socklen_t len;
	pid_t pid;

	assert_int_equal(setup_agent(c, ""), 0);
	lfd = server(&t, 0, &t.port);
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	len = make_addr(&t, t.port, &ss);
	assert_int_equal(connect(filler, (struct sockaddr *)&ss, len), 0);
	pid = spawn_connect(c->cg, c->cg, &t, CONNECT_TIMEOUT, &rep);
	assert_int_equal(rep.err, ETIMEDOUT);
	assert_connect(&c->agent, pid, c->cgid, &t, &rep, "ETIMEDOUT", 2.0);
	close(filler);
	close(lfd);
	stop_agent(c);
}

/* the socket's cgroup, not the cgroup of the task when it connects */
static void test_socket_cgroup(void **state)
{
	struct ctx *c = *state;
	struct target t = v6;
	struct report rep;
	int lfd;
	pid_t pid;

	assert_int_equal(setup_agent(c, ""), 0);
	lfd = server(&t, 16, &t.port);
	pid = spawn_connect(c->cg, c->cg2, &t, CONNECT_OK, &rep);
	assert_int_equal(rep.err, 0);
	assert_connect(&c->agent, pid, c->cgid, &t, &rep, "success", 0);
	close(lfd);
	stop_agent(c);
}

static void test_raw_tp(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(setup_agent(c, "tp_btf"), 0);
	assert_true(lmp_test_agent_stderr_has(&c->agent, "probe tcp: attached (connect=raw_tp)"));
	success_and_refused(c, &v4);
	success_and_refused(c, &v6);
	stop_agent(c);
}

static void test_tracepoint(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(setup_agent(c, "tp_btf,raw_tp"), 0);
	assert_true(
		lmp_test_agent_stderr_has(&c->agent, "probe tcp: attached (connect=tracepoint)"));
	success_and_refused(c, &v4);
	success_and_refused(c, &v6);
	stop_agent(c);
}

/* fentry and kprobe are written but refused here: with the tracepoint kinds ruled out,
 * the probe is unsupported and names the reason of each alternative */
static void test_fallbacks_reported(void **state)
{
	lmp_test_assert_unsupported(
		"tcp", "tp_btf,raw_tp,tracepoint",
		(const char *const[]){ "connect: fentry: ", "connect: kprobe: ", NULL });
}

/* the kprobe path cannot attach here, but must be valid BPF: kprobe-type programs load
 * without CONFIG_KPROBES. (fentry programs cannot even load here: EPERM.) */
static void test_kprobe_programs_verify(void **state)
{
	lmp_test_require_root();
	lmp_test_kprobes_load(tcp, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tp_btf),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_socket_cgroup),
		cmocka_unit_test(test_raw_tp),
		cmocka_unit_test(test_tracepoint),
		cmocka_unit_test(test_fallbacks_reported),
		cmocka_unit_test(test_kprobe_programs_verify),
	};

	return cmocka_run_group_tests_name("tcp", tests, setup, teardown);
}

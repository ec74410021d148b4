// SPDX-License-Identifier: Apache-2.0
/*
 * capable against the real kernel: a process in a fresh cgroup drops to uid/gid 65534, then
 * is denied CAP_SYS_ADMIN (sethostname) and CAP_NET_BIND_SERVICE (bind to a port below
 * ip_unprivileged_port_start), both audited checks, and maps private writable memory,
 * which asks for CAP_SYS_ADMIN without audit. By default only the audited denials are
 * streamed; the per-cgroup summary counts all of them (and the CAP_SETUID the drop itself
 * used). With --capable-stream denied the noaudit denial appears too, marked audit=false.
 * Then the raw_tp and tracefs variants; fexit/kprobe are refused on this kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

#define NOBODY 65534
#define CAP_NET_BIND_SERVICE 10
#define CAP_SYS_ADMIN 21

struct ctx {
	unsigned long long userns; /* inode of the initial user namespace */
	int low_port;		   /* a port that needs CAP_NET_BIND_SERVICE, 0 if none does */
};

static struct ctx C;

static int read_limits(void)
{
	struct stat st;
	FILE *f;

	if (stat("/proc/self/ns/user", &st) < 0)
		return -1;
	C.userns = st.st_ino;
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	if (!f || fscanf(f, "%d", &C.low_port) != 1)
		C.low_port = 1024;
	if (f)
		fclose(f);
	C.low_port = C.low_port > 1 ? C.low_port - 1 : 0;
	return 0;
}

static void audited_denials_seen(struct lmp_test_agent *a, long unused);

static struct lmp_test_fixture F = {
	.probe = "capable",
	.args = (const char *const[]){ "--listen", "127.0.0.1:0", "--interval", "1", "--top",
				       "1000", NULL },
	.alt_args = (const char *const[]){ "--capable-stream", "audited", NULL },
	.setup = read_limits,
	.workload = audited_denials_seen,
	.fallbacks = { { "tp_btf", "probe capable: attached (check=raw_tp)" },
		       { "tp_btf,raw_tp", "probe capable: attached (check=tracepoint)" } },
};

struct seen {
	int err_hostname, err_bind;
};

struct cap_arg {
	int pipe[2];
};

static int unprivileged(void *arg)
{
	struct cap_arg *c = arg;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct seen s = { 0 };
	char *p;
	int fd;

	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return 10;
	if (sethostname("lmp-denied", 10) == 0)
		return 11;
	s.err_hostname = errno;
	if (C.low_port) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_port = htons(C.low_port);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return 12;
		s.err_bind = errno;
	}
	/* accountable memory: the kernel asks for CAP_SYS_ADMIN, without audit */
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 13;
	p[0] = 1;
	return write(c->pipe[1], &s, sizeof(s)) == sizeof(s) ? 0 : 14;
}

static pid_t run_unprivileged(void)
{
	struct cap_arg c;
	struct seen s;
	pid_t pid;
	int st;

	assert_int_equal(pipe(c.pipe), 0);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-capable", unprivileged, &c);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(c.pipe[0], &s, sizeof(s)), sizeof(s));
	close(c.pipe[0]);
	close(c.pipe[1]);
	assert_int_equal(s.err_hostname, EPERM);
	if (C.low_port)
		assert_int_equal(s.err_bind, EACCES);
	return pid;
}

static json_t *wait_check(struct lmp_test_agent *a, pid_t pid, int cap, int ms)
{
	struct lmp_test_fields w = { "capable", "check", { "pid", "cap" }, { pid, cap } };

	return lmp_test_agent_wait(a, ms, lmp_test_match_fields, &w);
}

static void assert_denied(json_t *ev, pid_t pid, int cap, const char *name, bool audit)
{
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_jstr(ev, "comm", "lmp-capable");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), F.cgid);
	assert_int_equal(lmp_test_jint(ev, "uid"), NOBODY);
	assert_int_equal(lmp_test_jint(ev, "cap"), cap);
	assert_jstr(ev, "capability", name);
	assert_true(json_is_boolean(lmp_test_jget(ev, "audit")));
	assert_int_equal(json_boolean_value(lmp_test_jget(ev, "audit")), audit);
	assert_false(json_boolean_value(lmp_test_jget(ev, "granted")));
	assert_jstr(ev, "result", "EPERM"); /* cap_capable's answer; bind turns it into EACCES */
	assert_int_equal(lmp_test_jint(ev, "userns"), C.userns);
	assert_int_equal(lmp_test_jint(ev, "userns_level"), 0);
}

/* streamed events of pid for cap, and whether any of them was a noaudit one */
static int count_events(struct lmp_test_agent *a, pid_t pid, int cap, int *noaudit)
{
	struct lmp_test_fields w = { "capable", "check", { "pid", "cap" }, { pid, cap } };
	json_t *ev;
	size_t i;
	int n = 0;

	*noaudit = 0;
	json_array_foreach(a->events, i, ev) {
		if (!lmp_test_match_fields(ev, &w))
			continue;
		n++;
		*noaudit += json_is_false(lmp_test_jget(ev, "audit"));
	}
	return n;
}

/* the cgroup's summary rows for cap, summed over intervals */
static void summary(struct lmp_test_agent *a, const char *cap, long long *granted,
		    long long *denied, long long *noaudit)
{
	struct lmp_test_fields w = { "capable", "summary", { "cgroup_id" }, { F.cgid } };
	json_t *ev;
	size_t i;

	*granted = *denied = *noaudit = 0;
	json_array_foreach(a->events, i, ev) {
		const char *c = lmp_test_jstr(ev, "capability");

		if (!lmp_test_match_fields(ev, &w) || !c || strcmp(c, cap))
			continue;
		*granted += lmp_test_jint(ev, "granted");
		*denied += lmp_test_jint(ev, "denied");
		*noaudit += lmp_test_jint(ev, "denied_noaudit");
	}
}

static void test_audited_denials_streamed_all_counted(void **state)
{
	long long granted, denied, noaudit;
	pid_t pid = run_unprivileged();
	int n_admin, n_noaudit;

	assert_denied(wait_check(&F.agent, pid, CAP_SYS_ADMIN, 5000), pid, CAP_SYS_ADMIN,
		      "CAP_SYS_ADMIN", true);
	if (C.low_port)
		assert_denied(wait_check(&F.agent, pid, CAP_NET_BIND_SERVICE, 5000), pid,
			      CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE", true);
	/* two intervals: every count of the child is in a summary by then */
	lmp_test_agent_pump(&F.agent, 2500);
	n_admin = count_events(&F.agent, pid, CAP_SYS_ADMIN, &n_noaudit);
	assert_int_equal(n_noaudit, 0); /* the mmap's noaudit check is not streamed */
	summary(&F.agent, "CAP_SYS_ADMIN", &granted, &denied, &noaudit);
	assert_int_equal(denied, n_admin); /* every audited denial was streamed */
	assert_true(noaudit >= 1);	   /* and the noaudit one counted */
	summary(&F.agent, "CAP_SETUID", &granted, &denied, &noaudit);
	assert_true(granted >= 1); /* setresuid as root */
	assert_int_equal(denied, 0);
}

static void test_stream_denied_shows_noaudit(void **state)
{
	struct lmp_test_agent *a;
	int n, noaudit;
	pid_t pid;

	a = lmp_test_alt_start(&F, (const char *const[]){ "--capable-stream", "denied", NULL },
			       NULL, "probe capable: attached (check=tp_btf)");
	pid = run_unprivileged();
	assert_denied(wait_check(a, pid, CAP_SYS_ADMIN, 5000), pid, CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
		      true);
	lmp_test_agent_pump(a, 1000);
	n = count_events(a, pid, CAP_SYS_ADMIN, &noaudit);
	assert_true(noaudit >= 1);
	assert_true(n > noaudit);
	lmp_test_alt_stop(&F);
}

static void audited_denials_seen(struct lmp_test_agent *a, long unused)
{
	pid_t pid = run_unprivileged();

	assert_denied(wait_check(a, pid, CAP_SYS_ADMIN, 5000), pid, CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
		      true);
	if (C.low_port)
		assert_denied(wait_check(a, pid, CAP_NET_BIND_SERVICE, 5000), pid,
			      CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE", true);
}

static void test_bad_stream_value_exits_2(void **state)
{
	assert_int_equal(lmp_test_sh("%s run --listen none --probes capable --capable-stream "
				     "sometimes --duration 1 2>/dev/null",
				     lmp_test_binary()),
			 2);
}

static void test_metrics(void **state)
{
	int port = lmp_test_agent_http_port(&F.agent);
	double v;

	assert_true(port > 0);
	/* non-pod cgroups share one series: at least this test's audited denials */
	lmp_test_agent_pump(&F.agent, 1500); /* the last run's counts: one more interval */
	v = lmp_test_metric(&F.agent, "lmp_capability_denials_total",
			    "capability=\"CAP_SYS_ADMIN\"", NULL);
	print_message("lmp_capability_denials_total{CAP_SYS_ADMIN} = %g\n", v);
	assert_true(v >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audited_denials_streamed_all_counted),
		cmocka_unit_test(test_stream_denied_shows_noaudit),
		LMP_TEST_FALLBACK("test_raw_tp_path", 0),
		LMP_TEST_FALLBACK("test_tracepoint_path", 1),
		cmocka_unit_test(test_bad_stream_value_exits_2),
		cmocka_unit_test(test_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

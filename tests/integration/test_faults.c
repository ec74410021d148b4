// SPDX-License-Identifier: Apache-2.0
/*
 * Faults the agent must survive, each with a clear message and a degraded but running
 * agent (docs/hardening.md):
 *   - SIGTERM and SIGINT: clean exit within 2 s, and no BPF program, link or map of the
 *     agent left in the kernel (ids from /proc/<pid>/fdinfo before, bpftool after);
 *   - kill -9, then a restart works with no manual cleanup;
 *   - every probe and memleak on the root cgroup: stopped within 10 s, /healthz answering
 *     "stopping" meanwhile;
 *   - tracefs not mounted (a private mount namespace with it unmounted): the agent mounts
 *     it, or, without CAP_SYS_ADMIN, says so and uses tp_btf/raw_tp;
 *   - BTF missing or garbage (--btf-path): each probe that needs it says so, the others
 *     run, exit 1 only when nothing attaches;
 *   - cgroup v2 absent (its mount hidden in a private mount namespace, or --cgroup-root
 *     at a directory that is not cgroup2): events keep their cgroup id, the loss of paths
 *     and pod identity is said once;
 *   - a kernel without a hook (--disable-hooks): the probe is "unsupported" with the
 *     reason, lmp_probe_up 0, the rest run;
 *   - /proc/<pid> gone before the agent looks (processes that live a few ms): rows still
 *     come out, nothing is logged per process;
 *   - the kubelet token is never logged nor served, whatever the kubelet answers, and
 *     certificate verification is on unless turned off with a warning.
 *
 * One file over 600 lines: one case per fault, each short, sharing the agent helpers below.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "fake_kubelet.h"
#include "probe_check.h"

static char lmp[4096]; /* the real agent binary */

/* $LMP by its real path: wrappers and child processes run it from elsewhere */
static int pin_binary(void)
{
	if (!realpath(lmp_test_binary(), lmp))
		return -1;
	return setenv("LMP", lmp, 1);
}

static struct lmp_test_fixture F = { .name = "faults", .tmpdir = true, .setup = pin_binary };

/* ---- helpers ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a script that runs the agent inside a private mount namespace after `prep` */
static void write_wrapper(const char *name, const char *prep, bool drop_sys_admin, char *path,
			  size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", F.dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"exec unshare -m --propagation private /bin/sh -c '%s\n"
		"exec %s\"$@\"' sh '%s' \"$@\"\n",
		prep,
		drop_sys_admin ? "capsh --drop=cap_sys_admin -- -c '\\''exec \"$0\" \"$@\"'\\'' " :
				 "",
		lmp);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0755), 0);
}

/* start the agent through a wrapper (NULL: the binary itself) */
static int start_via(struct lmp_test_agent *a, const char *wrapper, const char *const *args)
{
	int r;

	if (wrapper)
		setenv("LMP", wrapper, 1);
	r = lmp_test_agent_start(a, args);
	setenv("LMP", lmp, 1);
	return r;
}

/* send sig, wait for the exit reading its output; ms taken, -1 on timeout (then SIGKILL) */
static int stop_with(struct lmp_test_agent *a, int sig, int timeout_ms)
{
	long start = now_ms();
	int st;

	assert_true(a->pid > 0);
	kill(a->pid, sig);
	while (now_ms() - start < timeout_ms) {
		lmp_test_agent_pump(a, 10);
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->status = st;
			a->pid = 0;
			lmp_test_agent_pump(a, 20);
			return now_ms() - start;
		}
	}
	lmp_test_agent_stop(a, 100);
	return -1;
}

/* wait up to ms for text on stderr */
static bool wait_stderr(struct lmp_test_agent *a, const char *text, int ms)
{
	long end = now_ms() + ms;

	while (!lmp_test_agent_stderr_has(a, text) && now_ms() < end)
		lmp_test_agent_pump(a, 50);
	return lmp_test_agent_stderr_has(a, text);
}

/* wait for a process started by the harness to exit by itself; its raw status or -1 */
static int wait_exit(struct lmp_test_agent *a, int timeout_ms)
{
	long start = now_ms();
	int st;

	if (a->pid <= 0)
		return a->status;
	while (now_ms() - start < timeout_ms) {
		lmp_test_agent_pump(a, 20);
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->status = st;
			a->pid = 0;
			return st;
		}
	}
	return -1;
}

struct bpf_ids {
	__u32 prog[256], link[256], map[512];
	int n_prog, n_link, n_map;
};

static void collect_ids(pid_t pid, struct bpf_ids *ids)
{
	ids->n_prog = lmp_test_bpf_ids(pid, "prog_id", ids->prog, 256);
	ids->n_link = lmp_test_bpf_ids(pid, "link_id", ids->link, 256);
	ids->n_map = lmp_test_bpf_ids(pid, "map_id", ids->map, 512);
}

static bool id_alive(int (*get)(__u32), __u32 id)
{
	int fd = get(id);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno != ENOENT;
}

/* every id gone from the kernel within ms (checked through the id, then with bpftool) */
static void assert_ids_gone(const struct bpf_ids *ids, int ms)
{
	long end = now_ms() + ms;
	int alive;

	do {
		alive = 0;
		for (int i = 0; i < ids->n_prog; i++)
			alive += id_alive(bpf_prog_get_fd_by_id, ids->prog[i]);
		for (int i = 0; i < ids->n_link; i++)
			alive += id_alive(bpf_link_get_fd_by_id, ids->link[i]);
		for (int i = 0; i < ids->n_map; i++)
			alive += id_alive(bpf_map_get_fd_by_id, ids->map[i]);
		if (!alive)
			break;
		usleep(20000);
	} while (now_ms() < end);
	if (alive)
		fail_msg("%d BPF objects of the agent still exist %d ms after it exited", alive,
			 ms);
	for (int i = 0; i < ids->n_prog; i++)
		assert_int_not_equal(
			lmp_test_sh("bpftool prog show id %u >/dev/null 2>&1", ids->prog[i]), 0);
	for (int i = 0; i < ids->n_link; i++)
		assert_int_not_equal(
			lmp_test_sh("bpftool link show id %u >/dev/null 2>&1", ids->link[i]), 0);
	for (int i = 0; i < ids->n_map; i++)
		assert_int_not_equal(
			lmp_test_sh("bpftool map show id %u >/dev/null 2>&1", ids->map[i]), 0);
}

static bool is_exec_in_cgroup(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *event = json_string_value(json_object_get(ev, "event"));

	return probe && !strcmp(probe, "process") && event && !strcmp(event, "exec") &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == *(__u64 *)ctx &&
	       json_integer_value(json_object_get(ev, "pid")) > 0;
}

/* a /bin/true in the test cgroup; the agent's exec event of it, or NULL */
static json_t *exec_seen(struct lmp_test_agent *a)
{
	pid_t pid = lmp_test_spawn(F.cg, (char *const[]){
						 "/bin/true",
						 NULL,
					 });
	json_t *ev;

	assert_true(pid > 0);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	ev = lmp_test_agent_wait(a, 10000, is_exec_in_cgroup, &F.cgid);
	if (ev)
		assert_int_equal(json_integer_value(json_object_get(ev, "pid")), pid);
	return ev;
}

static int agent_port(struct lmp_test_agent *a)
{
	const char *p = a->errbuf ? strstr(a->errbuf, "(port ") : NULL;

	assert_non_null(p);
	return atoi(p + 6);
}

/*
 * Lines of stderr after `from` (an offset) with " warn: " or " error: ", apart from the
 * per-interval loss counters (a busy machine may fill a probe's map; that is accounted for
 * elsewhere and has nothing to do with the fault under test).
 */
static int warnings_since(struct lmp_test_agent *a, size_t from)
{
	int n = 0;

	for (const char *p = a->errbuf + from; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if ((memmem(p, len, " warn: ", 7) || memmem(p, len, " error: ", 8)) &&
		    !memmem(p, len, "in the last interval, ", 22)) {
			fprintf(stderr, "unexpected: %.*s\n", (int)len, p);
			n++;
		}
		p = eol ? eol + 1 : NULL;
	}
	return n;
}

/* ---- signals ---- */

static void stop_leaves_nothing(int sig)
{
	struct lmp_test_agent a;
	struct bpf_ids ids;
	int ms;

	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes",
							    "process,syscall,tcp,opensnoop,profile",
							    "--interval", "1", NULL }),
			 0);
	collect_ids(a.pid, &ids);
	print_message("agent holds %d programs, %d links, %d maps\n", ids.n_prog, ids.n_link,
		      ids.n_map);
	assert_true(ids.n_prog >= 5);
	assert_true(ids.n_link >= 4);
	assert_true(ids.n_map >= 10);
	assert_non_null(exec_seen(&a));
	ms = stop_with(&a, sig, 2000);
	print_message("%s: exited in %d ms\n", strsignal(sig), ms);
	assert_true(ms >= 0);
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 0);
	assert_true(lmp_test_agent_stderr_has(&a, sig == SIGINT ? "received Interrupt" :
								  "received Terminated"));
	/* what is left of the 2 s */
	assert_ids_gone(&ids, 2000 - ms);
	lmp_test_agent_free(&a);
}

static void test_faults_sigterm_leaves_nothing(void **state)
{
	stop_leaves_nothing(SIGTERM);
}

static void test_faults_sigint_leaves_nothing(void **state)
{
	stop_leaves_nothing(SIGINT);
}

/*
 * GET path with a 1 s deadline, as a liveness probe would: the status code (and the body
 * in body), or -1 when nothing answered in time.
 */
static int get_1s(int port, const char *path, char *body, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[128], buf[1024];
	size_t got = 0;
	long end = now_ms() + 1000;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = -1;
	const char *b;

	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (got < sizeof(buf) - 1 && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			break;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0) {
			buf[got] = 0;
			if (n == 0 && sscanf(buf, "HTTP/1.%*d %d", &code) == 1 &&
			    (b = strstr(buf, "\r\n\r\n")))
				snprintf(body, len, "%s", b + 4);
			break;
		}
		got += n;
	}
out:
	close(fd);
	return code;
}

/*
 * Every probe, memleak on the root cgroup (every process of the node, 32 of them this
 * test's own): the pod's grace period is 30 s, the agent must be gone within 10, and
 * /healthz must answer "stopping" while it detaches, not hang. Perf-event uprobes, torn
 * down one by one under a kernel mutex, took 76-240 s here (docs/hardening.md).
 */
static void test_faults_stop_all_probes_memleak_root(void **state)
{
	const char *const args[] = { "--probes", "all",		"--memleak-cgroup",
				     "/",	 "--output",	"none",
				     "--listen", "127.0.0.1:0", "--interval",
				     "2",	 NULL };
	pid_t sleepers[32];
	struct lmp_test_agent a;
	int port, code, stopping = 0, no_answer = 0, other = 0, probes_503 = 0;
	char body[256];
	long t0, ms;
	int st = -1;

	for (size_t i = 0; i < sizeof(sleepers) / sizeof(sleepers[0]); i++) {
		sleepers[i] = lmp_test_spawn(F.cg, (char *const[]){
							   "/bin/sleep",
							   "120",
							   NULL,
						   });
		assert_true(sleepers[i] > 0);
	}
	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe memleak: tracing allocations of "));
	port = agent_port(&a);
	assert_int_equal(get_1s(port, "/healthz", body, sizeof(body)), 200);
	lmp_test_agent_pump(&a, 2500); /* an interval with its target refresh */
	t0 = now_ms();
	kill(a.pid, SIGTERM);
	while (now_ms() - t0 < 15000) {
		lmp_test_agent_pump(&a, 20);
		if (waitpid(a.pid, &st, WNOHANG) == a.pid)
			break;
		code = get_1s(port, "/healthz", body, sizeof(body));
		if (code == 503 && strcmp(body, "stopping\n") == 0)
			stopping++;
		else if (code < 0)
			no_answer++;
		else
			other++;
		/* the teardown thread owns the probes: their table is not served meanwhile */
		if (code == 503 && get_1s(port, "/api/v1/probes", body, sizeof(body)) == 503 &&
		    strcmp(body, "stopping\n") == 0)
			probes_503++;
	}
	ms = now_ms() - t0;
	if (!WIFEXITED(st))
		kill(a.pid, SIGKILL);
	else
		a.pid = 0;
	a.status = st;
	lmp_test_agent_pump(&a, 50);
	for (size_t i = 0; i < sizeof(sleepers) / sizeof(sleepers[0]); i++) {
		kill(sleepers[i], SIGKILL);
		lmp_test_wait_child(sleepers[i]);
	}
	print_message("stopped in %ld ms; /healthz: %d stopping, %d other, %d no answer\n", ms,
		      stopping, other, no_answer);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(ms <= 10000);
	assert_true(stopping >= 1);
	assert_true(probes_503 >= 1);
	assert_true(lmp_test_agent_stderr_has(&a, "probes detached in "));
	lmp_test_agent_free(&a);
}

static void test_faults_kill9_then_restart(void **state)
{
	struct lmp_test_agent a, b;
	const char *const args[] = { "--probes", "process,syscall", "--interval", "1", NULL };
	struct bpf_ids ids;

	assert_int_equal(lmp_test_agent_start(&a, args), 0);
	collect_ids(a.pid, &ids);
	assert_true(ids.n_prog >= 2);
	kill(a.pid, SIGKILL);
	assert_int_equal(wait_exit(&a, 2000) & 0x7f, SIGKILL);
	/* the kernel closed its fds: everything detached, nothing to clean by hand */
	assert_ids_gone(&ids, 2000);
	assert_int_equal(lmp_test_agent_start(&b, args), 0);
	assert_non_null(exec_seen(&b));
	assert_true(lmp_test_agent_stop(&b, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* ---- tracefs ---- */

#define UNMOUNT_TRACEFS                                                                        \
	"umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug/tracing "      \
	"2>/dev/null; if [ -d /sys/kernel/tracing/events ]; then echo wrapper: tracefs still " \
	"mounted >&2; exit 97; fi"

static void test_faults_tracefs_unmounted_is_mounted(void **state)
{
	struct lmp_test_agent a;
	char wrapper[256];

	write_wrapper("notracefs.sh", UNMOUNT_TRACEFS, false, wrapper, sizeof(wrapper));
	/* only classic tracepoints allowed: the probe works only if tracefs comes back */
	assert_int_equal(start_via(&a, wrapper,
				   (const char *const[]){ "--probes", "process", "--disable-hooks",
							  "tp_btf,raw_tp", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "mounted tracefs at /sys/kernel/tracing"));
	assert_true(lmp_test_agent_stderr_has(&a, "probe process: attached (exec=tracepoint,"
						  "exit=tracepoint)"));
	assert_non_null(exec_seen(&a));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
	/* the host's tracefs was never touched */
	assert_int_equal(access("/sys/kernel/tracing/events", F_OK), 0);
}

static void test_faults_tracefs_unmountable_degrades(void **state)
{
	struct lmp_test_agent a, b;
	char wrapper[256];

	write_wrapper("notracefs-nosysadmin.sh", UNMOUNT_TRACEFS, true, wrapper, sizeof(wrapper));
	/* mountsnoop prefers classic tracepoints: it falls back to tp_btf and says why */
	assert_int_equal(start_via(&a, wrapper,
				   (const char *const[]){ "--probes", "process,mountsnoop",
							  "--interval", "1", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "tracefs is not mounted and mounting it at "
						  "/sys/kernel/tracing failed: Operation not "
						  "permitted; tracepoint hooks are unavailable"));
	assert_true(lmp_test_agent_stderr_has(&a, "probe mountsnoop: attached (enter=tp_btf"));
	assert_non_null(exec_seen(&a));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);

	/* and a probe left with classic tracepoints only is unsupported, with the reason */
	assert_int_equal(start_via(&b, wrapper,
				   (const char *const[]){ "--probes", "process,profile",
							  "--disable-hooks", "tp_btf,raw_tp",
							  NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&b, "probe process: unsupported on this node: "));
	assert_true(lmp_test_agent_stderr_has(&b, "exec: tracepoint: tracefs is not mounted"));
	assert_true(lmp_test_agent_stderr_has(&b, "ready: 1 probes running"));
	assert_true(lmp_test_agent_stop(&b, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* ---- BTF ---- */

static void test_faults_btf_missing_or_garbage(void **state)
{
	struct lmp_test_agent a, b;
	char garbage[128], *body;
	json_t *arr;
	bool seen = false;
	int fd;

	/* profile needs no BTF (no CO-RE): it keeps running */
	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes", "process,profile",
							    "--btf-path", "/nonexistent/vmlinux",
							    "--listen", "127.0.0.1:0", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "no kernel BTF (/nonexistent/vmlinux: No such "
						  "file or directory); BTF-based hooks are "
						  "unavailable"));
	assert_true(lmp_test_agent_stderr_has(&a, "probe process: failed, skipped: load: "));
	assert_true(lmp_test_agent_stderr_has(&a, "needs kernel BTF, which is unavailable"));
	assert_true(lmp_test_agent_stderr_has(&a, "ready: 1 probes running"));
	body = lmp_test_http_get_body(&a, agent_port(&a), "/api/v1/probes");
	arr = json_loads(body, 0, NULL);
	free(body);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);
		const char *name = json_string_value(json_object_get(o, "name"));

		if (strcmp(name, "process"))
			continue;
		seen = true;
		assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
		assert_non_null(strstr(json_string_value(json_object_get(o, "reason")),
				       "needs kernel BTF"));
	}
	json_decref(arr);
	assert_true(seen);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);

	/* garbage, and nothing else to run: exit 1 with the reason */
	snprintf(garbage, sizeof(garbage), "%s/garbage.btf", F.dir);
	fd = open(garbage, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(write(fd, "not BTF!", 8), 8);
	close(fd);
	assert_int_equal(lmp_test_agent_start(&b,
					      (const char *const[]){ "--probes", "process",
								     "--btf-path", garbage, NULL }),
			 -1);
	assert_true(WIFEXITED(wait_exit(&b, 5000)));
	assert_int_equal(WEXITSTATUS(b.status), 1);
	assert_true(lmp_test_agent_stderr_has(&b, "garbage.btf: "));
	assert_true(lmp_test_agent_stderr_has(&b, "no probe could attach"));
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* ---- cgroup v2 ---- */

static void test_faults_cgroup_v2_absent(void **state)
{
	struct lmp_test_agent a, b;
	char wrapper[256], empty[128];
	const char *root = lmp_test_cgroup2_root();
	char prep[512];
	json_t *ev;

	/* the v2 mount hidden: as on a cgroup v1-only host, as far as the agent can tell */
	snprintf(prep, sizeof(prep),
		 "umount -l %s || exit 96; grep -q \" cgroup2 \" /proc/self/mountinfo && "
		 "{ echo wrapper: cgroup2 still mounted >&2; exit 97; }; true",
		 root);
	write_wrapper("nocgroup2.sh", prep, false, wrapper, sizeof(wrapper));
	assert_int_equal(
		start_via(&a, wrapper, (const char *const[]){ "--probes", "process", NULL }), 0);
	assert_true(lmp_test_agent_stderr_has(&a, "no cgroup v2 hierarchy: events carry cgroup "
						  "ids only, no cgroup path, no pod identity"));
	/* events still flow, with the cgroup id BPF saw and no path */
	ev = exec_seen(&a);
	assert_non_null(ev);
	assert_null(json_object_get(ev, "cgroup"));
	assert_null(json_object_get(ev, "k8s"));
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);

	/* --cgroup-root at something that is not cgroup2 */
	snprintf(empty, sizeof(empty), "%s/empty", F.dir);
	assert_true(mkdir(empty, 0755) == 0 || errno == EEXIST);
	assert_int_equal(lmp_test_agent_start(&b, (const char *const[]){ "--probes", "process",
									 "--cgroup-root", empty,
									 NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&b, "is not a cgroup v2 mount: events will carry "
						  "cgroup ids without paths or pod identity"));
	ev = exec_seen(&b);
	assert_non_null(ev);
	assert_null(json_object_get(ev, "cgroup"));
	assert_true(lmp_test_agent_stop(&b, 2000) >= 0);
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* ---- a kernel without the hook ---- */

static void test_faults_missing_hooks(void **state)
{
	struct lmp_test_agent a, b;
	char *m;

	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes",
									 "process,syscall,profile",
									 "--disable-hooks",
									 "tp_btf,raw_tp,tracepoint",
									 "--listen", "127.0.0.1:0",
									 "--interval", "1", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "probe process: unsupported on this node: exec: "
						  "tp_btf: disabled by --disable-hooks"));
	assert_true(lmp_test_agent_stderr_has(&a, "probe syscall: unsupported on this node: "));
	assert_true(lmp_test_agent_stderr_has(&a, "probe profile: attached (sample=perf_sw)"));
	assert_true(lmp_test_agent_stderr_has(&a, "ready: 1 probes running"));
	lmp_test_agent_pump(&a, 1500);
	m = lmp_test_http_get_body(&a, agent_port(&a), "/metrics");
	lmp_test_assert_contains(
		m, (const char *const[]){
			   "lmp_probe_up{probe=\"process\",attach=\"\"} 0",
			   "lmp_probe_up{probe=\"syscall\",attach=\"\"} 0",
			   "lmp_probe_up{probe=\"profile\",attach=\"sample=perf_sw\"} 1",
			   NULL,
		   });
	free(m);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);

	/* nothing left: exit 1, saying so */
	assert_int_equal(lmp_test_agent_start(&b, (const char *const[]){ "--probes", "process",
									 "--disable-hooks",
									 "tp_btf,raw_tp,tracepoint",
									 NULL }),
			 -1);
	assert_true(WIFEXITED(wait_exit(&b, 5000)));
	assert_int_equal(WEXITSTATUS(b.status), 1);
	assert_true(lmp_test_agent_stderr_has(&b, "no probe could attach; see 'lmp probes'"));
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* ---- /proc/<pid> gone ---- */

#define SHORT_LIVED 40

/* a syscall row of the pid in the test cgroup (the fork's syscalls before it joined the
 * cgroup may come out in an earlier row of the parent's cgroup) */
static bool is_syscall_row_of(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));

	return probe && !strcmp(probe, "syscall") &&
	       json_integer_value(json_object_get(ev, "pid")) == *(pid_t *)ctx &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == F.cgid;
}

static void test_faults_proc_gone_before_lookup(void **state)
{
	struct lmp_test_agent a;
	pid_t pids[SHORT_LIVED];
	size_t mark;
	int rows = 0;

	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes",
									 "syscall,profile,file",
									 "--interval", "2", "--top",
									 "1000", NULL }),
			 0);
	mark = a.errlen;
	/* each burns ~30 ms of CPU (profile samples it), makes syscalls, and is gone long
	 * before the next interval looks it up */
	for (int i = 0; i < SHORT_LIVED; i++) {
		pids[i] = lmp_test_spawn(
			F.cg,
			(char *const[]){
				"/bin/sh", "-c",
				"i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; cat /etc/hostname",
				NULL });
		assert_true(pids[i] > 0);
	}
	for (int i = 0; i < SHORT_LIVED; i++) {
		assert_int_equal(lmp_test_wait_child(pids[i]), 0);
		assert_int_equal(kill(pids[i], 0), -1); /* reaped: /proc/<pid> is gone */
	}
	for (int i = 0; i < SHORT_LIVED; i++) {
		json_t *ev = lmp_test_agent_wait(&a, 5000, is_syscall_row_of, &pids[i]);

		if (!ev)
			continue;
		rows++;
		assert_true(json_integer_value(json_object_get(ev, "syscalls_total")) > 0);
	}
	print_message("%d of %d exited processes have their syscall rows\n", rows, SHORT_LIVED);
	assert_int_equal(rows, SHORT_LIVED);
	lmp_test_agent_pump(&a, 2500); /* one more interval: profile and file rows of the dead */
	assert_int_equal(warnings_since(&a, mark), 0);
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	lmp_test_agent_free(&a);
}

/* ---- kubelet token ---- */

#define TOKEN "lmp-faults-token-3f9c1e77d2"

static bool output_has_token(struct lmp_test_agent *a)
{
	bool found = lmp_test_agent_stderr_has(a, TOKEN);

	for (size_t i = 0; !found && i < json_array_size(a->events); i++) {
		char *s = json_dumps(json_array_get(a->events, i), JSON_COMPACT);

		found = s && strstr(s, TOKEN);
		free(s);
	}
	return found;
}

static void test_faults_kubelet_token_never_logged(void **state)
{
	static const char podlist[] = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}";
	struct lmp_test_agent a, b;
	struct fake_kubelet *fk;
	char kdir[128], token_file[160];
	const char *paths[] = { "/metrics", "/api/v1/probes", "/api/v1/pods", "/" };
	FILE *f;

	snprintf(kdir, sizeof(kdir), "%s/kubelet", F.dir);
	assert_int_equal(fake_kubelet_start(kdir, 0, &fk), 0);
	fake_kubelet_set_token(fk, TOKEN);
	assert_int_equal(fake_kubelet_set_body(fk, podlist, sizeof(podlist) - 1), 0);
	snprintf(token_file, sizeof(token_file), "%s/token", F.dir);
	f = fopen(token_file, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", TOKEN);
	fclose(f);

	assert_int_equal(lmp_test_agent_start(
				 &a, (const char *const[]){ "--probes", "process", "--log-level",
							    "debug", "--listen", "127.0.0.1:0",
							    "--kubelet-url", fake_kubelet_url(fk),
							    "--kubelet-token-file", token_file,
							    "--kubelet-ca-file",
							    fake_kubelet_ca_file(fk),
							    "--kubelet-refresh", "1", NULL }),
			 0);
	assert_true(wait_stderr(&a, "kubelet: 0 pods", 5000));
	/* refused token, broken TLS: each logged, never with the token */
	fake_kubelet_set_fault(fk, FK_401, 0);
	assert_true(wait_stderr(&a, "(unauthorized)", 5000));
	fake_kubelet_set_fault(fk, FK_OK, 0);
	assert_int_equal(fake_kubelet_set_cert(fk, FK_CERT_OTHER_CA), 0);
	/* verification is on by default: a certificate from another CA is refused */
	assert_true(wait_stderr(&a, "(tls)", 8000));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *body = lmp_test_http_get_body(&a, agent_port(&a), paths[i]);

		assert_null(strstr(body, TOKEN));
		free(body);
	}
	assert_true(lmp_test_agent_stop(&a, 2000) >= 0);
	assert_false(output_has_token(&a));
	assert_true(fake_kubelet_requests(fk) > 0);

	/* turned off, it says so at start */
	assert_int_equal(lmp_test_agent_start(
				 &b,
				 (const char *const[]){ "--probes", "process", "--kubelet-url",
							fake_kubelet_url(fk),
							"--kubelet-token-file", token_file,
							"--kubelet-insecure-skip-verify", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&b, "TLS certificate verification is OFF"));
	assert_true(lmp_test_agent_stop(&b, 2000) >= 0);
	assert_false(output_has_token(&b));
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
	fake_kubelet_free(fk);
}

/* ---- setup ---- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_sigterm_leaves_nothing),
		cmocka_unit_test(test_faults_sigint_leaves_nothing),
		cmocka_unit_test(test_faults_kill9_then_restart),
		cmocka_unit_test(test_faults_tracefs_unmounted_is_mounted),
		cmocka_unit_test(test_faults_tracefs_unmountable_degrades),
		cmocka_unit_test(test_faults_btf_missing_or_garbage),
		cmocka_unit_test(test_faults_cgroup_v2_absent),
		cmocka_unit_test(test_faults_missing_hooks),
		cmocka_unit_test(test_faults_proc_gone_before_lookup),
		cmocka_unit_test(test_faults_kubelet_token_never_logged),
		/* last: memleak on the root cgroup slows every malloc of the node meanwhile */
		cmocka_unit_test(test_faults_stop_all_probes_memleak_root),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

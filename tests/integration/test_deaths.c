// SPDX-License-Identifier: Apache-2.0
/*
 * Container deaths against the real kernel: process, sigsnoop and oomkill run together and
 * the agent must join their records into one container/death event per death, with the
 * right cause, sender, signal sequence and OOM post-mortem, and serve them on
 * /api/v1/deaths, `lmp why` and lmp_container_deaths_total.
 *
 * Each "container" is a real process tree whose main process is pid 1 of a new PID
 * namespace (clone CLONE_NEWPID), in a kubepods-style cgroup v2 directory of a pod the fake
 * kubelet lists (a real PodList capture), and for the OOM cases in a cgroup v1 memory group
 * with a 32 MiB limit (this host is hybrid). Senders are real processes: /bin/sh on the
 * host, a process in another pod's cgroup, a process of the container itself; faults are
 * real (a NULL dereference).
 *
 * One file over 600 lines: its cases share one set-up (containers, pods, the fake kubelet)
 * and one agent per case; splitting them would copy that set-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "evchild.h"
#include "harness.h"

#define LIMIT (32ULL << 20)

/* pods of fixtures/kubelet/nri-kubernetes_k8s-1_22_pods.json */
#define VICTIM_REL                                                           \
	"kubepods.slice/kubepods-besteffort.slice/"                          \
	"kubepods-besteffort-pod394f0746_6390_45cd_bf37_db389c0c7d1e.slice/" \
	"cri-containerd-7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8.scope"
#define OTHER_REL                                                                \
	"kubepods.slice/kubepods-podc971f3b1_082a_4448_adf8_6ca14a9fee45.slice/" \
	"cri-containerd-11d9d0bc0acc90eefd786a66bab2cab6fc87ab8ef5e200bb2c9871807ad53b4d.scope"

struct ctx {
	struct lmp_test_agent agent;
	struct lmp_test_kube kube;
	char prefix[128], memcg_name[128];
	char victim_cg[4096], other_cg[4096], memcg[4096];
	__u64 victim_id, other_id;
};

static struct ctx C;

static int setup(void **state)
{
	const char *args[24] = { "--probes",   "process,sigsnoop,oomkill",
				 "--interval", "1",
				 "--listen",   "127.0.0.1:0" };
	char rel[4096];
	int n;

	lmp_test_require_root();
	if (lmp_test_kube_start(&C.kube, "nri-kubernetes_k8s-1_22_pods.json") < 0)
		return -1;
	snprintf(C.prefix, sizeof(C.prefix), "lmp-test/deaths-%d", getpid());
	snprintf(rel, sizeof(rel), "%s/%s", C.prefix, VICTIM_REL);
	if (lmp_test_cgroup_create(rel, C.victim_cg, sizeof(C.victim_cg), &C.victim_id) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "%s/%s", C.prefix, OTHER_REL);
	if (lmp_test_cgroup_create(rel, C.other_cg, sizeof(C.other_cg), &C.other_id) < 0)
		return -1;
	snprintf(C.memcg_name, sizeof(C.memcg_name), "lmp-test-deaths-%d", getpid());
	if (lmp_test_memcg_v1_create(C.memcg_name, LIMIT, C.memcg, sizeof(C.memcg)) < 0)
		return -1;
	n = lmp_test_kube_args(&C.kube, args, 6);
	args[n] = NULL;
	if (lmp_test_agent_start(&C.agent, args) < 0)
		return -1;
	lmp_test_kube_wait_sync(&C.agent);
	*state = &C;
	return 0;
}

static int teardown(void **state)
{
	lmp_test_agent_free(&C.agent);
	lmp_test_kube_stop(&C.kube);
	lmp_test_memcg_v1_remove(C.memcg);
	/* runc made the -runc tree in every hierarchy (cgroupfs driver) and removed its leaves */
	lmp_test_sh("find '%s/%s' /sys/fs/cgroup/*/'%s-runc' -depth -type d -exec rmdir {} + "
		    "2>/dev/null",
		    lmp_test_cgroup2_root(), C.prefix, C.prefix);
	return 0;
}

/* ---- containers: pid 1 of a new PID namespace, in the pod's cgroups ---- */

/*
 * Start a container: its main process is pid 1 of a new PID namespace (a direct child of
 * the test, so the test reaps it), joins cg and memcg (NULL: none), takes comm and exits
 * with fn(arg). ready (may be NULL) is written once it is set up.
 */
static pid_t container(const char *cg, const char *memcg, const char *comm, int (*fn)(void *),
		       void *arg)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	struct rlimit no_core = { 0, 0 };

	if (pid != 0)
		return pid;
	signal(SIGSEGV, SIG_DFL); /* cmocka's handlers must not run in the container */
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	setrlimit(RLIMIT_CORE, &no_core);
	if ((memcg && lmp_test_cgroup_join(memcg) < 0) || (cg && lmp_test_cgroup_join(cg) < 0) ||
	    getpid() != 1)
		_exit(126);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	_exit(fn(arg));
}

/* ---- events ---- */

struct want_death {
	pid_t pid;
};

static bool is_death(json_t *ev, void *ctx)
{
	struct want_death *w = ctx;

	return !strcmp(lmp_test_jstr(ev, "probe") ?: "", "container") &&
	       !strcmp(lmp_test_jstr(ev, "event") ?: "", "death") &&
	       lmp_test_jint(ev, "pid") == w->pid;
}

static json_t *wait_death(pid_t pid)
{
	struct want_death w = { pid };
	json_t *ev = lmp_test_agent_wait(&C.agent, 10000, is_death, &w);

	if (!ev)
		fail_msg("no container/death event for pid %d", pid);
	return ev;
}

static void assert_in_victim_pod(json_t *ev, pid_t pid, const char *comm)
{
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_jstr(ev, "comm", comm);
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.victim_id);
	assert_jstr(ev, "k8s.namespace", "kube-system");
	assert_jstr(ev, "k8s.pod", "storage-provisioner");
	assert_jstr(ev, "k8s.container", "storage-provisioner");
}

static bool jbool(json_t *ev, const char *key)
{
	json_t *v = lmp_test_jget(ev, key);

	if (!json_is_boolean(v))
		fail_msg("%s is not a boolean", key);
	return json_is_true(v);
}

static double jreal(json_t *ev, const char *key)
{
	json_t *v = lmp_test_jget(ev, key);

	if (!json_is_number(v))
		fail_msg("%s is not a number", key);
	return json_number_value(v);
}

static void assert_summary(json_t *ev, const char *want)
{
	const char *s = lmp_test_jstr(ev, "summary");

	if (!s || strcmp(s, want))
		fail_msg("summary: got '%s', want '%s'", s ? s : "(none)", want);
}

/* "2026-12-06T19:50:01.123456789Z" -> ns since the epoch */
static long long ts_ns(json_t *ev)
{
	const char *s = lmp_test_jstr(ev, "ts");
	struct tm tm = { 0 };
	char *frac;

	assert_non_null(s);
	frac = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(frac);
	assert_int_equal(*frac, '.');
	return (long long)timegm(&tm) * 1000000000LL + strtoll(frac + 1, NULL, 10);
}

static json_t *wait_signal(pid_t target, int sig)
{
	struct lmp_test_fields w = {
		"sigsnoop", "signal", { "target_pid", "sig" }, { target, sig }
	};

	return lmp_test_agent_wait(&C.agent, 10000, lmp_test_match_fields, &w);
}

static int deaths_seen; /* container/death events of the victim pod so far */

/* the death event of pid, a process of the victim pod (counted) */
static json_t *victim_death(pid_t pid)
{
	deaths_seen++;
	return wait_death(pid);
}

/* pid, a child, was killed by sig */
static void killed_by(pid_t pid, int sig)
{
	int st;

	assert_true(pid > 0);
	st = lmp_test_wait_child(pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == sig);
}

/* ---- the cases ---- */

static int hog(void *arg)
{
	lmp_test_oom_score_adj(500);
	lmp_test_touch(200ULL << 20, 5);
	return 0; /* not reached: OOM-killed */
}

static void test_main_process_oom_killed(void **state)
{
	pid_t pid = container(C.victim_cg, C.memcg, "lmp-d-oommain", hog, NULL);
	char want[256];
	json_t *ev;

	killed_by(pid, SIGKILL);
	ev = victim_death(pid);
	assert_in_victim_pod(ev, pid, "lmp-d-oommain");
	assert_true(jbool(ev, "main_process"));
	assert_int_equal(lmp_test_jint(ev, "ns_pid"), 1);
	assert_jstr(ev, "cause", "oom_kill");
	assert_jstr(ev, "signal", "SIGKILL");
	assert_true(json_is_null(lmp_test_jget(ev, "exit_code")));
	assert_int_equal(lmp_test_jint(ev, "status_code"), 137);
	assert_jstr(ev, "oom.scope", "memcg");
	assert_int_equal(lmp_test_jint(ev, "oom.limit_bytes"), LIMIT);
	assert_true(lmp_test_jint(ev, "oom.usage_bytes") > (long long)(LIMIT / 2));
	assert_int_equal(lmp_test_jint(ev, "oom.oom_score_adj"), 500);
	assert_true(lmp_test_jint(ev, "oom.victim_rss_bytes") >= (long long)(LIMIT / 2));
	assert_string_equal(strrchr(lmp_test_jstr(ev, "oom.memcg_path"), '/') + 1, C.memcg_name);
	assert_null(lmp_test_jget(ev, "oom.trigger"));
	assert_null(lmp_test_jget(ev, "sender"));
	/* post-mortem of the v1 memcg: anon/file/shmem from memory.stat, kernel from kmem */
	assert_true(jreal(ev, "oom.read_after_ms") >= 0);
	assert_true(jreal(ev, "oom.read_after_ms") < 10000);
	assert_true(json_is_integer(lmp_test_jget(ev, "oom.memory_stat.anon_bytes")));
	assert_true(json_is_integer(lmp_test_jget(ev, "oom.memory_stat.file_bytes")));
	assert_true(json_is_integer(lmp_test_jget(ev, "oom.memory_stat.shmem_bytes")));
	assert_true(json_is_integer(lmp_test_jget(ev, "oom.memory_stat.kernel_bytes")));
	assert_true(json_is_null(lmp_test_jget(ev, "oom.memory_stat.slab_bytes"))); /* not in v1 */
	assert_true(lmp_test_jint(ev, "oom.victim_anon_bytes") >= (long long)(LIMIT / 2));
	snprintf(want, sizeof(want),
		 "OOM-killed: container memory limit 32 MiB reached (usage %lld MiB, victim anon "
		 "%lld MiB); killed by the kernel; the container's main process: the container "
		 "stops",
		 lmp_test_jint(ev, "oom.usage_bytes") >> 20,
		 lmp_test_jint(ev, "oom.victim_anon_bytes") >> 20);
	assert_summary(ev, want);
}

/* pid 1 stays small and waits for a worker that allocates past the limit */
static int oom_worker_parent(void *arg)
{
	int *worker_pid_pipe = arg;
	pid_t w = fork();
	int st;

	if (w == 0) {
		prctl(PR_SET_NAME, "lmp-d-worker", 0, 0, 0);
		lmp_test_oom_score_adj(1000);
		lmp_test_touch(200ULL << 20, 5);
		_exit(0);
	}
	if (write(worker_pid_pipe[1], &(int){ 0 }, sizeof(int)) != sizeof(int))
		return 4;
	if (waitpid(w, &st, 0) != w || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		return 5;
	return 0; /* the main process survives the worker's OOM kill and exits normally */
}

static bool is_worker_oom(json_t *ev, void *ctx)
{
	return !strcmp(lmp_test_jstr(ev, "probe") ?: "", "oomkill") &&
	       !strcmp(lmp_test_jstr(ev, "comm") ?: "", "lmp-d-worker");
}

static void test_worker_oom_killed_main_survives(void **state)
{
	int p[2];
	pid_t pid, worker;
	json_t *ev, *kill;
	int st, dummy;

	assert_int_equal(pipe(p), 0);
	pid = container(C.victim_cg, C.memcg, "lmp-d-oommain2", oom_worker_parent, p);
	assert_true(pid > 0);
	assert_int_equal(read(p[0], &dummy, sizeof(dummy)), sizeof(dummy));
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(p[0]);
	close(p[1]);

	/* the oomkill event names the worker (its host pid) and carries the post-mortem */
	kill = lmp_test_agent_wait(&C.agent, 10000, is_worker_oom, NULL);
	assert_non_null(kill);
	worker = lmp_test_jint(kill, "pid");
	assert_true(worker > 0 && worker != pid);
	assert_true(jreal(kill, "postmortem.read_after_ms") >= 0);
	assert_true(json_is_integer(lmp_test_jget(kill, "postmortem.memory_stat.anon_bytes")));
	assert_true(json_is_integer(lmp_test_jget(kill, "postmortem.memory_events.oom_kill")));
	assert_true(lmp_test_jint(kill, "postmortem.memory_events.oom_kill") >= 1);
	assert_true(json_is_integer(lmp_test_jget(kill, "postmortem.memory_events.failcnt")));
	/* hybrid host: pressure from the victim's v2 cgroup */
	assert_true(json_is_number(lmp_test_jget(kill, "postmortem.memory_pressure.some_avg10")));
	assert_true(json_is_array(lmp_test_jget(kill, "postmortem.top_tasks")));

	ev = victim_death(worker);
	assert_in_victim_pod(ev, worker, "lmp-d-worker");
	assert_false(jbool(ev, "main_process"));
	assert_int_equal(lmp_test_jint(ev, "ns_pid"), 2);
	assert_jstr(ev, "cause", "oom_kill");
	assert_int_equal(lmp_test_jint(ev, "oom.oom_score_adj"), 1000);
	assert_int_equal(lmp_test_jint(ev, "oom.limit_bytes"), LIMIT);
	assert_non_null(strstr(lmp_test_jstr(ev, "summary"),
			       "; not the container's main process: the container keeps running"));

	/* then the main process's own normal exit */
	ev = victim_death(pid);
	assert_true(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "exit");
	assert_int_equal(lmp_test_jint(ev, "exit_code"), 0);
	assert_summary(ev, "exited with code 0; the container's main process: the container stops");
}

/* a main process that handles SIGTERM and goes on: only the SIGKILL ends it */
static void on_term(int sig)
{
}

static int stubborn(void *arg)
{
	int *ready = arg;

	signal(SIGTERM, on_term);
	if (write(ready[1], "r", 1) != 1)
		return 4;
	for (;;)
		pause();
}

static void test_sigterm_then_sigkill_grace_period(void **state)
{
	int ready[2];
	pid_t pid;
	json_t *ev, *term, *kill;
	char c;
	long long gap;

	assert_int_equal(pipe(ready), 0);
	pid = container(C.victim_cg, NULL, "lmp-d-stubborn", stubborn, ready);
	assert_int_equal(read(ready[0], &c, 1), 1);
	/* a host process outside every pod: a shell that sends TERM, waits 1 s, sends KILL */
	assert_int_equal(
		lmp_test_sh("/bin/sh -c 'kill -TERM %d; sleep 1; kill -KILL %d'", pid, pid), 0);
	killed_by(pid, SIGKILL);
	close(ready[0]);
	close(ready[1]);

	ev = victim_death(pid);
	term = wait_signal(pid, SIGTERM);
	kill = wait_signal(pid, SIGKILL);
	assert_non_null(term);
	assert_non_null(kill);
	assert_in_victim_pod(ev, pid, "lmp-d-stubborn");
	assert_true(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "signal");
	assert_jstr(ev, "signal", "SIGKILL");
	assert_int_equal(lmp_test_jint(ev, "status_code"), 137);
	assert_int_equal(lmp_test_jint(ev, "sender.pid"), lmp_test_jint(kill, "pid"));
	assert_jstr(ev, "sender.comm", "sh");
	assert_jstr(ev, "sender.role", "host");
	assert_true(jbool(ev, "sender.host"));
	assert_null(lmp_test_jget(ev, "sender.k8s"));
	if (!strstr(lmp_test_jstr(ev, "sender.cmdline") ?: "", "/bin/sh -c kill -TERM"))
		fail_msg("cmdline %s", json_dumps(ev, 0));
	/* the interval is the one between the two signals the kernel generated */
	gap = ts_ns(kill) - ts_ns(term);
	assert_true(gap >= 1000000000LL);
	/* (the event times are boot-clock times shifted to wall-clock time: the shift is
	 * re-read each interval, so they may differ from the kernel's by a few microseconds) */
	assert_true(llabs((long long)(jreal(ev, "grace_period_s") * 1e9) - gap) < 20000);
	assert_int_equal(json_array_size(lmp_test_jget(ev, "signals")), 2);
	assert_jstr(json_array_get(lmp_test_jget(ev, "signals"), 0), "signal", "SIGTERM");
	assert_jstr(json_array_get(lmp_test_jget(ev, "signals"), 1), "signal", "SIGKILL");
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "SIGKILL from host process sh (pid %lld) %.1f s after SIGTERM from host "
			 "process sh (pid %lld): grace period ran out; the container's main "
			 "process: the container stops",
			 lmp_test_jint(kill, "pid"), gap / 1e9, lmp_test_jint(term, "pid"));
		assert_summary(ev, want);
	}
}

static int sleeper(void *arg)
{
	int *ready = arg;

	if (write(ready[1], "r", 1) != 1)
		return 4;
	for (;;)
		pause();
}

struct kill_arg {
	pid_t target;
};

static int killer(void *arg)
{
	struct kill_arg *k = arg;

	return kill(k->target, SIGKILL) == 0 ? 0 : 7;
}

static void test_kill_from_another_pod(void **state)
{
	struct kill_arg k;
	int ready[2];
	pid_t pid, sender;
	json_t *ev;
	char c, want[256];

	assert_int_equal(pipe(ready), 0);
	pid = container(C.victim_cg, NULL, "lmp-d-target", sleeper, ready);
	assert_int_equal(read(ready[0], &c, 1), 1);
	k.target = pid;
	sender = lmp_test_fork_in(C.other_cg, NULL, "lmp-d-otherpod", killer, &k);
	assert_int_equal(WEXITSTATUS(lmp_test_wait_child(sender)), 0);
	killed_by(pid, SIGKILL);
	close(ready[0]);
	close(ready[1]);

	ev = victim_death(pid);
	assert_in_victim_pod(ev, pid, "lmp-d-target");
	assert_true(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "signal");
	assert_jstr(ev, "signal", "SIGKILL");
	assert_int_equal(lmp_test_jint(ev, "sender.pid"), sender);
	assert_jstr(ev, "sender.comm", "lmp-d-otherpod");
	assert_jstr(ev, "sender.role", "pod");
	assert_false(jbool(ev, "sender.host"));
	assert_int_equal(lmp_test_jint(ev, "sender.cgroup_id"), C.other_id);
	assert_jstr(ev, "sender.k8s.namespace", "kube-system");
	assert_jstr(ev, "sender.k8s.pod", "kindnet-q6dh9");
	assert_jstr(ev, "sender.k8s.container", "kindnet-cni");
	assert_null(lmp_test_jget(ev, "grace_period_s"));
	snprintf(want, sizeof(want),
		 "SIGKILL from pod kube-system/kindnet-q6dh9 (lmp-d-otherpod, pid %d); the "
		 "container's main process: the container stops",
		 sender);
	assert_summary(ev, want);
}

/* the container kills one of its own processes: pid 1 starts a worker, then a killer */
static int self_killer(void *arg)
{
	int ready[2];
	pid_t w, k;
	int st;
	char c;

	if (pipe(ready) < 0)
		return 3;
	w = fork();
	if (w == 0) {
		prctl(PR_SET_NAME, "lmp-d-selfwork", 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	if (read(ready[0], &c, 1) != 1)
		return 4;
	k = fork();
	if (k == 0) {
		prctl(PR_SET_NAME, "lmp-d-selfkill", 0, 0, 0);
		_exit(kill(w, SIGTERM) == 0 ? 0 : 7);
	}
	if (waitpid(k, &st, 0) != k || waitpid(w, &st, 0) != w || !WIFSIGNALED(st))
		return 5;
	return 0;
}

static bool is_exit_of(json_t *ev, void *ctx)
{
	return !strcmp(lmp_test_jstr(ev, "probe") ?: "", "process") &&
	       !strcmp(lmp_test_jstr(ev, "event") ?: "", "exit") &&
	       !strcmp(lmp_test_jstr(ev, "comm") ?: "", (const char *)ctx);
}

static void test_container_kills_its_own_process(void **state)
{
	pid_t pid = container(C.victim_cg, NULL, "lmp-d-selfmain", self_killer, NULL);
	json_t *ev, *wexit, *kexit;
	char want[256];
	int st;

	assert_true(pid > 0);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	wexit = lmp_test_agent_wait(&C.agent, 10000, is_exit_of, "lmp-d-selfwork");
	kexit = lmp_test_agent_wait(&C.agent, 10000, is_exit_of, "lmp-d-selfkill");
	assert_non_null(wexit);
	assert_non_null(kexit);

	ev = victim_death(lmp_test_jint(wexit, "pid"));
	assert_in_victim_pod(ev, lmp_test_jint(wexit, "pid"), "lmp-d-selfwork");
	assert_false(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "signal");
	assert_jstr(ev, "signal", "SIGTERM");
	assert_int_equal(lmp_test_jint(ev, "status_code"), 143);
	assert_int_equal(lmp_test_jint(ev, "sender.pid"), lmp_test_jint(kexit, "pid"));
	assert_jstr(ev, "sender.comm", "lmp-d-selfkill");
	assert_jstr(ev, "sender.role", "same_container");
	assert_false(jbool(ev, "sender.host"));
	assert_int_equal(lmp_test_jint(ev, "sender.cgroup_id"), C.victim_id);
	snprintf(want, sizeof(want),
		 "SIGTERM from the container itself (lmp-d-selfkill, pid %lld); not the "
		 "container's main process: the container keeps running",
		 lmp_test_jint(kexit, "pid"));
	assert_summary(ev, want);
	/* the killer exited normally and is not the main process: no record of its own */
	ev = victim_death(pid);
	assert_jstr(ev, "cause", "exit");
}

static int segv(void *arg)
{
	volatile int *p = arg;

	return *p; /* arg is NULL */
}

static void test_sigsegv(void **state)
{
	pid_t pid = container(C.victim_cg, NULL, "lmp-d-segv", segv, NULL);
	json_t *ev;

	killed_by(pid, SIGSEGV);
	ev = victim_death(pid);
	assert_in_victim_pod(ev, pid, "lmp-d-segv");
	assert_true(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "kernel_signal");
	assert_jstr(ev, "signal", "SIGSEGV");
	assert_int_equal(lmp_test_jint(ev, "status_code"), 139);
	assert_false(jbool(ev, "core_dumped")); /* RLIMIT_CORE 0 */
	assert_jstr(ev, "sender.role", "kernel");
	assert_int_equal(lmp_test_jint(ev, "sender.pid"), pid); /* raised while it ran */
	assert_summary(ev, "SIGSEGV: crashed on a bad memory access; the container's main "
			   "process: the container stops");
}

static int ret_code(void *arg)
{
	return (int)(long)arg;
}

static void check_exit(int code)
{
	pid_t pid = container(C.victim_cg, NULL, "lmp-d-exit", ret_code, (void *)(long)code);
	char want[128];
	json_t *ev;
	int st;

	assert_true(pid > 0);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), code);
	ev = victim_death(pid);
	assert_in_victim_pod(ev, pid, "lmp-d-exit");
	assert_true(jbool(ev, "main_process"));
	assert_int_equal(lmp_test_jint(ev, "ns_pid"), 1);
	assert_jstr(ev, "cause", "exit");
	assert_int_equal(lmp_test_jint(ev, "exit_code"), code);
	assert_int_equal(lmp_test_jint(ev, "status_code"), code);
	assert_true(json_is_null(lmp_test_jget(ev, "signal")));
	assert_int_equal(json_array_size(lmp_test_jget(ev, "signals")), 0);
	assert_true(jreal(ev, "lifetime_s") > 0);
	snprintf(want, sizeof(want),
		 "exited with code %d; the container's main process: the container stops", code);
	assert_summary(ev, want);
}

static void test_exit_0(void **state)
{
	check_exit(0);
}

static void test_exit_3(void **state)
{
	check_exit(3);
}

/* a host process's exit (not in a pod) makes no death record */
static void test_host_process_no_death(void **state)
{
	pid_t pid = container(NULL, NULL, "lmp-d-host", ret_code, (void *)3L);
	struct lmp_test_want w = { "process", "exit", 0 };
	struct want_death d;
	json_t *ev;

	w.pid = pid;
	assert_true(WIFEXITED(lmp_test_wait_child(pid)));
	assert_non_null(lmp_test_agent_wait(&C.agent, 10000, lmp_test_match_want, &w));
	lmp_test_agent_pump(&C.agent, 600); /* longer than the settle time */
	d.pid = pid;
	ev = lmp_test_agent_wait(&C.agent, 0, is_death, &d);
	assert_null(ev);
}

/* ---- real OCI containers: runc is the runtime, and the sender ---- */

#define RUNC "/usr/sbin/runc"

static char bundle[128];

/* an OCI bundle: a read-only busybox rootfs, args, an optional memory limit, the pod's cgroup */
static void make_bundle(const char *id, const char *const *args, unsigned long long limit)
{
	char path[256], cgpath[4096];
	json_t *cfg, *a;
	int i;

	assert_non_null(mkdtemp(strcpy(bundle, "/tmp/lmp-deaths-bundle-XXXXXX")));
	assert_int_equal(lmp_test_sh("mkdir -p %s/rootfs/bin && cp /bin/busybox %s/rootfs/bin/ && "
				     "cd %s && " RUNC " spec",
				     bundle, bundle, bundle),
			 0);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	cfg = json_load_file(path, 0, NULL);
	assert_non_null(cfg);
	a = json_array();
	for (i = 0; args[i]; i++)
		json_array_append_new(a, json_string(args[i]));
	json_object_set_new(json_object_get(cfg, "process"), "args", a);
	json_object_set_new(json_object_get(cfg, "process"), "terminal", json_false());
	json_object_set_new(json_object_get(cfg, "root"), "readonly", json_true());
	/* cgroupfs driver: the same relative path in every hierarchy, v2 included */
	snprintf(cgpath, sizeof(cgpath), "/%s-runc/%s", C.prefix, OTHER_REL);
	json_object_set_new(json_object_get(cfg, "linux"), "cgroupsPath", json_string(cgpath));
	if (limit) {
		json_t *res = json_object_get(json_object_get(cfg, "linux"), "resources");

		json_object_set_new(res, "memory", json_pack("{sI}", "limit", (json_int_t)limit));
	}
	assert_int_equal(json_dump_file(cfg, path, JSON_INDENT(1)), 0);
	json_decref(cfg);
}

static void remove_bundle(const char *id)
{
	lmp_test_sh(RUNC " delete --force %s >/dev/null 2>&1; rm -rf %s", id, bundle);
}

/* the container's pid, from `runc state` */
static pid_t runc_pid(const char *id)
{
	char cmd[256];
	FILE *f;
	json_t *st;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), RUNC " state %s", id);
	f = popen(cmd, "r");
	assert_non_null(f);
	st = json_loadf(f, 0, NULL);
	pclose(f);
	assert_non_null(st);
	pid = json_integer_value(json_object_get(st, "pid"));
	json_decref(st);
	return pid;
}

/*
 * `runc run -d` a container and wait until its pid 1 runs busybox. runc's own init sometimes
 * dies before it execs the container's process here (its parent-death signal races `run -d`
 * on a loaded machine): start again then. The container stays until remove_bundle(id).
 */
static pid_t runc_start(char *id, size_t idlen, const char *name, const char *const *args,
			unsigned long long limit)
{
	pid_t pid;

	for (int attempt = 0;; attempt++) {
		char comm[32] = "";

		assert_true(attempt < 3);
		snprintf(id, idlen, "lmp-deaths-%s-%d-%d", name, getpid(), attempt);
		make_bundle(id, args, limit);
		assert_int_equal(lmp_test_sh("cd %s && " RUNC " run -d --bundle %s %s </dev/null "
					     ">/dev/null",
					     bundle, bundle, id),
				 0);
		pid = runc_pid(id);
		assert_true(pid > 0);
		for (int i = 0; i < 40 && strcmp(comm, "busybox\n"); i++) {
			char path[64];
			FILE *f;

			usleep(50000);
			snprintf(path, sizeof(path), "/proc/%d/comm", pid);
			f = fopen(path, "r");
			if (!f || !fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			if (f)
				fclose(f);
		}
		if (!strcmp(comm, "busybox\n"))
			return pid;
		remove_bundle(id);
	}
}

static bool is_exec_of_runc_kill(json_t *ev, void *ctx)
{
	json_t *argv = lmp_test_jget(ev, "argv");

	return !strcmp(lmp_test_jstr(ev, "probe") ?: "", "process") &&
	       !strcmp(lmp_test_jstr(ev, "event") ?: "", "exec") && json_array_size(argv) >= 4 &&
	       !strcmp(json_string_value(json_array_get(argv, 1)) ?: "", "kill") &&
	       !strcmp(json_string_value(json_array_get(argv, 3)) ?: "", (const char *)ctx);
}

/* busybox sleep as pid 1 has no SIGTERM handler: the kernel ignores runc's SIGTERM */
static void test_runc_kill_after_grace_period(void **state)
{
	static const char *const args[] = { "/bin/busybox", "sleep", "1000", NULL };
	char id[64], want[512];
	pid_t pid;
	json_t *ev, *term, *kill, *kexec;
	long long gap;

	pid = runc_start(id, sizeof(id), "grace", args, 0);
	if (lmp_test_sh(RUNC " kill %s TERM && sleep 1 && " RUNC " kill %s KILL", id, id) != 0) {
		json_t *x = wait_death(pid);
		char *d = json_dumps(x, 0);

		remove_bundle(id);
		fail_msg("runc kill failed: the container died before: %s", d);
	}
	ev = wait_death(pid);
	term = wait_signal(pid, SIGTERM);
	kill = wait_signal(pid, SIGKILL);
	kexec = lmp_test_agent_wait(&C.agent, 5000, is_exec_of_runc_kill, "KILL");
	remove_bundle(id);
	assert_non_null(term);
	assert_non_null(kill);
	assert_non_null(kexec);
	assert_jstr(term, "delivery", "ignored"); /* pid 1 without a handler */
	assert_jstr(ev, "comm", "busybox");
	assert_jstr(ev, "k8s.namespace", "kube-system");
	assert_jstr(ev, "k8s.pod", "kindnet-q6dh9");
	assert_jstr(ev, "k8s.container", "kindnet-cni");
	assert_true(jbool(ev, "main_process"));
	assert_int_equal(lmp_test_jint(ev, "ns_pid"), 1);
	assert_jstr(ev, "cause", "signal");
	assert_jstr(ev, "signal", "SIGKILL");
	assert_jstr(ev, "sender.role", "runc");
	assert_true(jbool(ev, "sender.host"));
	assert_int_equal(lmp_test_jint(ev, "sender.pid"), lmp_test_jint(kill, "pid"));
	assert_string_equal(lmp_test_jstr(ev, "sender.comm"), lmp_test_jstr(kill, "comm"));
	assert_non_null(strstr(lmp_test_jstr(ev, "sender.cmdline") ?: "", " kill "));
	gap = ts_ns(kill) - ts_ns(term);
	assert_true(gap >= 1000000000LL);
	assert_true(llabs((long long)(jreal(ev, "grace_period_s") * 1e9) - gap) < 20000);
	snprintf(want, sizeof(want),
		 "SIGKILL from runc (pid %lld) %.1f s after SIGTERM from runc (pid %lld): grace "
		 "period ran out; the container's main process: the container stops",
		 lmp_test_jint(kill, "pid"), gap / 1e9, lmp_test_jint(term, "pid"));
	assert_summary(ev, want);
}

static bool is_busybox_oom(json_t *ev, void *ctx)
{
	return !strcmp(lmp_test_jstr(ev, "probe") ?: "", "oomkill") &&
	       !strcmp(lmp_test_jstr(ev, "comm") ?: "", "busybox");
}

/* busybox dd with a 64 MiB buffer in a container limited to 32 MiB */
static void test_runc_oom_killed(void **state)
{
	/* it runs a moment first, as containers do, then allocates as pid 1 (exec) */
	static const char *const args[] = { "/bin/busybox", "sh", "-c",
					    "/bin/busybox sleep 2; exec /bin/busybox dd "
					    "if=/dev/zero of=/dev/null bs=64M count=4",
					    NULL };
	char id[64];
	json_t *ev;
	pid_t pid;

	/* detached: the cgroups stay until `runc delete`, so the post-mortem finds them */
	runc_start(id, sizeof(id), "oom", args, LIMIT);
	ev = lmp_test_agent_wait(&C.agent, 10000, is_busybox_oom, NULL);
	assert_non_null(ev);
	pid = lmp_test_jint(ev, "pid");
	ev = wait_death(pid);
	remove_bundle(id);
	assert_jstr(ev, "comm", "busybox");
	assert_jstr(ev, "k8s.pod", "kindnet-q6dh9");
	assert_jstr(ev, "k8s.container", "kindnet-cni");
	assert_true(jbool(ev, "main_process"));
	assert_jstr(ev, "cause", "oom_kill");
	assert_int_equal(lmp_test_jint(ev, "status_code"), 137);
	assert_jstr(ev, "oom.scope", "memcg");
	assert_int_equal(lmp_test_jint(ev, "oom.limit_bytes"), LIMIT);
	assert_non_null(strstr(lmp_test_jstr(ev, "oom.memcg_path") ?: "", OTHER_REL));
	assert_true(json_is_integer(lmp_test_jget(ev, "oom.memory_stat.anon_bytes")));
	assert_non_null(strstr(lmp_test_jstr(ev, "summary"),
			       "OOM-killed: container memory limit 32 MiB reached"));
}

/* run cmd, the agent's output drained meanwhile; returns its stdout (malloc'd) */
static char *run(const char *cmd, int *status)
{
	char *out = lmp_test_sh_read(&C.agent, cmd, status);

	assert_non_null(out);
	return out;
}

static size_t victim_deaths_printed(json_t **newest)
{
	size_t n = 0, i;
	json_t *ev;

	*newest = NULL;
	json_array_foreach(C.agent.events, i, ev) {
		if (!strcmp(lmp_test_jstr(ev, "probe") ?: "", "container") &&
		    !strcmp(lmp_test_jstr(ev, "k8s.pod") ?: "", "storage-provisioner")) {
			n++;
			*newest = ev;
		}
	}
	return n;
}

static void test_api_why_and_metric(void **state)
{
	int port = lmp_test_agent_http_port(&C.agent);
	char cmd[512], *out;
	json_t *doc, *arr, *newest, *x;
	size_t printed, i;
	int st;

	assert_true(port > 0);
	printed = victim_deaths_printed(&newest);
	assert_int_equal(printed, deaths_seen);
	assert_true(printed > 8); /* more than are kept: the bound shows */

	/* the API: the last 8 of the container, newest first, the same records as printed */
	snprintf(
		cmd, sizeof(cmd),
		"curl -sf --max-time 10 "
		"'http://127.0.0.1:%d/api/v1/deaths?namespace=kube-system&pod=storage-provisioner'",
		port);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	doc = json_loads(out, 0, NULL);
	free(out);
	arr = json_object_get(doc, "deaths");
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 8);
	assert_int_equal(lmp_test_jint(json_array_get(arr, 0), "pid"),
			 lmp_test_jint(newest, "pid"));
	assert_string_equal(lmp_test_jstr(json_array_get(arr, 0), "summary"),
			    lmp_test_jstr(newest, "summary"));
	assert_string_equal(lmp_test_jstr(json_array_get(arr, 0), "ts"),
			    lmp_test_jstr(newest, "ts"));
	json_array_foreach(arr, i, x) {
		assert_jstr(x, "k8s.pod", "storage-provisioner");
		if (i)
			assert_true(strcmp(lmp_test_jstr(json_array_get(arr, i - 1), "ts"),
					   lmp_test_jstr(x, "ts")) >= 0);
	}
	json_decref(doc);

	/* another pod's query: nothing died there */
	snprintf(cmd, sizeof(cmd),
		 "curl -sf --max-time 10 "
		 "'http://127.0.0.1:%d/api/v1/deaths?namespace=scraper&pod=e2e-statefulset-1'",
		 port);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_string_equal(out, "{\"deaths\":[]}");
	free(out);

	/* lmp why, -o json: the API's document */
	snprintf(cmd, sizeof(cmd),
		 "%s why kube-system/storage-provisioner storage-provisioner --agent "
		 "http://127.0.0.1:%d -o json",
		 lmp_test_binary(), port);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	doc = json_loads(out, 0, NULL);
	free(out);
	assert_int_equal(json_array_size(json_object_get(doc, "deaths")), 8);
	assert_int_equal(lmp_test_jint(json_array_get(json_object_get(doc, "deaths"), 0), "pid"),
			 lmp_test_jint(newest, "pid"));
	json_decref(doc);

	/* lmp why, text: the newest death first, its summary line */
	snprintf(cmd, sizeof(cmd),
		 "%s why kube-system/storage-provisioner --agent http://127.0.0.1:%d",
		 lmp_test_binary(), port);
	out = run(cmd, &st);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, lmp_test_jstr(newest, "summary")));
	assert_true(strstr(out, lmp_test_jstr(newest, "ts")) == out);
	assert_non_null(
		strstr(out, "kube-system/storage-provisioner container storage-provisioner"));
	free(out);

	/* no agent there: one line, status 1 */
	snprintf(cmd, sizeof(cmd), "%s why a/b --agent http://127.0.0.1:1 2>&1", lmp_test_binary());
	out = run(cmd, &st);
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_non_null(strstr(out, "lmp why: cannot read http://127.0.0.1:1/api/v1/deaths"));
	free(out);

	/* the metric counts every death, by cause */
	assert_true(lmp_test_metric(&C.agent, "lmp_container_deaths_total",
				    "pod=\"storage-provisioner\"", NULL) == (double)printed);
	assert_true(lmp_test_metric(&C.agent, "lmp_container_deaths_total",
				    "pod=\"storage-provisioner\"", "cause=\"oom_kill\"") == 2);
	assert_true(lmp_test_metric(&C.agent, "lmp_container_deaths_total", "pod=\"kindnet-q6dh9\"",
				    "cause=\"oom_kill\"") == 1);
	assert_true(lmp_test_metric(&C.agent, "lmp_container_deaths_total",
				    "pod=\"storage-provisioner\"", "cause=\"kernel_signal\"") == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_process_oom_killed),
		cmocka_unit_test(test_worker_oom_killed_main_survives),
		cmocka_unit_test(test_sigterm_then_sigkill_grace_period),
		cmocka_unit_test(test_kill_from_another_pod),
		cmocka_unit_test(test_container_kills_its_own_process),
		cmocka_unit_test(test_sigsegv),
		cmocka_unit_test(test_exit_0),
		cmocka_unit_test(test_exit_3),
		cmocka_unit_test(test_host_process_no_death),
		cmocka_unit_test(test_runc_kill_after_grace_period),
		cmocka_unit_test(test_runc_oom_killed),
		cmocka_unit_test(test_api_why_and_metric),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

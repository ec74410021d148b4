// SPDX-License-Identifier: Apache-2.0
/*
 * sigsnoop against the real kernel: a sender in one pod's cgroup signals a target in
 * another pod's cgroup with kill, tkill and tgkill; both identities (cgroup ids and pods,
 * resolved through a fake kubelet) must be reported with the signal and the result. A kill
 * of a pid that does not exist gives ESRCH; a SIGSEGV from a fault is reported as a
 * kernel-generated signal; ignored signals (SIGCHLD) are not reported. Then every hook
 * alternative that works here (tp_btf/raw_tp sys_enter/exit, tracefs signal_generate).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

/* pods of fixtures/kubelet/nri-kubernetes_k8s-1_22_pods.json */
#define SENDER_REL                                                               \
	"kubepods.slice/kubepods-podc971f3b1_082a_4448_adf8_6ca14a9fee45.slice/" \
	"cri-containerd-11d9d0bc0acc90eefd786a66bab2cab6fc87ab8ef5e200bb2c9871807ad53b4d.scope"
#define TARGET_REL                                                           \
	"kubepods.slice/kubepods-besteffort.slice/"                          \
	"kubepods-besteffort-pod394f0746_6390_45cd_bf37_db389c0c7d1e.slice/" \
	"cri-containerd-7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8.scope"

static struct lmp_test_fixture F;

struct ctx {
	char sender_cg[4096], target_cg[4096];
	__u64 sender_id, target_id;
};

static struct ctx C;

static int make_cgroups(void)
{
	if (lmp_test_fixture_cgroup(&F, SENDER_REL, C.sender_cg, sizeof(C.sender_cg),
				    &C.sender_id) < 0)
		return -1;
	return lmp_test_fixture_cgroup(&F, TARGET_REL, C.target_cg, sizeof(C.target_cg),
				       &C.target_id);
}

static void paths_seen(struct lmp_test_agent *a, long tracefs);

static struct lmp_test_fixture F = {
	.probe = "sigsnoop",
	.args = (const char *const[]){ "--interval", "1", "--listen", "127.0.0.1:0", NULL },
	.alt_args = (const char *const[]){ "--interval", "1", NULL },
	.kubelet = "nri-kubernetes_k8s-1_22_pods.json",
	.setup = make_cgroups,
	.workload = paths_seen,
	.fallbacks = { { "tracepoint",
			 "probe sigsnoop: attached (enter=tp_btf,exit=tp_btf,generate=tp_btf)" },
		       { "tracepoint,tp_btf",
			 "probe sigsnoop: attached (enter=raw_tp,exit=raw_tp,generate=raw_tp)" },
		       { "tp_btf,raw_tp",
			 "probe sigsnoop: attached "
			 "(enter=tracepoint,exit=tracepoint,generate=tracepoint)",
			 true } },
};

/* ---- the target: catches SIGUSR1, SIGUSR2 and SIGHUP, exits when it has all three ---- */

static volatile sig_atomic_t got;

static void on_sig(int sig)
{
	got |= sig == SIGUSR1 ? 1 : sig == SIGUSR2 ? 2 : 4;
}

struct pipe_arg {
	int fd[2];
};

static int target(void *arg)
{
	struct pipe_arg *p = arg;
	struct sigaction sa = { .sa_handler = on_sig };
	sigset_t none;

	sigemptyset(&none);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	alarm(20); /* never outlive a failed test */
	if (write(p->fd[1], "r", 1) != 1)
		return 3;
	while (got != 7)
		sigsuspend(&none);
	return 0;
}

/* ---- the sender ---- */

struct send_arg {
	pid_t target, missing;
};

static int sender(void *arg)
{
	struct send_arg *s = arg;

	if (kill(s->target, SIGUSR1) < 0)
		return 10;
	usleep(20000); /* one signal at a time, so each is delivered, not merged */
	if (syscall(SYS_tkill, s->target, SIGUSR2) < 0)
		return 11;
	usleep(20000);
	if (syscall(SYS_tgkill, s->target, s->target, SIGHUP) < 0)
		return 12;
	if (kill(s->missing, SIGUSR1) == 0 || errno != ESRCH)
		return 13;
	return 0;
}

/* a pid that is free now (pid_max - 7 down), checked with kill(pid, 0) */
static pid_t missing_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	long max = 32768;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 32768;
		fclose(f);
	}
	for (pid_t p = max - 7; p > 300; p--)
		if (kill(p, 0) < 0 && errno == ESRCH)
			return p;
	return -1;
}

static json_t *wait_signal(struct lmp_test_agent *a, pid_t sender_pid, pid_t target_arg, int sig)
{
	struct lmp_test_fields w = { "sigsnoop",
				     "signal",
				     { "pid", "target_arg", "sig" },
				     { sender_pid, target_arg, sig } };

	return lmp_test_agent_wait(a, 5000, lmp_test_match_fields, &w);
}

/*
 * tracefs: the tracefs signal_generate record has no task pointer, so the target's cgroup
 * (and, for tkill, its process id) is unknown unless a task signals itself.
 */
static void assert_sent(json_t *ev, pid_t snd, pid_t tgt, int sig, const char *name,
			const char *syscall, const char *code, bool tracefs)
{
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "pid"), snd);
	assert_jstr(ev, "comm", "lmp-sig-sender");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.sender_id);
	assert_jstr(ev, "k8s.pod", "kindnet-q6dh9");
	assert_jstr(ev, "k8s.container", "kindnet-cni");
	assert_int_equal(lmp_test_jint(ev, "sig"), sig);
	assert_jstr(ev, "signal", name);
	assert_jstr(ev, "syscall", syscall);
	assert_jstr(ev, "code", code);
	assert_true(json_is_null(lmp_test_jget(ev, "result")));
	assert_jstr(ev, "delivery", "delivered");
	assert_int_equal(lmp_test_jint(ev, "target_arg"), tgt);
	assert_int_equal(lmp_test_jint(ev, "target_tid"), tgt);
	assert_jstr(ev, "target_comm", "lmp-sig-target");
	if (tracefs) {
		assert_int_equal(lmp_test_jint(ev, "target_pid"), sig == SIGUSR2 ? 0 : tgt);
		assert_int_equal(lmp_test_jint(ev, "target_cgroup_id"), 0);
		assert_null(lmp_test_jget(ev, "target_k8s"));
		return;
	}
	assert_int_equal(lmp_test_jint(ev, "target_pid"), tgt);
	assert_int_equal(lmp_test_jint(ev, "target_cgroup_id"), C.target_id);
	assert_non_null(lmp_test_jstr(ev, "target_cgroup"));
	assert_non_null(strstr(lmp_test_jstr(ev, "target_cgroup"), TARGET_REL));
	assert_jstr(ev, "target_k8s.pod", "storage-provisioner");
	assert_jstr(ev, "target_k8s.namespace", "kube-system");
	assert_jstr(ev, "target_k8s.container", "storage-provisioner");
}

/* target in one pod, sender in the other; returns the pids through *snd, *tgt */
static void run_exchange(pid_t *snd, pid_t *tgt, pid_t missing)
{
	struct pipe_arg p;
	struct send_arg s;
	char c;
	int st;

	assert_int_equal(pipe(p.fd), 0);
	*tgt = lmp_test_fork_in(C.target_cg, NULL, "lmp-sig-target", target, &p);
	assert_true(*tgt > 0);
	assert_int_equal(read(p.fd[0], &c, 1), 1);
	close(p.fd[0]);
	close(p.fd[1]);
	s.target = *tgt;
	s.missing = missing;
	*snd = lmp_test_fork_in(C.sender_cg, NULL, "lmp-sig-sender", sender, &s);
	st = lmp_test_wait_child(*snd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = lmp_test_wait_child(*tgt);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0); /* it received all three */
}

static void exchange_seen(struct lmp_test_agent *a, bool tracefs)
{
	pid_t snd, tgt, missing = missing_pid();
	json_t *ev;

	assert_true(missing > 0);
	run_exchange(&snd, &tgt, missing);
	assert_sent(wait_signal(a, snd, tgt, SIGUSR1), snd, tgt, SIGUSR1, "SIGUSR1", "kill",
		    "SI_USER", tracefs);
	assert_sent(wait_signal(a, snd, tgt, SIGUSR2), snd, tgt, SIGUSR2, "SIGUSR2", "tkill",
		    "SI_TKILL", tracefs);
	assert_sent(wait_signal(a, snd, tgt, SIGHUP), snd, tgt, SIGHUP, "SIGHUP", "tgkill",
		    "SI_TKILL", tracefs);

	/* no such process: the error, and no target task */
	ev = wait_signal(a, snd, missing, SIGUSR1);
	assert_non_null(ev);
	assert_jstr(ev, "result", "ESRCH");
	assert_jstr(ev, "syscall", "kill");
	assert_int_equal(lmp_test_jint(ev, "target_arg"), missing);
	assert_int_equal(lmp_test_jint(ev, "target_pid"), missing);
	assert_int_equal(lmp_test_jint(ev, "target_tid"), 0);
	assert_jstr(ev, "target_comm", "");
	assert_int_equal(lmp_test_jint(ev, "target_cgroup_id"), 0);
	assert_null(lmp_test_jget(ev, "target_k8s"));
	assert_jstr(ev, "delivery", "not_generated");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.sender_id);
}

static void test_kill_tkill_tgkill_between_pods(void **state)
{
	exchange_seen(&F.agent, false);
}

/* not instrumented: under SANITIZE=undefined the store would be caught, not faulted */
__attribute__((no_sanitize("undefined"))) static int segv(void *arg)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGSEGV, SIG_DFL); /* ASan's handler would exit(1) instead of dying of it */
	*(volatile int *)arg = 1; /* arg is NULL: a fault at address 0 */
	return 0;
}

static void segv_seen(struct lmp_test_agent *a)
{
	struct lmp_test_fields w = { "sigsnoop", "signal", { "target_pid", "sig" } };
	pid_t pid = lmp_test_fork_in(C.sender_cg, NULL, "lmp-sig-segv", segv, NULL);
	json_t *ev;
	int st;

	st = lmp_test_wait_child(pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	w.v[0] = pid;
	w.v[1] = SIGSEGV;
	ev = lmp_test_agent_wait(a, 5000, lmp_test_match_fields, &w);
	assert_non_null(ev);
	/* generated by the kernel while the faulting task ran: it is sender and target */
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_jstr(ev, "comm", "lmp-sig-segv");
	assert_jstr(ev, "signal", "SIGSEGV");
	assert_true(json_is_null(lmp_test_jget(ev, "syscall")));
	assert_jstr(ev, "code", "SEGV_MAPERR");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));
	assert_jstr(ev, "delivery", "delivered");
	assert_int_equal(lmp_test_jint(ev, "target_tid"), pid);
	assert_jstr(ev, "target_comm", "lmp-sig-segv");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.sender_id);
	assert_int_equal(lmp_test_jint(ev, "target_cgroup_id"), C.sender_id);
	assert_jstr(ev, "target_k8s.pod", "kindnet-q6dh9");
}

static void test_kernel_sigsegv(void **state)
{
	segv_seen(&F.agent);
}

static void test_sigchld_ignored_by_default(void **state)
{
	struct lmp_test_fields w = {
		"sigsnoop", "signal", { "target_pid", "sig" }, { getpid(), SIGCHLD }
	};

	/* every child above ended with a SIGCHLD to this process: none reported */
	lmp_test_agent_pump(&F.agent, 1000);
	assert_null(lmp_test_agent_wait(&F.agent, 0, lmp_test_match_fields, &w));
}

static void paths_seen(struct lmp_test_agent *a, long tracefs)
{
	exchange_seen(a, tracefs);
	segv_seen(a);
}

static void test_bad_ignore_list_exits_2(void **state)
{
	int rc = lmp_test_sh("%s run --listen none --probes sigsnoop --sigsnoop-ignore SIGFOO "
			     "--duration 1 2>/dev/null",
			     lmp_test_binary());

	assert_int_equal(rc, 2);
}

/* lmp_signals_total counts per receiving pod and signal what the events showed */
static void test_per_pod_metrics(void **state)
{
	static const struct {
		const char *pod, *signal;
		int sig;
	} rows[] = {
		{ "storage-provisioner", "SIGUSR1", SIGUSR1 },
		{ "storage-provisioner", "SIGUSR2", SIGUSR2 },
		{ "storage-provisioner", "SIGHUP", SIGHUP },
		{ "kindnet-q6dh9", "SIGSEGV", SIGSEGV },
	};
	int port = lmp_test_agent_http_port(&F.agent);

	assert_true(port > 0);
	lmp_test_agent_pump(&F.agent, 500);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		char pod[64], sig[32];
		json_t *ev;
		size_t i;
		int n = 0;

		json_array_foreach(F.agent.events, i, ev) {
			const char *p = lmp_test_jstr(ev, "target_k8s.pod");

			n += p && !strcmp(p, rows[r].pod) &&
			     lmp_test_jint(ev, "sig") == rows[r].sig &&
			     strcmp(lmp_test_jstr(ev, "delivery"), "not_generated");
		}
		assert_true(n >= 1);
		snprintf(pod, sizeof(pod), "pod=\"%s\"", rows[r].pod);
		snprintf(sig, sizeof(sig), "signal=\"%s\"", rows[r].signal);
		assert_int_equal(lmp_test_metric(&F.agent, "lmp_signals_total", pod, sig), n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_tkill_tgkill_between_pods),
		cmocka_unit_test(test_kernel_sigsegv),
		cmocka_unit_test(test_sigchld_ignored_by_default),
		LMP_TEST_FALLBACK("test_tp_btf_syscall_path", 0),
		LMP_TEST_FALLBACK("test_raw_tp_path", 1),
		LMP_TEST_FALLBACK("test_tracefs_generate_path", 2),
		cmocka_unit_test(test_bad_ignore_list_exits_2),
		cmocka_unit_test(test_per_pod_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

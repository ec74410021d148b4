// SPDX-License-Identifier: Apache-2.0
/*
 * oomkill against the real kernel: real OOM kills in a memory-limited cgroup v1 memory
 * controller group (this host is hybrid: memcg is v1) of processes that sit in pod-style
 * cgroup v2 directories named in a kubelet PodList (served over HTTPS by the fake kubelet).
 * The event must name the victim (pid, comm, cgroup v2 id, pod), the limit the test set, the
 * memcg scope and, when another task's allocation triggered the kill, that task and its pod.
 * sigsnoop runs alongside and must report the kernel's SIGKILL to the victim. The raw_tp
 * and tracefs variants are exercised too; fentry/kprobe are refused on this kernel.
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
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

#define LIMIT (32ULL << 20)

/* pods of fixtures/kubelet/nri-kubernetes_k8s-1_22_pods.json */
#define VICTIM_REL                                                           \
	"kubepods.slice/kubepods-besteffort.slice/"                          \
	"kubepods-besteffort-pod394f0746_6390_45cd_bf37_db389c0c7d1e.slice/" \
	"cri-containerd-7bf4cfeff51dcc65920dada06a63cbc8f40575a31e4c7f4cd891224867953ef8.scope"
#define TRIGGER_REL                                                              \
	"kubepods.slice/kubepods-podc971f3b1_082a_4448_adf8_6ca14a9fee45.slice/" \
	"cri-containerd-11d9d0bc0acc90eefd786a66bab2cab6fc87ab8ef5e200bb2c9871807ad53b4d.scope"

static struct lmp_test_fixture F;

struct ctx {
	char memcg_name[128];
	char victim_cg[4096], trigger_cg[4096], memcg[4096];
	__u64 victim_id, trigger_id;
};

static struct ctx C;

static int make_cgroups(void)
{
	if (lmp_test_fixture_cgroup(&F, VICTIM_REL, C.victim_cg, sizeof(C.victim_cg),
				    &C.victim_id) < 0 ||
	    lmp_test_fixture_cgroup(&F, TRIGGER_REL, C.trigger_cg, sizeof(C.trigger_cg),
				    &C.trigger_id) < 0)
		return -1;
	snprintf(C.memcg_name, sizeof(C.memcg_name), "lmp-test-oomkill-%d", getpid());
	return lmp_test_memcg_v1_create(C.memcg_name, LIMIT, C.memcg, sizeof(C.memcg));
}

static void remove_memcg(void)
{
	lmp_test_memcg_v1_remove(C.memcg);
}

static void hog_killed(struct lmp_test_agent *a, long unused);

static struct lmp_test_fixture F = {
	.probe = "oomkill,sigsnoop",
	.name = "oomkill",
	.args = (const char *const[]){ "--interval", "1", "--listen", "127.0.0.1:0", NULL },
	.alt_args = (const char *const[]){ "--interval", "1", NULL },
	.kubelet = "nri-kubernetes_k8s-1_22_pods.json",
	.setup = make_cgroups,
	.teardown = remove_memcg,
	.workload = hog_killed,
	.fallbacks = { { "tp_btf", "probe oomkill: attached (victim=raw_tp)" },
		       { "tp_btf,raw_tp", "probe oomkill: attached (victim=tracepoint)" } },
};

/* allocates far past the limit: the OOM killer must pick this task */
static int hog(void *arg)
{
	lmp_test_oom_score_adj(500);
	lmp_test_touch(200ULL << 20, 3);
	return 0; /* not reached: killed */
}

static void assert_victim(json_t *ev, pid_t pid, const char *comm, int adj)
{
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_int_equal(lmp_test_jint(ev, "tid"), pid);
	assert_jstr(ev, "comm", comm);
	assert_int_equal(lmp_test_jint(ev, "uid"), 0);
	/* the victim's own cgroup v2 and pod, not whoever was running */
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.victim_id);
	assert_non_null(lmp_test_jstr(ev, "cgroup"));
	assert_non_null(strstr(lmp_test_jstr(ev, "cgroup"), VICTIM_REL));
	assert_jstr(ev, "k8s.pod", "storage-provisioner");
	assert_jstr(ev, "k8s.namespace", "kube-system");
	assert_jstr(ev, "k8s.container", "storage-provisioner");
	assert_int_equal(lmp_test_jint(ev, "oom_score_adj"), adj);
	assert_jstr(ev, "scope", "memcg");
	assert_jstr(ev, "victim_source", "task");
	/* the memcg is v1 here; its limit is the one the test wrote */
	assert_jstr(ev, "memcg.hierarchy", "v1");
	assert_int_equal(lmp_test_jint(ev, "memcg.limit_bytes"), LIMIT);
	assert_int_equal(lmp_test_jint(ev, "memcg.levels_up"), 0);
	assert_true(lmp_test_jint(ev, "memcg.usage_bytes") > (long long)(LIMIT / 2));
	assert_true(lmp_test_jint(ev, "memcg.usage_bytes") <= (long long)LIMIT);
	assert_non_null(lmp_test_jstr(ev, "memcg.path"));
	assert_string_equal(strrchr(lmp_test_jstr(ev, "memcg.path"), '/') + 1, C.memcg_name);
	/* the victim held most of the group's memory, and no more than the limit */
	assert_true(lmp_test_jint(ev, "anon_rss_bytes") >= (long long)(LIMIT / 2));
	assert_int_equal(lmp_test_jint(ev, "rss_bytes"),
			 lmp_test_jint(ev, "anon_rss_bytes") + lmp_test_jint(ev, "file_rss_bytes") +
				 lmp_test_jint(ev, "shmem_rss_bytes"));
	assert_true(lmp_test_jint(ev, "total_vm_bytes") >= (long long)(200ULL << 20));
}

static json_t *wait_kill(struct lmp_test_agent *a, pid_t pid)
{
	struct lmp_test_fields w = { "oomkill", "kill", { "pid" }, { pid } };

	return lmp_test_agent_wait(a, 10000, lmp_test_match_fields, &w);
}

static pid_t run_hog(void)
{
	pid_t pid = lmp_test_fork_in(C.victim_cg, C.memcg, "lmp-oom-victim", hog, NULL);
	int st;

	assert_true(pid > 0);
	st = lmp_test_wait_child(pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	return pid;
}

static void test_memcg_oom_kill_reports_victim_and_limit(void **state)
{
	struct lmp_test_fields sig = { "sigsnoop", "signal", { "target_pid", "sig" } };
	pid_t pid = run_hog();
	json_t *ev = wait_kill(&F.agent, pid);

	assert_victim(ev, pid, "lmp-oom-victim", 500);
	/* it allocated itself into the OOM: no separate trigger */
	assert_null(json_object_get(ev, "trigger"));

	/* the OOM killer's SIGKILL, generated by the kernel, for the same task and pod */
	sig.v[0] = pid;
	sig.v[1] = SIGKILL;
	ev = lmp_test_agent_wait(&F.agent, 5000, lmp_test_match_fields, &sig);
	assert_non_null(ev);
	assert_jstr(ev, "signal", "SIGKILL");
	assert_true(json_is_null(lmp_test_jget(ev, "syscall")));
	assert_jstr(ev, "code", "SI_KERNEL");
	assert_jstr(ev, "delivery", "delivered");
	assert_int_equal(lmp_test_jint(ev, "target_tid"), pid);
	assert_jstr(ev, "target_comm", "lmp-oom-victim");
	assert_int_equal(lmp_test_jint(ev, "target_cgroup_id"), C.victim_id);
	assert_jstr(ev, "target_k8s.pod", "storage-provisioner");
	assert_int_equal(lmp_test_jint(ev, "pid"), pid); /* sent while the victim ran */
}

struct pair {
	int ready[2];
};

/* holds 20 MiB and waits; oom_score_adj 1000 makes it the first choice */
static int holder(void *arg)
{
	struct pair *p = arg;

	lmp_test_oom_score_adj(1000);
	lmp_test_touch(20ULL << 20, 3);
	if (write(p->ready[1], "r", 1) != 1)
		return 4;
	for (;;)
		pause();
}

/* 16 MiB on top pushes the group over 32 MiB; after the kill it should fit */
static int trigger(void *arg)
{
	for (int i = 0; i < 16; i++)
		lmp_test_touch(1ULL << 20, 3);
	return 0;
}

static void test_memcg_oom_kill_names_the_trigger(void **state)
{
	struct pair p;
	pid_t victim, trig;
	json_t *ev;
	char c;
	int st, tst;

	assert_int_equal(pipe(p.ready), 0);
	victim = lmp_test_fork_in(C.victim_cg, C.memcg, "lmp-oom-holder", holder, &p);
	assert_int_equal(read(p.ready[0], &c, 1), 1);
	trig = lmp_test_fork_in(C.trigger_cg, C.memcg, "lmp-oom-trigger", trigger, NULL);
	tst = lmp_test_wait_child(trig);
	st = lmp_test_wait_child(victim);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	close(p.ready[0]);
	close(p.ready[1]);

	ev = wait_kill(&F.agent, victim);
	assert_non_null(ev);
	assert_int_equal(lmp_test_jint(ev, "pid"), victim);
	assert_jstr(ev, "comm", "lmp-oom-holder");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.victim_id);
	assert_jstr(ev, "k8s.pod", "storage-provisioner");
	assert_int_equal(lmp_test_jint(ev, "oom_score_adj"), 1000);
	assert_jstr(ev, "scope", "memcg");
	assert_int_equal(lmp_test_jint(ev, "memcg.limit_bytes"), LIMIT);
	assert_true(lmp_test_jint(ev, "anon_rss_bytes") >= (long long)(20ULL << 20));
	/* the allocating task, its own cgroup and pod */
	assert_int_equal(lmp_test_jint(ev, "trigger.pid"), trig);
	assert_int_equal(lmp_test_jint(ev, "trigger.tid"), trig);
	assert_jstr(ev, "trigger.comm", "lmp-oom-trigger");
	assert_int_equal(lmp_test_jint(ev, "trigger.cgroup_id"), C.trigger_id);
	assert_jstr(ev, "trigger.k8s.pod", "kindnet-q6dh9");
	assert_jstr(ev, "trigger.k8s.container", "kindnet-cni");

	/*
	 * The trigger usually finishes once the holder's memory is freed, but the kernel may
	 * run out again before the dying holder has released its pages and kill the trigger
	 * too: then that is a second, self-inflicted kill, reported as such.
	 */
	if (WIFEXITED(tst)) {
		assert_int_equal(WEXITSTATUS(tst), 0);
	} else {
		assert_int_equal(WTERMSIG(tst), SIGKILL);
		ev = wait_kill(&F.agent, trig);
		assert_non_null(ev);
		assert_int_equal(lmp_test_jint(ev, "cgroup_id"), C.trigger_id);
		assert_jstr(ev, "k8s.pod", "kindnet-q6dh9");
		assert_null(json_object_get(ev, "trigger"));
	}
}

/* the same kill seen through the raw_tp and the tracefs variants */
static void hog_killed(struct lmp_test_agent *a, long unused)
{
	pid_t pid = run_hog();

	assert_victim(wait_kill(a, pid), pid, "lmp-oom-victim", 500);
}

static void test_fentry_kprobe_refused_here(void **state)
{
	/* with the tracepoints ruled out, what is left (fentry, kprobe) cannot run here */
	lmp_test_assert_unsupported(
		"oomkill", "tp_btf,raw_tp,tracepoint",
		(const char *const[]){ "victim: fentry:", "victim: kprobe:", NULL });
}

/* events of the main agent for a pod: oomkill kills, or sigsnoop SIGKILLs received */
static int count_for_pod(const char *probe, const char *key, const char *pod)
{
	json_t *ev;
	size_t i;
	int n = 0;

	json_array_foreach(F.agent.events, i, ev) {
		const char *p = lmp_test_jstr(ev, key);

		if (strcmp(lmp_test_jstr(ev, "probe"), probe) || !p || strcmp(p, pod))
			continue;
		if (!strcmp(probe, "sigsnoop") && lmp_test_jint(ev, "sig") != SIGKILL)
			continue;
		n++;
	}
	return n;
}

static void test_per_pod_metrics(void **state)
{
	int port = lmp_test_agent_http_port(&F.agent);
	const char *pods[] = { "storage-provisioner", "kindnet-q6dh9" };

	assert_true(port > 0);
	lmp_test_agent_pump(&F.agent, 500);
	for (int i = 0; i < 2; i++) {
		char label[64];
		int kills = count_for_pod("oomkill", "k8s.pod", pods[i]);
		int sigkills = count_for_pod("sigsnoop", "target_k8s.pod", pods[i]);

		snprintf(label, sizeof(label), "pod=\"%s\"", pods[i]);
		if (!kills) { /* the trigger's pod, when the trigger survived */
			assert_true(lmp_test_metric(&F.agent, "lmp_oom_kills_total", label, NULL) <
				    0);
			continue;
		}
		assert_int_equal(lmp_test_metric(&F.agent, "lmp_oom_kills_total", label, NULL),
				 kills);
		assert_int_equal(lmp_test_metric(&F.agent, "lmp_signals_total", label,
						 "signal=\"SIGKILL\""),
				 sigkills);
		assert_int_equal(sigkills, kills); /* each victim got its SIGKILL */
		if (i == 0) /* self, holder, raw_tp and tracefs runs at least */
			assert_true(kills >= 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcg_oom_kill_reports_victim_and_limit),
		cmocka_unit_test(test_memcg_oom_kill_names_the_trigger),
		LMP_TEST_FALLBACK("test_raw_tp_path", 0),
		LMP_TEST_FALLBACK("test_tracepoint_path", 1),
		cmocka_unit_test(test_fentry_kprobe_refused_here),
		cmocka_unit_test(test_per_pod_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

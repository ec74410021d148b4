// SPDX-License-Identifier: Apache-2.0
/*
 * --drop-caps (agent/base/caps.c) on the real agent: after "ready:" its capability sets in
 * /proc/<pid>/status hold exactly what its running probes use at run time (nothing for
 * process and syscall; ptrace and checkpoint/restore for profile; perfmon, sys_admin, bpf,
 * ptrace and checkpoint/restore for memleak), the bounding, inheritable and ambient sets are empty and
 * no_new_privs is set; and the agent keeps working with that: events, per-interval map
 * reads, HTTP, a clean stop. Then the DaemonSet's own set (BPF, PERFMON, SYS_PTRACE,
 * SYSLOG) through capsh, and --drop-caps=false.
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
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

#define CAP_SYS_PTRACE_BIT 19
#define CAP_SYS_ADMIN_BIT 21
#define CAP_SYSLOG_BIT 34
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define CAP_CHECKPOINT_RESTORE_BIT 40
#define BIT(c) (1ULL << (c))

static char lmp[4096]; /* the real agent binary */

/* $LMP by its real path: wrappers and child processes run it from elsewhere */
static int pin_binary(void)
{
	if (!realpath(lmp_test_binary(), lmp))
		return -1;
	return setenv("LMP", lmp, 1);
}

static struct lmp_test_fixture F = { .name = "caps", .tmpdir = true, .setup = pin_binary };

struct caps {
	unsigned long long inh, prm, eff, bnd, amb;
	int no_new_privs;
};

static void read_caps(pid_t pid, struct caps *c)
{
	char path[64], line[256];
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->no_new_privs = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapInh: %llx", &c->inh);
		sscanf(line, "CapPrm: %llx", &c->prm);
		sscanf(line, "CapEff: %llx", &c->eff);
		sscanf(line, "CapBnd: %llx", &c->bnd);
		sscanf(line, "CapAmb: %llx", &c->amb);
		sscanf(line, "NoNewPrivs: %d", &c->no_new_privs);
	}
	fclose(f);
}

/* bnd: the bounding set expected (only clearable with CAP_SETPCAP) */
static void assert_dropped_to(pid_t pid, unsigned long long want, unsigned long long bnd)
{
	struct caps c;

	read_caps(pid, &c);
	print_message("agent: CapEff %016llx CapPrm %016llx CapBnd %016llx NoNewPrivs %d\n", c.eff,
		      c.prm, c.bnd, c.no_new_privs);
	assert_int_equal(c.eff, want);
	assert_int_equal(c.prm, want);
	assert_int_equal(c.bnd, bnd);
	assert_int_equal(c.inh, 0);
	assert_int_equal(c.amb, 0);
	assert_int_equal(c.no_new_privs, 1);
}

static bool is_exec_here(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));
	const char *event = json_string_value(json_object_get(ev, "event"));

	return probe && !strcmp(probe, "process") && event && !strcmp(event, "exec") &&
	       json_integer_value(json_object_get(ev, "pid")) == *(pid_t *)ctx;
}

static bool is_syscall_row_here(json_t *ev, void *ctx)
{
	const char *probe = json_string_value(json_object_get(ev, "probe"));

	return probe && !strcmp(probe, "syscall") &&
	       (__u64)json_integer_value(json_object_get(ev, "cgroup_id")) == F.cgid &&
	       json_integer_value(json_object_get(ev, "pid")) == *(pid_t *)ctx;
}

/* a /bin/true in the test cgroup, seen by the process probe */
static pid_t exec_seen(struct lmp_test_agent *a)
{
	pid_t pid = lmp_test_spawn(F.cg, (char *const[]){ "/bin/true", NULL });

	assert_true(pid > 0);
	assert_int_equal(lmp_test_wait_child(pid), 0);
	assert_non_null(lmp_test_agent_wait(a, 5000, is_exec_here, &pid));
	return pid;
}

static int http_status(struct lmp_test_agent *a, const char *path)
{
	int port = lmp_test_agent_http_port(a), code;
	char *resp;

	assert_true(port > 0);
	resp = lmp_test_http_get(a, port, path, 10000);
	assert_non_null(resp);
	code = lmp_test_http_status(resp);
	free(resp);
	return code;
}

static void stop_clean(struct lmp_test_agent *a)
{
	assert_true(lmp_test_agent_stop(a, 2000) >= 0);
	assert_true(WIFEXITED(a->status));
	assert_int_equal(WEXITSTATUS(a->status), 0);
}

static void test_caps_dropped_to_nothing_and_still_working(void **state)
{
	struct lmp_test_agent a;
	pid_t pid;

	assert_int_equal(
		lmp_test_agent_start(&a, (const char *const[]){ "--probes", "process,syscall",
								"--interval", "1", "--top", "1000",
								"--listen", "127.0.0.1:0", NULL }),
		0);
	assert_true(lmp_test_agent_stderr_has(&a, "capabilities: dropped "));
	assert_true(lmp_test_agent_stderr_has(&a, "kept none (what the running probes use at run "
						  "time); map reads work without cap_bpf"));
	assert_dropped_to(a.pid, 0, 0);
	/* ring buffer events, interval map reads (syscall rows of our process), HTTP */
	pid = exec_seen(&a);
	assert_non_null(lmp_test_agent_wait(&a, 5000, is_syscall_row_here, &pid));
	assert_int_equal(http_status(&a, "/healthz"), 200);
	assert_int_equal(http_status(&a, "/metrics"), 200);
	stop_clean(&a);
	lmp_test_agent_free(&a);
}

static void test_caps_kept_for_profile_and_memleak(void **state)
{
	struct lmp_test_agent a, b;
	unsigned long long want;
	char pidarg[16];
	pid_t target;

	assert_int_equal(lmp_test_agent_start(&a, (const char *const[]){ "--probes",
									 "process,profile", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "kept cap_sys_ptrace,cap_checkpoint_restore"));
	assert_dropped_to(a.pid, BIT(CAP_SYS_PTRACE_BIT) | BIT(CAP_CHECKPOINT_RESTORE_BIT),
			  BIT(CAP_SYS_PTRACE_BIT) | BIT(CAP_CHECKPOINT_RESTORE_BIT));
	exec_seen(&a);
	stop_clean(&a);

	/* memleak re-attaches to its target's processes every interval */
	target = lmp_test_spawn(F.cg, (char *const[]){ "/bin/sleep", "30", NULL });
	assert_true(target > 0);
	snprintf(pidarg, sizeof(pidarg), "%d", target);
	assert_int_equal(lmp_test_agent_start(&b, (const char *const[]){ "--probes", "memleak",
									 "--memleak-pid", pidarg,
									 "--interval", "1", NULL }),
			 0);
	want = BIT(CAP_SYS_PTRACE_BIT) | BIT(CAP_SYS_ADMIN_BIT) | BIT(CAP_PERFMON_BIT) |
	       BIT(CAP_BPF_BIT) | BIT(CAP_CHECKPOINT_RESTORE_BIT);
	assert_dropped_to(b.pid, want, want);
	lmp_test_agent_pump(&b, 2500); /* two intervals of rescans with what is left */
	assert_false(lmp_test_agent_stderr_has(&b, " error: "));
	stop_clean(&b);
	kill(target, SIGKILL);
	lmp_test_wait_child(target);
	lmp_test_agent_free(&a);
	lmp_test_agent_free(&b);
}

/* the DaemonSet's set only (k8s/daemonset.yaml): the bounding set of a root exec is all */
static void test_caps_daemonset_set(void **state)
{
	static const char *const others[] = {
		"cap_chown",
		"cap_dac_override",
		"cap_dac_read_search",
		"cap_fowner",
		"cap_fsetid",
		"cap_kill",
		"cap_setgid",
		"cap_setuid",
		"cap_setpcap",
		"cap_linux_immutable",
		"cap_net_bind_service",
		"cap_net_broadcast",
		"cap_net_admin",
		"cap_net_raw",
		"cap_ipc_lock",
		"cap_ipc_owner",
		"cap_sys_module",
		"cap_sys_rawio",
		"cap_sys_chroot",
		"cap_sys_pacct",
		"cap_sys_admin",
		"cap_sys_boot",
		"cap_sys_nice",
		"cap_sys_resource",
		"cap_sys_time",
		"cap_sys_tty_config",
		"cap_mknod",
		"cap_lease",
		"cap_audit_write",
		"cap_audit_control",
		"cap_setfcap",
		"cap_mac_override",
		"cap_mac_admin",
		"cap_wake_alarm",
		"cap_block_suspend",
		"cap_audit_read",
		"cap_checkpoint_restore",
	};
	char wrapper[256], drop[1024] = "";
	struct lmp_test_agent a;
	FILE *f;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		snprintf(drop + strlen(drop), sizeof(drop) - strlen(drop), "%s%s", i ? "," : "",
			 others[i]);
	snprintf(wrapper, sizeof(wrapper), "%s/daemonset-caps.sh", F.dir);
	f = fopen(wrapper, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nexec capsh --drop=%s -- -c 'exec \"$0\" \"$@\"' '%s' \"$@\"\n", drop,
		lmp);
	fclose(f);
	assert_int_equal(chmod(wrapper, 0755), 0);
	setenv("LMP", wrapper, 1);
	assert_int_equal(
		lmp_test_agent_start(&a, (const char *const[]){ "--probes",
								"process,syscall,tcp,opensnoop",
								"--interval", "1", NULL }),
		0);
	setenv("LMP", lmp, 1);
	assert_true(lmp_test_agent_stderr_has(&a, "ready: 4 probes running"));
	assert_true(lmp_test_agent_stderr_has(&a, "capabilities: dropped 4 after attach, kept "
						  "none"));
	/* without CAP_SETPCAP the bounding set stays; no_new_privs makes it moot */
	assert_true(lmp_test_agent_stderr_has(&a, "bounding set left as it was"));
	assert_dropped_to(a.pid, 0,
			  BIT(CAP_BPF_BIT) | BIT(CAP_PERFMON_BIT) | BIT(CAP_SYS_PTRACE_BIT) |
				  BIT(CAP_SYSLOG_BIT));
	exec_seen(&a);
	stop_clean(&a);
	lmp_test_agent_free(&a);
}

static void test_caps_kept_when_asked(void **state)
{
	struct lmp_test_agent a;
	struct caps mine, agent;

	assert_int_equal(lmp_test_agent_start(&a,
					      (const char *const[]){ "--probes", "process",
								     "--drop-caps=false", NULL }),
			 0);
	assert_true(lmp_test_agent_stderr_has(&a, "capabilities: all kept (--drop-caps=false)"));
	read_caps(getpid(), &mine);
	read_caps(a.pid, &agent);
	assert_int_equal(agent.eff, mine.eff);
	assert_int_equal(agent.bnd, mine.bnd);
	stop_clean(&a);
	lmp_test_agent_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_dropped_to_nothing_and_still_working),
		cmocka_unit_test(test_caps_kept_for_profile_and_memleak),
		cmocka_unit_test(test_caps_daemonset_set),
		cmocka_unit_test(test_caps_kept_when_asked),
	};

	return lmp_test_fixture_run_tests(&F, tests);
}

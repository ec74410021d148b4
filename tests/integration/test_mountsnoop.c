// SPDX-License-Identifier: Apache-2.0
/*
 * mountsnoop against the real kernel: a process in a fresh cgroup and its own mount
 * namespace mounts a tmpfs with flags and options, unmounts it lazily, fails a mount on a
 * missing directory (ENOENT), then mounts a tmpfs again through the new mount API (fsopen,
 * fsconfig, fsmount, move_mount) and unmounts it. Every event is checked against what the
 * process did and saw (its fds, its mount namespace). Then the tp_btf/raw_tp fallbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probe_check.h"

/* include/uapi/linux/mount.h (not included: it clashes with glibc 2.36's sys/mount.h) */
#define T_FSOPEN_CLOEXEC 0x1
#define T_FSCONFIG_SET_STRING 1
#define T_FSCONFIG_CMD_CREATE 6
#define T_FSMOUNT_CLOEXEC 0x1
#define T_MOUNT_ATTR_NODEV 0x4
#define T_MOUNT_ATTR_NOEXEC 0x8
#define T_MOVE_MOUNT_F_EMPTY_PATH 0x4

static void mounts_seen(struct lmp_test_agent *a, long unused);

static struct lmp_test_fixture F = {
	.probe = "mountsnoop",
	.args = (const char *const[]){ "--listen", "127.0.0.1:0", "--interval", "1", NULL },
	.tmpdir = true,
	.workload = mounts_seen,
	.fallbacks = { { "tracepoint", "probe mountsnoop: attached (enter=tp_btf,exit=tp_btf)" },
		       { "tracepoint,tp_btf",
			 "probe mountsnoop: attached (enter=raw_tp,exit=raw_tp)" } },
};

struct seen {
	unsigned long long mnt_ns;
	int fsfd, mfd, err_missing;
};

struct mount_arg {
	int pipe[2];
	char missing[128];
};

static int mounter(void *arg)
{
	struct mount_arg *m = arg;
	struct stat st;
	struct seen s;

	/* a private mount namespace: nothing leaks to the host, even on failure */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 10;
	if (stat("/proc/self/ns/mnt", &st) < 0)
		return 11;
	s.mnt_ns = st.st_ino;
	if (mount("lmp-tmpfs", F.dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") < 0)
		return 12;
	if (umount2(F.dir, MNT_DETACH) < 0)
		return 13;
	if (mount("lmp-missing", m->missing, "tmpfs", 0, NULL) == 0)
		return 14;
	s.err_missing = errno;

	s.fsfd = syscall(SYS_fsopen, "tmpfs", T_FSOPEN_CLOEXEC);
	if (s.fsfd < 0)
		return 15;
	if (syscall(SYS_fsconfig, s.fsfd, T_FSCONFIG_SET_STRING, "size", "2m", 0) < 0 ||
	    syscall(SYS_fsconfig, s.fsfd, T_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return 16;
	s.mfd = syscall(SYS_fsmount, s.fsfd, T_FSMOUNT_CLOEXEC,
			T_MOUNT_ATTR_NODEV | T_MOUNT_ATTR_NOEXEC);
	if (s.mfd < 0)
		return 17;
	if (syscall(SYS_move_mount, s.mfd, "", AT_FDCWD, F.dir, T_MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return 18;
	close(s.mfd); /* an open fd on the mount would keep it busy */
	close(s.fsfd);
	if (umount2(F.dir, 0) < 0)
		return 19;
	return write(m->pipe[1], &s, sizeof(s)) == sizeof(s) ? 0 : 20;
}

struct want {
	pid_t pid;
	const char *event, *key, *val; /* key NULL: any */
};

static bool match(json_t *ev, void *ctx)
{
	const struct want *w = ctx;
	struct lmp_test_fields f = { "mountsnoop", w->event, { "pid" }, { w->pid } };
	const char *v = w->key ? lmp_test_jstr(ev, w->key) : NULL;

	return lmp_test_match_fields(ev, &f) && (!w->key || (v && !strcmp(v, w->val)));
}

static json_t *wait_for(struct lmp_test_agent *a, pid_t pid, const char *event, const char *key,
			const char *val)
{
	struct want w = { pid, event, key, val };
	json_t *ev = lmp_test_agent_wait(a, 5000, match, &w);

	if (!ev)
		fail_msg("no mountsnoop %s event with %s=%s for pid %d", event, key ? key : "-",
			 val ? val : "-", pid);
	return ev;
}

static void assert_common(json_t *ev, pid_t pid, const struct seen *s)
{
	assert_int_equal(lmp_test_jint(ev, "pid"), pid);
	assert_jstr(ev, "comm", "lmp-mounter");
	assert_int_equal(lmp_test_jint(ev, "cgroup_id"), F.cgid);
	assert_int_equal(lmp_test_jint(ev, "mnt_ns"), s->mnt_ns);
}

static void mounts_seen(struct lmp_test_agent *a, long unused)
{
	struct mount_arg m;
	struct seen s;
	json_t *ev;
	pid_t pid;
	int st;

	snprintf(m.missing, sizeof(m.missing), "%s/missing-%d", F.dir, getpid());
	assert_int_equal(pipe(m.pipe), 0);
	pid = lmp_test_fork_in(F.cg, NULL, "lmp-mounter", mounter, &m);
	st = lmp_test_wait_child(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(m.pipe[0], &s, sizeof(s)), sizeof(s));
	close(m.pipe[0]);
	close(m.pipe[1]);

	ev = wait_for(a, pid, "mount", "source", "lmp-tmpfs");
	assert_common(ev, pid, &s);
	assert_jstr(ev, "target", F.dir);
	assert_jstr(ev, "fstype", "tmpfs");
	assert_jstr(ev, "flags", "MS_NOSUID|MS_NODEV");
	assert_jstr(ev, "data", "size=1m,mode=0700");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	ev = wait_for(a, pid, "umount", "flags", "MNT_DETACH");
	assert_common(ev, pid, &s);
	assert_jstr(ev, "target", F.dir);
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	assert_int_equal(s.err_missing, ENOENT);
	ev = wait_for(a, pid, "mount", "target", m.missing);
	assert_common(ev, pid, &s);
	assert_jstr(ev, "source", "lmp-missing");
	assert_jstr(ev, "flags", "0");
	assert_jstr(ev, "result", "ENOENT");

	ev = wait_for(a, pid, "fsopen", NULL, NULL);
	assert_common(ev, pid, &s);
	assert_jstr(ev, "fstype", "tmpfs");
	assert_jstr(ev, "flags", "FSOPEN_CLOEXEC");
	assert_int_equal(lmp_test_jint(ev, "fd"), s.fsfd);

	ev = wait_for(a, pid, "fsconfig", "cmd", "FSCONFIG_SET_STRING");
	assert_common(ev, pid, &s);
	assert_int_equal(lmp_test_jint(ev, "fs_fd"), s.fsfd);
	assert_jstr(ev, "key", "size");
	assert_jstr(ev, "value", "2m");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	ev = wait_for(a, pid, "fsconfig", "cmd", "FSCONFIG_CMD_CREATE");
	assert_int_equal(lmp_test_jint(ev, "fs_fd"), s.fsfd);
	assert_null(lmp_test_jget(ev, "key"));
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	ev = wait_for(a, pid, "fsmount", NULL, NULL);
	assert_common(ev, pid, &s);
	assert_int_equal(lmp_test_jint(ev, "fs_fd"), s.fsfd);
	assert_jstr(ev, "flags", "FSMOUNT_CLOEXEC");
	assert_jstr(ev, "attr", "MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC");
	assert_int_equal(lmp_test_jint(ev, "fd"), s.mfd);

	ev = wait_for(a, pid, "move_mount", NULL, NULL);
	assert_common(ev, pid, &s);
	assert_int_equal(lmp_test_jint(ev, "from_dfd"), s.mfd);
	assert_jstr(ev, "from_path", "");
	assert_jstr(ev, "to_dfd", "AT_FDCWD");
	assert_jstr(ev, "to_path", F.dir);
	assert_jstr(ev, "flags", "MOVE_MOUNT_F_EMPTY_PATH");
	assert_true(json_is_null(lmp_test_jget(ev, "result")));

	ev = wait_for(a, pid, "umount", "flags", "0");
	assert_common(ev, pid, &s);
	assert_jstr(ev, "target", F.dir);
}

static void test_tmpfs_mount_umount_and_new_api(void **state)
{
	mounts_seen(&F.agent, 0);
}

static void test_metrics(void **state)
{
	int port = lmp_test_agent_http_port(&F.agent);

	assert_true(port > 0);
	/* non-pod cgroups share one series per call: at least this test's calls (3 runs) */
	assert_true(lmp_test_metric(&F.agent, "lmp_mounts_total", "syscall=\"mount\"", NULL) >= 9);
	assert_true(lmp_test_metric(&F.agent, "lmp_mounts_total", "syscall=\"umount\"", NULL) >= 6);
	assert_true(lmp_test_metric(&F.agent, "lmp_mounts_total", "syscall=\"fsconfig\"", NULL) >=
		    6);
	assert_true(lmp_test_metric(&F.agent, "lmp_mounts_total", "syscall=\"move_mount\"", NULL) >=
		    3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmpfs_mount_umount_and_new_api),
		LMP_TEST_FALLBACK("test_tp_btf_path", 0),
		LMP_TEST_FALLBACK("test_raw_tp_path", 1),
		cmocka_unit_test(test_metrics),
		LMP_TEST_CLEAN_STOP,
	};

	return lmp_test_fixture_run_tests(&F, tests);
}
